"""The stacked training loop: one group of M models, one batched forward/backward per step.

Model ``m`` replays exactly what :func:`samplescope.training.fit` does for it alone: the same
initial weights (its factory called under ``torch.manual_seed(init_seeds[m])``), the same
batches (:func:`samplescope.training.batching.batch_order` on a generator seeded
``seeds[m]``), the same dropout masks (a second generator seeded ``seeds[m]``, drawn on its
unpadded batch as ``nn.Dropout`` draws them), the same optimizer arithmetic. Uneven training
sets are padded to the largest batch and the padded rows masked out of each model's mean loss.

With ``cfg["record_margins"]`` (default off) the loop also sums, per model ``m`` and row
``i`` of ``x_all``, the logit margin ``z_y - max_{j≠y} z_j`` of every training update in which
model m saw row i (the train-mode logits of its forward pass, before the step: Pleiss et al.
2020's AUM ingredients, as :class:`samplescope.difficulty.AUM` records them from the batches
of one fit) and the number of such updates; :func:`fit_group` then returns them as a fourth
item ``(margin_sum, margin_count)``, each ``(M, N)`` float64.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from ..._progress import progress_bar
from ..batching import batch_order, steps_per_epoch
from .models import pad_index_sets
from .optimizer import StackedOptimizer
from .plan import layer_plan, linear_layers

__all__ = ["build_model", "fit_group"]


_INIT_LOCK = threading.Lock()


def build_model(model_fn: Callable[..., nn.Module], seed: int, seeded: bool) -> nn.Module:
    """``torch.manual_seed(seed); model_fn(seed) if seeded else model_fn()``.

    Initialisation is the one use of torch's global RNG in the stacked trainer (shuffles and
    dropout use per-model generators); the lock keeps groups trained on threads of one
    process from interleaving their seeded initialisations."""
    with _INIT_LOCK:
        torch.manual_seed(int(seed))
        return model_fn(int(seed)) if seeded else model_fn()


def _stack_init(
    model_fn: Callable[..., nn.Module], init_seeds: Sequence[int], seeded: bool = False
) -> tuple[list[tuple[str, Any]], list[torch.Tensor], list[torch.Tensor | None]]:
    nets = [build_model(model_fn, s, seeded) for s in init_seeds]
    plan = layer_plan(nets[0])
    if plan is None:
        raise ValueError("model_fn: expected a network supported by vectorised training")
    lin = [linear_layers(n) for n in nets]
    weights = [
        torch.stack([ls[k].weight.detach().T for ls in lin]).contiguous()
        for k in range(len(lin[0]))
    ]
    biases: list[torch.Tensor | None] = []
    for k in range(len(lin[0])):
        if lin[0][k].bias is None:
            biases.append(None)
        else:
            biases.append(
                torch.stack([ls[k].bias.detach() for ls in lin]).unsqueeze(1).contiguous()
            )
    return plan, weights, biases


def fit_group(
    model_fn: Callable[[], nn.Module],
    x_all: np.ndarray,
    y_all: np.ndarray,
    index_sets: Sequence[np.ndarray],
    seeds: Sequence[int],
    init_seeds: Sequence[int],
    cfg: dict[str, Any],
) -> tuple[list[torch.Tensor], list[torch.Tensor | None], list[list[dict[str, float]]]]:
    """Train one group of models stacked; returns (weights, biases, histories).

    With ``cfg["record_margins"]`` also ``(margin_sum, margin_count)`` ``(M, N)`` numpy float64
    as a fourth item (module docstring)."""
    M = len(index_sets)
    plan, weights, biases = _stack_init(model_fn, init_seeds, cfg.get("seeded", False))
    params: list[torch.Tensor] = []
    for w, b in zip(weights, biases, strict=True):
        params.append(w.requires_grad_(True))
        if b is not None:
            params.append(b.requires_grad_(True))
    opt = StackedOptimizer(
        params, cfg["optimizer"], cfg["weight_decay"], M, fused=cfg.get("fused", False)
    )
    x = torch.as_tensor(x_all).reshape(len(x_all), -1)
    y = torch.as_tensor(y_all)
    low = cfg.get("precision", "fp32") == "bf16"
    x_low = x.to(torch.bfloat16) if low else None
    idx_t = [torch.as_tensor(i) for i in index_sets]
    sizes = [len(i) for i in index_sets]
    batch_size, epochs = cfg["batch_size"], cfg["epochs"]
    perm_gens = [torch.Generator().manual_seed(int(s)) for s in seeds]
    drop_gens = [torch.Generator().manual_seed(int(s)) for s in seeds]
    base_lr = torch.full((M,), float(cfg["lr"]), dtype=torch.float64)
    cosine = cfg["scheduler"] == "cosine"
    t_max = torch.tensor(
        [epochs * steps_per_epoch(n, batch_size) for n in sizes],
        dtype=torch.float64,
    )
    steps_taken = torch.zeros(M, dtype=torch.float64)
    record = bool(cfg.get("record_margins", False))
    n_rows = len(x_all)
    m_sum = torch.zeros(M * n_rows, dtype=torch.float64) if record else None
    m_cnt = torch.zeros(M * n_rows, dtype=torch.float64) if record else None
    offsets = (torch.arange(M) * n_rows).unsqueeze(1)
    history: list[list[dict[str, float]]] = [[] for _ in range(M)]
    bar = progress_bar(epochs, cfg.get("progress", False), "epochs (stacked)")
    for epoch in range(epochs):
        chunks = [batch_order(n, batch_size, g) for n, g in zip(sizes, perm_gens, strict=True)]
        n_steps = max(len(c) for c in chunks)
        tot_loss = torch.zeros(M, dtype=torch.float64)
        tot_correct = torch.zeros(M, dtype=torch.float64)
        for step in range(n_steps):
            rows = [
                idx_t[m][chunks[m][step]] if step < len(chunks[m]) else idx_t[m][:0]
                for m in range(M)
            ]
            pos, valid = pad_index_sets(rows)
            counts = valid.sum(1)
            all_active = bool((counts > 0).all())
            active = None if all_active else counts > 0
            if low:  # bf16 copies of the weights, cast once per step; autograd returns their
                # gradients to the fp32 masters as fp32
                w_low = [w.to(torch.bfloat16) for w in weights]
                b_low = [None if b is None else b.to(torch.bfloat16) for b in biases]
                h = x_low.index_select(0, pos.view(-1)).view(M, pos.shape[1], -1)
            else:  # the same gather as x[pos], ~3x faster on CPU
                h = x.index_select(0, pos.view(-1)).view(M, pos.shape[1], -1)
            for kind, arg in plan:
                if kind == "linear" and low:
                    h = _linear_bf16(h, w_low[arg], b_low[arg])
                elif kind == "linear":
                    b = biases[arg]
                    h = (
                        torch.baddbmm(b, h, weights[arg])
                        if b is not None
                        else torch.bmm(h, weights[arg])
                    )
                elif kind == "act":
                    h = arg(h)
                elif 0.0 < arg < 1.0:
                    h = h * _dropout_masks(h.shape, counts.tolist(), arg, drop_gens)
                elif arg >= 1.0:
                    h = h * 0.0
            if low:
                h = h.float()  # logits: loss, softmax and accuracy in fp32
            yb = y[pos]
            ce = nn.functional.cross_entropy(
                h.reshape(-1, h.shape[-1]), yb.reshape(-1), reduction="none"
            ).view(M, -1)
            vf = valid.to(ce.dtype)
            per_model = (ce * vf).sum(1) / counts.clamp(min=1).to(ce.dtype)
            grads = torch.autograd.grad(per_model.sum(), params)
            lr = base_lr
            if cosine:
                lr = base_lr * (1 + torch.cos(math.pi * steps_taken / t_max)) / 2
            opt.step([g.contiguous() for g in grads], lr, active)
            steps_taken += 1 if active is None else active.to(torch.float64)
            if record:
                _add_margins(h.detach(), yb, pos + offsets, valid, m_sum, m_cnt)
            with torch.no_grad():
                tot_loss += (ce.detach() * vf).sum(1).double()
                tot_correct += ((h.detach().argmax(-1) == yb) & valid).sum(1).double()
        for m in range(M):
            history[m].append(
                {
                    "epoch": epoch + 1,
                    "train_loss": float(tot_loss[m]) / sizes[m],
                    "train_acc": float(tot_correct[m]) / sizes[m],
                }
            )
        bar.update(1)
    bar.close()
    out = (
        [w.detach() for w in weights],
        [None if b is None else b.detach() for b in biases],
        history,
    )
    if record:
        assert m_sum is not None and m_cnt is not None
        shape = (M, n_rows)
        return (*out, (m_sum.view(shape).numpy(), m_cnt.view(shape).numpy()))
    return out


@torch.no_grad()
def _add_margins(
    logits: torch.Tensor,
    labels: torch.Tensor,
    flat_pos: torch.Tensor,
    valid: torch.Tensor,
    m_sum: torch.Tensor,
    m_cnt: torch.Tensor,
) -> None:
    """Add ``z_y - max_{j≠y} z_j`` of ``logits (M, B, C)`` at ``flat_pos (M, B)`` (= m·N + row)
    of ``m_sum`` and 1 to ``m_cnt``, for the ``valid`` (unpadded) entries only."""
    z = logits.float()
    zy = z.gather(-1, labels.unsqueeze(-1)).squeeze(-1)
    top2 = z.topk(2, dim=-1)
    right = top2.indices[..., 0] == labels
    margin = zy - torch.where(right, top2.values[..., 1], top2.values[..., 0])
    where = flat_pos[valid]
    m_sum.index_add_(0, where, margin[valid].double())
    m_cnt.index_add_(0, where, torch.ones(len(where), dtype=torch.float64))


def _linear_bf16(h: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None) -> torch.Tensor:
    """``h @ w + b`` on bf16 operands ``h (M, B, D_in)`` (any float dtype; cast if needed),
    ``w (M, D_in, D_out)``, ``b (M, 1, D_out)`` → bf16 ``(M, B, D_out)`` (fp32 accumulation
    inside the kernel)."""
    h = h.to(torch.bfloat16)
    return torch.bmm(h, w) if b is None else torch.baddbmm(b, h, w)


def _dropout_masks(
    shape: torch.Size, counts: list[int], p: float, gens: list[torch.Generator]
) -> torch.Tensor:
    """Inverted-dropout masks ``(M, B_max, H)``: model m's first ``counts[m]`` rows drawn as
    ``nn.Dropout`` draws them (``bernoulli_(1 - p)`` then ``/ (1 - p)``) from ``gens[m]``."""
    M, _, H = shape
    mask = torch.zeros(shape)
    for m in range(M):
        if counts[m]:
            noise = torch.empty((counts[m], H)).bernoulli_(1 - p, generator=gens[m])
            mask[m, : counts[m]] = noise.div_(1 - p)
    return mask
