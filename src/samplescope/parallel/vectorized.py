"""Train M small MLPs at once: stacked weights, batched matmuls, one optimizer step for all.

K-fold × repeat models (generalization error, out-of-fold probabilities) and ensemble
members are many copies of one small network trained on different rows with different
seeds. On a CPU, training such a network one model at a time is dominated by per-op
overhead, not FLOPs; stacking the M models' weights ``W (M, D_in, D_out)`` and running every
layer as one ``torch.baddbmm`` over ``(M, B, D_in)`` batches does the same arithmetic with M
times fewer kernel launches, autograd nodes and optimizer calls.

Equivalence guaranteed (and tested): model ``m`` of :func:`fit_many` is, to float tolerance
(summation order of the batched kernels differs from ``nn.Linear``'s), the model that

    torch.manual_seed(init_seeds[m]); net = model_fn()
    samplescope.training.fit(net, data.subset(index_sets[m]), seed=seeds[m], epochs=...,
                             batch_size=..., optimizer=..., lr=..., weight_decay=...,
                             scheduler=...)

returns: the same initial weights (``model_fn`` is called under ``init_seeds[m]``), the same
mini-batch order (the trainer's own batching with a generator seeded ``seeds[m]``), the same
dropout masks (drawn per model, on its unpadded batch, from a generator seeded ``seeds[m]``,
exactly as ``nn.Dropout`` draws them from the global generator that ``fit`` seeds), and the
same optimizer arithmetic (Adam / AdamW / SGD with momentum 0.9, per-model step counts and
learning rates). Uneven training-set sizes give uneven batch counts and sizes: batches are
padded to the largest, padded rows are masked out of each model's mean loss, and a model
that has run out of batches in an epoch skips the optimizer step (no Adam state change).

Supported networks: ``nn.Sequential`` of an optional leading ``nn.Flatten``, ``nn.Linear``,
parameter-free element-wise activations and ``nn.Dropout`` (e.g. :func:`samplescope.models.mlp`);
default cross-entropy loss, no per-sample weights or callbacks. Anything else falls back to
training the models one by one through :func:`samplescope.parallel.run_tasks`.

Mixed precision (``precision="bf16"``, opt-in, stacked trainer only): the master weights,
their gradients, the optimizer state, the loss and the softmax stay float32; every batched
matmul of the forward and backward pass runs on bfloat16 operands (the inputs are cast to
bfloat16 once, the stacked weights and biases once per step, the hidden activations stay
bfloat16 between layers except where a dropout mask multiplies them in float32; autograd
casts the bfloat16 weight gradients back to float32).
Predictions (:meth:`ManyModels.predict_logits`) use the float32 master weights. The
equivalence above then holds only statistically (same seeds, same batches, same dropout
masks, different rounding): see :func:`fit_many` for the measured agreement and speed.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from .._validation import check_choice, check_positive
from ..data.split import DataSplit, as_split
from .executors import executor_workers, run_tasks

__all__ = [
    "ManyModels",
    "can_vectorize",
    "should_vectorize",
    "fit_many",
    "heldout_logits",
    "vectorized_oof_probs",
]

_ACTIVATIONS = (
    nn.ReLU,
    nn.LeakyReLU,
    nn.ELU,
    nn.GELU,
    nn.SiLU,
    nn.Tanh,
    nn.Sigmoid,
    nn.Softplus,
    nn.Identity,
    nn.ReLU6,
    nn.Mish,
)
_OPTIMIZERS = ("adam", "adamw", "sgd")
_PRECISIONS = ("fp32", "bf16")
_MEMORY_BUDGET = 1 << 30  # bytes of stacked weights + optimizer state + activations
_WORK_PER_STEP = 1 << 24  # parameters x batch size per model step above which stacking ties


# --------------------------------------------------------------------------------------------
# Which networks can be stacked
# --------------------------------------------------------------------------------------------


def _plan(model: nn.Module) -> list[tuple[str, Any]] | None:
    """The layer plan ``[("linear", i) | ("act", module) | ("dropout", p)]``, or None."""
    if not isinstance(model, nn.Sequential) or len(model) == 0:
        return None
    plan: list[tuple[str, Any]] = []
    n_linear = 0
    for i, layer in enumerate(model):
        if (
            isinstance(layer, nn.Flatten)
            and i == 0
            and layer.start_dim == 1
            and layer.end_dim == -1
        ):
            continue
        if type(layer) is nn.Linear:
            plan.append(("linear", n_linear))
            n_linear += 1
        elif isinstance(layer, _ACTIVATIONS) and not any(True for _ in layer.parameters()):
            plan.append(("act", layer))
        elif type(layer) is nn.Dropout:
            plan.append(("dropout", float(layer.p)))
        else:
            return None
    if n_linear == 0 or plan[-1][0] != "linear":
        return None
    return plan


def can_vectorize(model: nn.Module) -> bool:
    """Whether ``model``'s architecture can be trained stacked (Flatten/Linear/activation/Dropout)."""
    return _plan(model) is not None


