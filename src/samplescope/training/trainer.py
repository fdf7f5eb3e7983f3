"""A minimal, deterministic trainer with per-sample hooks.

``fit`` trains any ``nn.Module`` returning logits (or a tuple whose first element is the
logits) on an in-memory split (or a lazy one, whose batches are read through a DataLoader:
:mod:`samplescope.data.lazy`), with per-sample losses exposed to callbacks and optional
static or dynamic per-sample weights. Same seed, same model.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn

from .._progress import progress_bar
from .._validation import check_array, check_choice, check_integer, check_positive
from ..data.lazy import LazySplit
from ..data.split import DataSplit, as_input_array, as_split
from .batching import batch_order
from .batching import steps_per_epoch as _steps_per_epoch
from .callbacks import BatchResult, Callback, EvalResult
from .checks import check_logits_for_labels, check_module, forward_checked

__all__ = [
    "fit",
    "FitResult",
    "TrainerState",
    "predict_logits",
    "evaluate",
    "cross_entropy_per_sample",
    "DynamicWeighting",
    "LossFn",
]

LossOutput = torch.Tensor | dict[str, torch.Tensor]
LossFn = Callable[[Any, torch.Tensor], LossOutput]


_HOOKS = ("on_fit_start", "on_epoch_start", "on_batch_end", "on_epoch_end", "on_fit_end")


def cross_entropy_per_sample(outputs: Any, labels: torch.Tensor) -> torch.Tensor:
    """Per-sample cross-entropy ``-log softmax(z)[y]``, shape ``(B,)``."""
    logits = outputs[0] if isinstance(outputs, (tuple, list)) else outputs
    return nn.functional.cross_entropy(logits, labels, reduction="none")


class DynamicWeighting(Protocol):
    """Per-batch weights recomputed during training from the per-sample losses.

    ``weights(losses, sample_ids=, positions=, labels=, logits=, epoch=, epochs=)`` returns a
    non-negative tensor ``(B,)``; the weighted loss is ``mean_i w_i * loss_i``.
    """

    def weights(self, losses: torch.Tensor, **context: Any) -> torch.Tensor: ...


@dataclass
class FitResult:
    """The trained model and one dict of metrics per epoch."""

    model: nn.Module
    history: list[dict[str, float]] = field(default_factory=list)


class TrainerState:
    """What callbacks can reach: the model, the epoch and ``evaluate(split)``."""

    def __init__(
        self,
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        epochs: int,
        device: torch.device,
        loss_fn: LossFn,
        eval_batch_size: int,
        train: DataSplit,
    ) -> None:
        self.model = model
        self.optimizer = optimizer
        self.epochs = epochs
        self.device = device
        self.loss_fn = loss_fn
        self.eval_batch_size = eval_batch_size
        self.train = train
        self.epoch = 0
        self.step = 0
        self.history: list[dict[str, float]] = []
        self.stop = False
        # keyed by id() of a split the cache itself keeps alive (so the id cannot be reused
        # by another object while its entry exists), and checked by identity on every hit
        self._cache: dict[int, tuple[Any, int, EvalResult]] = {}

    def evaluate(self, split: Any) -> EvalResult:
        """Outputs over ``split`` with the current weights (eval mode, no grad), cached per step."""
        s = as_split(split)
        hit = self._cache.get(id(s))
        if hit is not None and hit[0] is s and hit[1] == self.step:
            return hit[2]
        res = evaluate(
            self.model, s, loss_fn=self.loss_fn, batch_size=self.eval_batch_size, device=self.device
        )
        self._cache[id(s)] = (s, self.step, res)
        return res


def _split_outputs(outputs: Any) -> torch.Tensor:
    return outputs[0] if isinstance(outputs, (tuple, list)) else outputs


def _loss_terms(loss_out: LossOutput) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    if isinstance(loss_out, dict):
        if not loss_out:
            raise ValueError("loss_fn: expected a non-empty dict of per-sample terms, got {}")
        terms = dict(loss_out)
        total = torch.stack(list(terms.values())).sum(0)
        return total, terms
    return loss_out, {}


@torch.no_grad()
def evaluate(
    model: nn.Module,
    data: Any,
    *,
    loss_fn: LossFn | None = None,
    batch_size: int = 256,
    device: str | torch.device = "cpu",
) -> EvalResult:
    """Run ``model`` in eval mode over ``data``; per-sample losses under ``loss_fn`` (default CE)."""
    check_module(model)
    s = as_split(data)
    batch_size = check_integer(batch_size, "batch_size")
    if len(s) == 0:
        raise ValueError("data: expected at least one sample, got 0")
    y_max = int(s.y.max())
    loss_fn = loss_fn or cross_entropy_per_sample
    device = torch.device(device)
    was_training = model.training
    model.eval()
    logits, losses, terms = [], [], {}
    try:
        for lo in range(0, len(s), batch_size):
            xb = torch.as_tensor(s.x[lo : lo + batch_size], device=device)
            yb = torch.as_tensor(s.y[lo : lo + batch_size], device=device)
            if lo == 0:
                out = forward_checked(model, xb)
                check_logits_for_labels(out, y_max)
            else:
                out = model(xb)
            total, t = _loss_terms(loss_fn(out, yb))
            logits.append(_split_outputs(out).float().cpu())
            losses.append(total.float().cpu())
            for k, v in t.items():
                terms.setdefault(k, []).append(v.float().cpu())
    finally:
        model.train(was_training)
    return EvalResult(
        sample_ids=s.sample_id.copy(),
        logits=torch.cat(logits).numpy().astype(np.float64),
        labels=s.y.copy(),
        losses=torch.cat(losses).numpy().astype(np.float64),
        terms={k: torch.cat(v).numpy().astype(np.float64) for k, v in terms.items()},
    )


def predict_logits(
    model: nn.Module, data: Any, *, batch_size: int = 256, device: str | torch.device = "cpu"
) -> np.ndarray:
    """Logits ``(N, C)`` of ``model`` in eval mode over ``data`` (array ``(N, ...)`` or a split)."""
    check_module(model)
    if isinstance(data, (np.ndarray, torch.Tensor)):
        x = as_input_array(data, "data")
    else:
        x = as_split(data).x
    batch_size = check_integer(batch_size, "batch_size")
    if len(x) == 0:
        raise ValueError("data: expected at least one sample, got 0")
    device = torch.device(device)
    was_training = model.training
    model.eval()
    out = []
    try:
        with torch.no_grad():
            for lo in range(0, len(x), batch_size):
                xb = torch.as_tensor(x[lo : lo + batch_size], device=device)
                if lo == 0:
                    o = forward_checked(model, xb)
                    check_logits_for_labels(o, None)
                else:
                    o = model(xb)
                out.append(_split_outputs(o).float().cpu())
    finally:
        model.train(was_training)
    return torch.cat(out).numpy().astype(np.float64)


def _make_optimizer(
    optimizer: str | Callable[..., torch.optim.Optimizer],
    params: Iterable[nn.Parameter],
    lr: float,
    weight_decay: float,
) -> torch.optim.Optimizer:
    if callable(optimizer):
        return optimizer(params)
    check_choice(optimizer, "optimizer", ("adam", "adamw", "sgd"))
    if optimizer == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if optimizer == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    return torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=weight_decay)


def fit(
    model: nn.Module,
    data: Any,
    *,
    epochs: int = 10,
    batch_size: int = 128,
    optimizer: str | Callable[..., torch.optim.Optimizer] = "adam",
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    sample_weight: Any = None,
    weight_mode: str = "loss",
    weighting: DynamicWeighting | None = None,
    loss_fn: LossFn | None = None,
    callbacks: Sequence[Callback] = (),
    val: Any = None,
    scheduler: str | None = None,
    seed: int = 0,
    device: str | torch.device = "cpu",
    progress: bool = True,
    eval_batch_size: int = 256,
) -> FitResult:
    """Train ``model`` in place with per-sample losses visible to callbacks.

    The optimised objective for a batch B is ``(1/|B|) Σ_i w_i ℓ_i`` where ``ℓ_i`` is the
    per-sample loss (``loss_fn(outputs, labels)`` → ``(B,)`` or a dict of named ``(B,)``
    terms that are summed) and ``w_i`` = static ``sample_weight`` × dynamic
    ``weighting.weights(...)`` (both default 1).

    Args:
        model: any module returning logits ``(B, C)`` (or a tuple starting with them).
        data: training split (DataSplit, ``(x, y)`` arrays or a torch Dataset).
        epochs, batch_size, lr, weight_decay: the usual.
        optimizer: ``"adam"`` | ``"adamw"`` | ``"sgd"`` (momentum 0.9) | ``params -> Optimizer``.
        sample_weight: static non-negative weights ``(N,)`` aligned with ``data``'s rows.
        weight_mode: ``"loss"`` (multiply the losses) or ``"sampler"`` (draw batches with
            probability ∝ weight, with replacement, and leave losses unweighted).
        weighting: dynamic weights recomputed every batch (see :class:`DynamicWeighting`).
        loss_fn: per-sample loss; default cross-entropy.
        callbacks: :class:`Callback` objects.
        val: optional split evaluated at every epoch end (``val_loss``, ``val_acc`` in history).
        scheduler: None or ``"cosine"`` (cosine annealing over all steps).
        seed: seeds parameter-free randomness of training (shuffling, dropout).
        device: torch device.
        progress: show a progress bar over epochs.

    Returns:
        :class:`FitResult` with the trained model and per-epoch history.
    """
    check_module(model)
    train = as_split(data)
    epochs = check_integer(epochs, "epochs")
    batch_size = check_integer(batch_size, "batch_size")
    eval_batch_size = check_integer(eval_batch_size, "eval_batch_size")
    check_positive(lr, "lr")
    check_positive(weight_decay, "weight_decay", strict=False)
    check_choice(weight_mode, "weight_mode", ("loss", "sampler"))
    if scheduler is not None:
        check_choice(scheduler, "scheduler", ("cosine",))
    n = len(train)
    if n == 0:
        raise ValueError("data: expected a non-empty training split, got 0 samples")
    sw = None
    if sample_weight is not None:
        sw = check_array(sample_weight, "sample_weight", ndim=1)
        if len(sw) != n:
            raise ValueError(
                f"sample_weight: expected {n} weights (one per training sample), got {len(sw)}"
            )
        if sw.min() < 0 or sw.sum() <= 0:
            raise ValueError("sample_weight: expected non-negative weights with a positive sum")
    if weighting is not None and not callable(getattr(weighting, "weights", None)):
        raise ValueError(
            f"weighting: expected a dynamic scheme with .weights(losses, ...), got {type(weighting).__name__}"
        )
    if loss_fn is not None and not callable(loss_fn):
        raise ValueError(f"loss_fn: expected a callable (outputs, labels) -> (B,), got {loss_fn!r}")
    if isinstance(callbacks, Callback):
        raise ValueError("callbacks: expected a sequence of callbacks, got one Callback; pass [cb]")
    for i, cb in enumerate(callbacks):
        if not all(callable(getattr(cb, h, None)) for h in _HOOKS):
            raise ValueError(f"callbacks[{i}]: expected a Callback, got {type(cb).__name__}")
    if val is not None:
        val = as_split(val)
    y_max = int(train.y.max())
    device = torch.device(device)
    loss_fn = loss_fn or cross_entropy_per_sample

    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model.to(device)
    opt = _make_optimizer(optimizer, model.parameters(), lr, weight_decay)
    steps_per_epoch = _steps_per_epoch(n, batch_size)
    sched = (
        torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs * steps_per_epoch)
        if scheduler == "cosine"
        else None
    )
    lazy = isinstance(train, LazySplit)  # inputs read per batch through a DataLoader
    if lazy:
        x = None
        y, ids = (torch.as_tensor(a, device=device) for a in (train.y, train.sample_id))
    else:
        x, y, ids = train.tensors(device)
    sw_t = None if sw is None else torch.as_tensor(sw, dtype=torch.float32, device=device)
    sampler_p = (
        None if (sw is None or weight_mode == "loss") else torch.as_tensor(sw, dtype=torch.float64)
    )
    state = TrainerState(model, opt, epochs, device, loss_fn, eval_batch_size, train)
    bar = progress_bar(epochs, progress, "epochs")
    for cb in callbacks:
        cb.on_fit_start(state)
    for epoch in range(epochs):
        state.epoch = epoch
        model.train()
        for cb in callbacks:
            cb.on_epoch_start(state)
        t0 = time.perf_counter()
        tot_loss, tot_correct, tot_n = 0.0, 0, 0
        batches = batch_order(n, batch_size, gen, sampler_p)
        inputs = iter(train.loader(batches)) if lazy else None
        for pos in batches:
            pos = pos.to(device)
            xb = next(inputs).to(device) if inputs is not None else x[pos]
            yb = y[pos]
            if state.step == 0:  # the model must read the inputs and cover the labels
                out = forward_checked(model, xb)
                check_logits_for_labels(out, y_max)
            else:
                out = model(xb)
            logits = _split_outputs(out)
            per_sample, terms = _loss_terms(loss_fn(out, yb))
            w = None
            if sw_t is not None and weight_mode == "loss":
                w = sw_t[pos]
            if weighting is not None:
                dyn = weighting.weights(
                    per_sample.detach(),
                    sample_ids=ids[pos],
                    positions=pos,
                    labels=yb,
                    logits=logits.detach(),
                    epoch=epoch,
                    epochs=epochs,
                )
                w = dyn if w is None else w * dyn
            loss = (per_sample * w).mean() if w is not None else per_sample.mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if sched is not None:
                sched.step()
            b = BatchResult(
                epoch,
                state.step,
                ids[pos],
                pos,
                logits.detach(),
                yb,
                per_sample.detach(),
                {k: v.detach() for k, v in terms.items()},
                None if w is None else w.detach(),
            )
            for cb in callbacks:
                cb.on_batch_end(state, b)
            state.step += 1
            tot_loss += float(per_sample.detach().sum())
            tot_correct += int((logits.detach().argmax(1) == yb).sum())
            tot_n += len(pos)
        rec = {
            "epoch": epoch + 1,
            "train_loss": tot_loss / tot_n,
            "train_acc": tot_correct / tot_n,
            "epoch_time_s": time.perf_counter() - t0,
        }
        if val is not None:
            ev = state.evaluate(val)
            rec["val_loss"] = float(ev.losses.mean())
            rec["val_acc"] = float(ev.correct.mean())
        state.history.append(rec)
        for cb in callbacks:
            cb.on_epoch_end(state)
        bar.set_postfix({k: f"{v:.4f}" for k, v in rec.items() if k.endswith(("loss", "acc"))})
        bar.update(1)
        if state.stop:
            break
    bar.close()
    for cb in callbacks:
        cb.on_fit_end(state)
    model.eval()
    return FitResult(model, state.history)