def _linears(model: nn.Module) -> list[nn.Linear]:
    return [m for m in model if type(m) is nn.Linear]


def should_vectorize(
    model: nn.Module,
    n_models: int,
    *,
    batch_size: int = 128,
    optimizer: Any = "adam",
    memory_budget: int = _MEMORY_BUDGET,
    precision: str = "fp32",
) -> bool:
    """The ``vectorize="auto"`` heuristic: stack the models when it is supported and it wins.

    Stacking saves per-op overhead (kernel launches, autograd nodes, optimizer calls), never
    FLOPs, so it wins for small minibatched models and ties once the matmuls dominate.
    Measured on the shared 2-core machine, one thread, ``benchmarks/vectorized.py``: M = 10
    digits MLPs 64-64-32-10 at batch 64 (6.5k params × 64): 3.6-5.3× faster than a loop of
    ``fit``; 64-256-128-10 at batch 128 (50k × 128): 1.4-2.5×; MNIST 784-256-128-10 at batch
    128 (235k × 128): 0.9-1.8× (noise around a tie). Hence the rule params × batch ≤ 2^24.
    Rules: ``n_models >= 2``; the network is a supported MLP (:func:`can_vectorize`); the
    optimizer is one of ``"adam" | "adamw" | "sgd"``; parameters × batch size ≤ 2^24; and
    the stacked weights, gradients,
    optimizer state and one batch of activations (float32) fit in ``memory_budget`` bytes.
    With ``precision="bf16"`` the params × batch rule is dropped: mixed precision exists only
    in the stacked trainer, and it is the compute-bound networks that it speeds up.
    """
    if n_models < 2 or not isinstance(optimizer, str) or optimizer not in _OPTIMIZERS:
        return False
    if not can_vectorize(model):
        return False
    n_params = sum(p.numel() for p in model.parameters())
    if precision == "fp32" and n_params * batch_size > _WORK_PER_STEP:
        return False  # compute-bound already: stacking saves overhead, not FLOPs
    widest = max(max(lin.in_features, lin.out_features) for lin in _linears(model))
    n_layers = len(_linears(model))
    need = 4 * n_models * (4 * n_params + 3 * batch_size * widest * n_layers)
    return need <= memory_budget


# --------------------------------------------------------------------------------------------
# Stacked optimizer: torch's Adam / AdamW / SGD(momentum 0.9) arithmetic, per-model steps
# --------------------------------------------------------------------------------------------


class _StackedOptimizer:
    """Element-wise optimizers applied to stacked parameters ``(M, ...)``.

    The update of model ``m`` is the one ``torch.optim`` computes for that model alone
    (single-tensor implementation): Adam ``g += wd·p``; AdamW ``p *= 1 - lr·wd``; then
    ``m1 = lerp(m1, g, 1-β1)``, ``m2 = β2·m2 + (1-β2)·g²``,
    ``p += (-lr/(1-β1^t))·m1 / (sqrt(m2)/sqrt(1-β2^t) + ε)``; SGD ``buf = 0.9·buf + g``,
    ``p -= lr·buf``. ``t`` and ``lr`` are per model; inactive models are left untouched.
    """

    betas = (0.9, 0.999)
    eps = 1e-8
    momentum = 0.9

    def __init__(
        self,
        params: list[torch.Tensor],
        kind: str,
        weight_decay: float,
        M: int,
        fused: bool = False,
    ) -> None:
        self.params = params
        self.fused = fused and hasattr(torch, "_fused_adam_") and hasattr(torch, "_fused_adamw_")
        self.kind = kind
        self.wd = weight_decay
        self.m1 = [torch.zeros_like(p) for p in params]
        self.m2 = [torch.zeros_like(p) for p in params] if kind != "sgd" else []
        self.t = torch.zeros(M, dtype=torch.float64)

    @torch.no_grad()
    def step(
        self, grads: list[torch.Tensor], lr: torch.Tensor, active: torch.Tensor | None
    ) -> None:
        """``lr`` (M,) float64; ``active`` (M,) bool or None (all models step)."""
        if active is not None:
            self.t += active.to(torch.float64)
        else:
            self.t += 1
        if active is None and self._fused_step(grads, lr):
            return
        t = self.t.clamp(min=1)
        b1, b2 = self.betas
        coef = {
            "neg_lr": (-lr).to(torch.float32),
            "neg_step": (-(lr / (1 - b1**t))).to(torch.float32),
            "bc2_sqrt": torch.sqrt(1 - b2**t).to(torch.float32),
            "wd_scale": (1 - lr * self.wd).to(torch.float32),
        }
        for i, (p, g) in enumerate(zip(self.params, grads, strict=True)):
            shape = (-1,) + (1,) * (p.ndim - 1)
            if active is not None:  # a masked step: compute aside, then keep the active rows
                olds = [p, self.m1[i]] + ([self.m2[i]] if self.m2 else [])
                news = [o.clone() for o in olds]
                self._update(news[0], g, news[1], news[2] if self.m2 else None, shape, coef)
                for old, new in zip(olds, news, strict=True):
                    old.copy_(torch.where(active.view(shape), new, old))
            else:
                self._update(p, g, self.m1[i], self.m2[i] if self.m2 else None, shape, coef)

    def _fused_step(self, grads: list[torch.Tensor], lr: torch.Tensor) -> bool:
        """Fast path: every model steps with the same ``t`` and ``lr`` -> torch's fused CPU
        Adam/AdamW kernel (``torch.optim.Adam(fused=True)``'s), one pass over the memory
        instead of eight; equal to the single-tensor arithmetic up to float rounding."""
        if self.kind == "sgd" or not self.fused:
            return False
        t0, lr0 = float(self.t[0]), float(lr[0])
        if not (bool((self.t == t0).all()) and bool((lr == lr0).all())):
            return False
        func = torch._fused_adamw_ if self.kind == "adamw" else torch._fused_adam_
        steps = [torch.tensor(t0, dtype=torch.float32) for _ in self.params]
        func(
            self.params,
            grads,
            self.m1,
            self.m2,
            [],
            steps,
            amsgrad=False,
            lr=lr0,
            beta1=self.betas[0],
            beta2=self.betas[1],
            weight_decay=self.wd,
            eps=self.eps,
            maximize=False,
        )
        return True

    def _update(
        self,
        p: torch.Tensor,
        g: torch.Tensor,
        m1: torch.Tensor,
        m2: torch.Tensor | None,
        shape: tuple[int, ...],
        coef: dict[str, torch.Tensor],
    ) -> None:
        """In-place update of ``p``, ``m1``, ``m2`` (same op order as ``torch.optim``)."""
        b1, b2 = self.betas
        if self.kind == "sgd":
            if self.wd:
                g = g.add(p, alpha=self.wd)
            m1.mul_(self.momentum).add_(g)
            p.addcmul_(coef["neg_lr"].view(shape), m1)
            return
        assert m2 is not None
        if self.kind == "adamw":
            if self.wd:
                p.mul_(coef["wd_scale"].view(shape))
        elif self.wd:
            g = g.add(p, alpha=self.wd)
        m1.lerp_(g, 1 - b1)
        m2.mul_(b2).addcmul_(g, g, value=1 - b2)
        denom = (m2.sqrt() / coef["bc2_sqrt"].view(shape)).add_(self.eps)
        p.add_((coef["neg_step"].view(shape) * m1).div_(denom))


# --------------------------------------------------------------------------------------------
# The trained models
# --------------------------------------------------------------------------------------------


@dataclass
class ManyModels:
    """M trained models: stacked MLP weights (vectorised) or a list of modules (fallback).

    ``weights[k]`` ``(M, D_in, D_out)`` and ``biases[k]`` ``(M, 1, D_out)`` (or None) for the
    k-th Linear; ``history[m]`` is model m's per-epoch ``{"epoch", "train_loss", "train_acc"}``.
    """

    model_fn: Callable[..., nn.Module]
    plan: list[tuple[str, Any]] | None = None
    seeded: bool = False
    weights: list[torch.Tensor] = field(default_factory=list)
    biases: list[torch.Tensor | None] = field(default_factory=list)
    module_list: list[nn.Module] = field(default_factory=list)
    history: list[list[dict[str, float]]] = field(default_factory=list)

    @property
    def vectorized(self) -> bool:
        return self.plan is not None

    def __len__(self) -> int:
        return self.weights[0].shape[0] if self.vectorized else len(self.module_list)

    def modules(self) -> list[nn.Module]:
        """The M models as ordinary ``nn.Module`` s (built by ``model_fn``, eval mode)."""
        if not self.vectorized:
            return list(self.module_list)
        out = []
        for m in range(len(self)):
            net = self.model_fn(0) if self.seeded else self.model_fn()
            with torch.no_grad():
                for k, lin in enumerate(_linears(net)):
                    lin.weight.copy_(self.weights[k][m].T)
                    b = self.biases[k]
                    if b is not None:
                        lin.bias.copy_(b[m, 0])
            out.append(net.eval())
        return out

    @torch.no_grad()
    def _forward(self, h: torch.Tensor) -> torch.Tensor:
        """Eval-mode forward; ``h`` ``(N, D)`` shared or ``(M, N, D)`` per model → ``(M, N, C)``."""
        assert self.plan is not None
        for kind, arg in self.plan:
            if kind == "linear":
                b = self.biases[arg]
                h = torch.matmul(h, self.weights[arg])
                if b is not None:
                    h = h + b
            elif kind == "act":
                h = arg(h)
        return h

    def predict_logits(self, x: Any, *, batch_size: int = 4096) -> np.ndarray:
        """Logits ``(M, N, C)`` float64 of every model on the same inputs ``x`` ``(N, ...)``."""
        xs = as_split(x).x if not isinstance(x, (np.ndarray, torch.Tensor)) else x
        xt = torch.as_tensor(np.asarray(xs, dtype=np.float32))
        if not self.vectorized:
            from ..training.trainer import predict_logits

            return np.stack([predict_logits(net, xt.numpy()) for net in self.module_list])
        xt = xt.reshape(len(xt), -1)
        out = [self._forward(xt[lo : lo + batch_size]) for lo in range(0, len(xt), batch_size)]
        return torch.cat(out, dim=1).numpy().astype(np.float64)

    def predict_logits_at(
        self, x: Any, index_sets: Sequence[Any], *, batch_size: int = 4096
    ) -> list[np.ndarray]:
        """Model m's logits ``(len(index_sets[m]), C)`` on rows ``index_sets[m]`` of ``x``."""
        xs = as_split(x).x if not isinstance(x, (np.ndarray, torch.Tensor)) else x
        idx = [np.asarray(i, dtype=np.int64) for i in index_sets]
        if len(idx) != len(self):
            raise ValueError(f"index_sets: expected {len(self)} index arrays, got {len(idx)}")
        if not self.vectorized:
            from ..training.trainer import predict_logits

            arr = np.asarray(xs)
            return [
                predict_logits(net, arr[i]) for net, i in zip(self.module_list, idx, strict=True)
            ]
        xt = torch.as_tensor(np.asarray(xs, dtype=np.float32))
        xt = xt.reshape(len(xt), -1)
        longest = max(len(i) for i in idx)
        pieces: list[list[torch.Tensor]] = [[] for _ in idx]
        for lo in range(0, longest, batch_size):
            pos, valid = _pad([i[lo : lo + batch_size] for i in idx])
            logits = self._forward(xt[pos])
            for m, n in enumerate(valid.sum(1).tolist()):
                pieces[m].append(logits[m, :n])
        return [torch.cat(p).numpy().astype(np.float64) for p in pieces]


def _pad(index_lists: Sequence[Any]) -> tuple[torch.Tensor, torch.Tensor]:
    """Pad M index arrays to ``(M, B_max)`` (pad value 0) with a validity mask ``(M, B_max)``."""
    lens = [len(i) for i in index_lists]
    width = max(max(lens), 1)
    pos = torch.zeros((len(index_lists), width), dtype=torch.int64)
    valid = torch.zeros((len(index_lists), width), dtype=torch.bool)
    for m, i in enumerate(index_lists):
        if lens[m]:
            pos[m, : lens[m]] = torch.as_tensor(i)
            valid[m, : lens[m]] = True
    return pos, valid


# --------------------------------------------------------------------------------------------
# Vectorised training of one group of models
# --------------------------------------------------------------------------------------------


_INIT_LOCK = threading.Lock()


def _build(model_fn: Callable[..., nn.Module], seed: int, seeded: bool) -> nn.Module:
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
    nets = [_build(model_fn, s, seeded) for s in init_seeds]
    plan = _plan(nets[0])
    if plan is None:
        raise ValueError("model_fn: expected a network supported by vectorised training")
    lin = [_linears(n) for n in nets]
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


def _fit_group(
    model_fn: Callable[[], nn.Module],
    x_all: np.ndarray,
    y_all: np.ndarray,
    index_sets: Sequence[np.ndarray],
    seeds: Sequence[int],
    init_seeds: Sequence[int],
    cfg: dict[str, Any],
) -> tuple[list[torch.Tensor], list[torch.Tensor | None], list[list[dict[str, float]]]]:
    """Train one group of models stacked; returns (weights, biases, histories)."""
    from ..training.trainer import _batches  # the trainer's batching, for the same batch order

    M = len(index_sets)
    plan, weights, biases = _stack_init(model_fn, init_seeds, cfg.get("seeded", False))
    params: list[torch.Tensor] = []
    for w, b in zip(weights, biases, strict=True):
        params.append(w.requires_grad_(True))
        if b is not None:
            params.append(b.requires_grad_(True))
    opt = _StackedOptimizer(
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
        [
            epochs * len(_batches(n, batch_size, torch.Generator().manual_seed(0), None))
            for n in sizes
        ],
        dtype=torch.float64,
    )
    steps_taken = torch.zeros(M, dtype=torch.float64)
    history: list[list[dict[str, float]]] = [[] for _ in range(M)]
    bar = _bar(epochs, cfg.get("progress", False))
    for epoch in range(epochs):
        chunks = [_batches(n, batch_size, g, None) for n, g in zip(sizes, perm_gens, strict=True)]
        n_steps = max(len(c) for c in chunks)
        tot_loss = torch.zeros(M, dtype=torch.float64)
        tot_correct = torch.zeros(M, dtype=torch.float64)
        for step in range(n_steps):
            rows = [
                idx_t[m][chunks[m][step]] if step < len(chunks[m]) else idx_t[m][:0]
                for m in range(M)
            ]
            pos, valid = _pad(rows)
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
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    return (
        [w.detach() for w in weights],
        [None if b is None else b.detach() for b in biases],
        history,
    )


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


def _bar(total: int, enabled: bool) -> Any:
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="epochs (stacked)", leave=False)


# --------------------------------------------------------------------------------------------
# Sequential fallback (one ordinary fit per model, fanned out over an executor)
# --------------------------------------------------------------------------------------------


def _fit_one(
    model_fn: Callable[[], nn.Module],
    x_all: np.ndarray,
    y_all: np.ndarray,
    index: np.ndarray,
    seed: int,
    init_seed: int,
    cfg: dict[str, Any],
) -> tuple[nn.Module, list[dict[str, float]]]:
    from ..training.trainer import fit

    net = _build(model_fn, init_seed, cfg.get("seeded", False))
    res = fit(
        net,
        (x_all[index], y_all[index]),
        epochs=cfg["epochs"],
        batch_size=cfg["batch_size"],
        optimizer=cfg["optimizer"],
        lr=cfg["lr"],
        weight_decay=cfg["weight_decay"],
        scheduler=cfg["scheduler"],
        seed=int(seed),
        progress=False,
    )
    hist = [{k: r[k] for k in ("epoch", "train_loss", "train_acc")} for r in res.history]
    return res.model, hist


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def _check_seeds(seeds: Any, name: str, n: int | None) -> list[int]:
    if isinstance(seeds, (int, np.integer)):
        if n is None:
            raise ValueError(
                f"{name}: expected a sequence of seeds when index_sets is None, got {seeds}"
            )
        return [int(seeds) + m for m in range(n)]
    out = [int(s) for s in seeds]
    if not out:
        raise ValueError(f"{name}: expected at least one seed, got none")
    if n is not None and len(out) != n:
        raise ValueError(f"{name}: expected {n} seeds (one per model), got {len(out)}")
    return out


def _check_index_sets(index_sets: Sequence[Any], n: int, name: str) -> list[np.ndarray]:
    out = []
    for k, i in enumerate(index_sets):
        a = np.asarray(i)
        if a.dtype == bool:
            a = np.flatnonzero(a)
        if a.ndim != 1 or len(a) == 0 or not np.issubdtype(a.dtype, np.integer):
            raise ValueError(
                f"{name}[{k}]: expected a non-empty 1-D integer index array, got {a.shape}"
            )
        if a.min() < 0 or a.max() >= n:
            raise ValueError(
                f"{name}[{k}]: expected positions in [0, {n}), got [{a.min()}, {a.max()}]"
            )
        out.append(a.astype(np.int64))
    if not out:
        raise ValueError(f"{name}: expected at least one index array, got none")
    return out


def fit_many(
    model_fn: Callable[[], nn.Module],
    data: Any,
    index_sets: Sequence[Any] | None = None,
    *,
    seeds: Sequence[int] | int = 0,
    init_seeds: Sequence[int] | None = None,
    epochs: int = 10,
    batch_size: int = 128,
    optimizer: str = "adam",
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    scheduler: str | None = None,
    vectorize: bool | str = "auto",
    executor: Any = None,
    workers: int | None = None,
    scheduler_address: str | None = None,
    progress: bool = False,
    seeded_model_fn: bool = False,
    exact: bool | None = None,
    precision: str = "fp32",
) -> ManyModels:
    """Train M models of ``model_fn()`` at once — K-fold/repeat models or ensemble members.

    Model m trains on rows ``index_sets[m]`` of ``data`` (all rows when ``index_sets`` is None)
    and equals, to float tolerance, ``torch.manual_seed(init_seeds[m]); net = model_fn();
    fit(net, data.subset(index_sets[m]), seed=seeds[m], ...)`` (module docstring).

    Args:
        model_fn: zero-argument, picklable factory of a fresh network, e.g.
            ``functools.partial(samplescope.mlp, (1, 8, 8), 10)``.
        data: the training data (DataSplit, ``(x, y)`` arrays or a torch Dataset).
        index_sets: M row-position arrays (or boolean masks), one per model; None = all rows.
        seeds: per-model training seeds (batch order, dropout); an int ``s`` means
            ``s, s+1, ...`` (M models when ``index_sets`` is given).
        init_seeds: per-model seeds for ``model_fn``'s initialisation (default ``seeds``).
        epochs, batch_size, optimizer (``"adam" | "adamw" | "sgd"``), lr, weight_decay,
            scheduler (None | ``"cosine"``): as :func:`samplescope.training.fit`.
        vectorize: ``"auto"`` (:func:`should_vectorize`, and the largest training set at
            most 1.5x the smallest: padding would waste the rest), True (error if
            unsupported) or False.
        executor: fan-out of the groups (vectorised: one stacked group per worker) or of the
            single fits (fallback); see :func:`samplescope.parallel.run_tasks`.
        workers, scheduler_address: for an executor created from a name.
        progress: progress bar.
        seeded_model_fn: call ``model_fn(init_seed)`` instead of ``model_fn()`` (the
            ``seed -> nn.Module`` factories of :func:`samplescope.difficulty.generalization_error`).
        exact: True (the default with ``precision="fp32"``): the op-by-op arithmetic of
            ``torch.optim``'s single-tensor Adam/AdamW/SGD (bit-identical to ``fit`` in our
            single-thread digits tests). False (the default with ``precision="bf16"``, which
            gives up bit-identity anyway): steps where all models share ``t`` and ``lr`` use
            torch's fused CPU Adam kernel (5-7x faster optimizer step, equal per step up to
            float rounding).
            Either way the batched matmul sums in a different order than ``nn.Linear`` for
            large layers (~1e-6 per step on MNIST-size inputs), and Adam can amplify such
            rounding over hundreds of steps: on MNIST-10k we saw max |Δp| up to 2.4e-2 for
            one of five models after 315 steps (typically ~1e-6).
        precision: ``"fp32"`` (default) or ``"bf16"``: mixed precision (module docstring) —
            float32 master weights, Adam state, loss and softmax; bfloat16 operands for every
            matmul of the forward and backward pass. Stacked trainer only: ``vectorize="auto"``
            then stacks every supported network (not only the overhead-bound ones), and a
            network or ``vectorize=False`` that needs the one-by-one fallback raises. Fast
            only on CPUs with AMX-BF16 / AVX512-BF16 (elsewhere bf16 matmuls are emulated).
            Measured on the shared 2-core Xeon (AMX), one thread (``benchmarks/vectorized.py``,
            ``kfold_vs_cleanlab.py``): it pays off once layers are ~256 wide — MNIST-10k
            784-256-128-10 (M = 5): 1.6x faster than fp32 with the same fused Adam step and
            2.5x faster than the default fp32 (op-by-op Adam); digits 64-256-128-10
            (M = 10-15): 1.3-1.5x over fp32 fused — and it is ~15% *slower* than fp32 fused
            for tiny networks (64-64-32-10 at batch 64: the casts cost more than the bf16
            matmuls save). Agreement with fp32 training (same seeds, folds, batches): accuracy
            (out-of-fold or test) within 0.003 on digits and MNIST-10k, mean |Δp| 3e-4 to
            2e-3, max |Δp| 1e-2 to 0.25 on the odd ambiguous sample — the same seeds give an
            equally good model, no longer the same one.

    Returns:
        :class:`ManyModels` (``predict_logits(x) -> (M, N, C)``, ``predict_logits_at``,
        ``modules()``, ``history``).
    """
    split: DataSplit = as_split(data)
    n = len(split)
    if index_sets is None:
        seed_list = _check_seeds(seeds, "seeds", None)
        idx = [np.arange(n, dtype=np.int64)] * len(seed_list)
    else:
        idx = _check_index_sets(index_sets, n, "index_sets")
        seed_list = _check_seeds(seeds, "seeds", len(idx))
    M = len(idx)
    init_list = seed_list if init_seeds is None else _check_seeds(init_seeds, "init_seeds", M)
    epochs = int(check_positive(epochs, "epochs"))
    batch_size = int(check_positive(batch_size, "batch_size"))
    check_positive(lr, "lr")
    check_positive(weight_decay, "weight_decay", strict=False)
    if scheduler is not None:
        check_choice(scheduler, "scheduler", ("cosine",))
    if not callable(model_fn):
        raise ValueError(
            f"model_fn: expected a callable returning a fresh nn.Module, got {type(model_fn).__name__}"
        )
    if vectorize not in (True, False, "auto"):
        raise ValueError(f"vectorize: expected True, False or 'auto', got {vectorize!r}")
    check_choice(precision, "precision", _PRECISIONS)
    if exact is None:
        exact = precision == "fp32"
    probe = model_fn(init_list[0]) if seeded_model_fn else model_fn()
    if vectorize == "auto":
        sizes = [len(i) for i in idx]
        vec = should_vectorize(
            probe, M, batch_size=batch_size, optimizer=optimizer, precision=precision
        )
        # very unequal training sets waste padded steps: stack only comparable ones
        # (bf16 exists only stacked: padding is then the price of it)
        vec = vec and (precision != "fp32" or max(sizes) <= 1.5 * min(sizes))
    else:
        vec = bool(vectorize)
    if precision != "fp32" and not vec:
        raise ValueError(
            f"precision: {precision!r} needs the stacked trainer (an nn.Sequential of "
            "Flatten/Linear/element-wise activations/Dropout, optimizer adam/adamw/sgd, stacked "
            "weights within the memory budget, vectorize not False), got "
            f"vectorize={vectorize!r}, optimizer={optimizer!r}, "
            f"model {type(probe).__name__}"
        )
    if vec:
        check_choice(optimizer, "optimizer", _OPTIMIZERS)
        if not can_vectorize(probe):
            raise ValueError(
                "model_fn: vectorize=True needs an nn.Sequential of Flatten/Linear/element-wise "
                f"activations/Dropout, got {type(probe).__name__}: {probe}"
            )
    cfg = {
        "epochs": epochs,
        "batch_size": batch_size,
        "optimizer": optimizer,
        "lr": float(lr),
        "weight_decay": float(weight_decay),
        "scheduler": scheduler,
        "seeded": bool(seeded_model_fn),
        "fused": not exact,
        "precision": precision,
    }
    x_all, y_all = split.x, split.y
    if not vec:
        tasks = [(i, s, si) for i, s, si in zip(idx, seed_list, init_list, strict=True)]
        res = run_tasks(
            _fit_one_task,
            tasks,
            executor,
            workers=workers,
            scheduler=scheduler_address,
            common=(model_fn, x_all, y_all, cfg),
            progress=progress,
            desc="fits",
        )
        return ManyModels(
            model_fn,
            seeded=bool(seeded_model_fn),
            module_list=[r[0] for r in res],
            history=[r[1] for r in res],
        )
    groups = _groups(M, executor, workers)
    if len(groups) == 1:
        cfg["progress"] = progress
        w, b, hist = _fit_group(model_fn, x_all, y_all, idx, seed_list, init_list, cfg)
    else:
        tasks = [
            ([idx[m] for m in g], [seed_list[m] for m in g], [init_list[m] for m in g])
            for g in groups
        ]
        res = run_tasks(
            _fit_group_task,
            tasks,
            executor,
            workers=workers,
            scheduler=scheduler_address,
            common=(model_fn, x_all, y_all, cfg),
            progress=progress,
            desc="stacked groups",
        )
        w = [torch.cat([r[0][k] for r in res]) for k in range(len(res[0][0]))]
        b = [
            None if res[0][1][k] is None else torch.cat([r[1][k] for r in res])
            for k in range(len(res[0][1]))
        ]
        hist = [h for r in res for h in r[2]]
    return ManyModels(
        model_fn, plan=_plan(probe), seeded=bool(seeded_model_fn), weights=w, biases=b, history=hist
    )


def _fit_one_task(model_fn, x_all, y_all, cfg, index, seed, init_seed):  # noqa: ANN001, ANN202
    return _fit_one(model_fn, x_all, y_all, index, seed, init_seed, cfg)


def _fit_group_task(model_fn, x_all, y_all, cfg, index_sets, seeds, init_seeds):  # noqa: ANN001, ANN202
    return _fit_group(model_fn, x_all, y_all, index_sets, seeds, init_seeds, cfg)


def _groups(M: int, executor: Any, workers: int | None) -> list[list[int]]:
    """Contiguous model groups, one per worker (a single group in-process)."""
    if executor is None or executor == "inprocess":
        return [list(range(M))]
    if isinstance(executor, str):
        n = workers or (2 if executor == "dask" else None) or _cpu_count()
    else:
        n = executor_workers(executor)
    n = max(1, min(M, n))
    bounds = np.linspace(0, M, n + 1).round().astype(int)
    return [list(range(bounds[k], bounds[k + 1])) for k in range(n) if bounds[k + 1] > bounds[k]]


def _cpu_count() -> int:
    import os

    return os.cpu_count() or 1


def heldout_logits(
    model_fn: Callable[[], nn.Module],
    data: Any,
    folds: Sequence[tuple[Any, Any]],
    *,
    seeds: Sequence[int] | int = 0,
    init_seeds: Sequence[int] | None = None,
    epochs: int = 10,
    batch_size: int = 128,
    optimizer: str = "adam",
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    scheduler: str | None = None,
    vectorize: bool | str = "auto",
    executor: Any = None,
    workers: int | None = None,
    scheduler_address: str | None = None,
    progress: bool = False,
    seeded_model_fn: bool = False,
    exact: bool | None = None,
    precision: str = "fp32",
) -> list[np.ndarray]:
    """Fit one model per ``(train_idx, test_idx)`` fold and return its logits on ``test_idx``.

    Returns a list (one per fold) of float64 logits ``(len(test_idx_f), C)``, in ``test_idx_f``
    order — what ``predict_logits(fit(model_fn(), data.subset(train_idx_f), seed=seeds[f]).model,
    data.subset(test_idx_f))`` gives (module docstring for the seeding contract). All folds of
    all repeats are trained at once when vectorised. ``seeds`` int ``s`` → ``s + f`` per fold.
    ``precision="bf16"``: mixed-precision training (see :func:`fit_many`); the returned logits
    are float64 either way (computed with the float32 master weights).
    """
    split = as_split(data)
    folds = list(folds)
    if not folds:
        raise ValueError("folds: expected at least one (train_idx, test_idx) pair, got none")
    for k, f in enumerate(folds):
        if len(f) != 2:
            raise ValueError(
                f"folds[{k}]: expected a (train_idx, test_idx) pair, got {len(f)} items"
            )
    train_sets = _check_index_sets([f[0] for f in folds], len(split), "folds (train)")
    test_sets = _check_index_sets([f[1] for f in folds], len(split), "folds (test)")
    many = fit_many(
        model_fn,
        split,
        train_sets,
        seeds=seeds,
        init_seeds=init_seeds,
        epochs=epochs,
        batch_size=batch_size,
        optimizer=optimizer,
        lr=lr,
        weight_decay=weight_decay,
        scheduler=scheduler,
        vectorize=vectorize,
        executor=executor,
        workers=workers,
        scheduler_address=scheduler_address,
        progress=progress,
        seeded_model_fn=seeded_model_fn,
        exact=exact,
        precision=precision,
    )
    return many.predict_logits_at(split.x, test_sets)


def vectorized_oof_probs(
    model_fn: Callable[[], nn.Module],
    data: Any,
    num_classes: int,
    *,
    folds: int = 5,
    repeats: int = 1,
    seed: int = 0,
    stratified: bool = True,
    precision: str = "fp32",
    **fit_kwargs: Any,
) -> np.ndarray:
    """Out-of-fold probabilities ``(R, N, C)`` from R repeats of (stratified) K-fold CV.

    Repeat r splits with ``StratifiedKFold(folds, shuffle=True, random_state=seed + r)``; the
    model of (repeat r, fold k) has seed ``seed + r * folds + k``. All R·K models are trained
    at once (see :func:`heldout_logits`; ``fit_kwargs`` are passed to it). Each row of
    ``probs[r]`` is the softmax of the logits of the one model that did not see that sample.
    ``precision``: ``"fp32"`` | ``"bf16"`` (mixed-precision training, see :func:`fit_many`).
    """
    from sklearn.model_selection import KFold, StratifiedKFold

    split = as_split(data)
    check_choice(precision, "precision", _PRECISIONS)
    folds = int(check_positive(folds, "folds"))
    repeats = int(check_positive(repeats, "repeats"))
    if folds < 2:
        raise ValueError(f"folds: expected at least 2 folds, got {folds}")
    pairs, owner = [], []
    for r in range(repeats):
        cv = (StratifiedKFold if stratified else KFold)(folds, shuffle=True, random_state=seed + r)
        for tr, te in cv.split(np.zeros(len(split)), split.y):
            pairs.append((tr, te))
            owner.append(r)
    seeds = [seed + m for m in range(len(pairs))]
    logits = heldout_logits(model_fn, split, pairs, seeds=seeds, precision=precision, **fit_kwargs)
    out = np.zeros((repeats, len(split), num_classes), dtype=np.float64)
    for (_, te), r, z in zip(pairs, owner, logits, strict=True):
        z = z - z.max(1, keepdims=True)
        p = np.exp(z)
        out[r, te] = p / p.sum(1, keepdims=True)
    return out
