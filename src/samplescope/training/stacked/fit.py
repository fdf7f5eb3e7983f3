"""``fit_many``: train M models of one factory at once — stacked when it wins, else one by one.

Model ``m`` trains on rows ``index_sets[m]`` and equals, to float tolerance,
``torch.manual_seed(init_seeds[m]); net = model_fn(); fit(net, data.subset(index_sets[m]),
seed=seeds[m], ...)``. The stacked path runs :func:`samplescope.training.stacked.loop.fit_group`
on groups of models (one group in-process, one per worker on an executor); the fallback runs
:func:`samplescope.training.fit` per model through :func:`samplescope.executors.run_tasks`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from ..._validation import check_choice, check_integer, check_positive
from ...data.split import DataSplit, as_split
from ...executors import run_tasks, split_evenly
from ...models.factory import takes_seed
from ..callbacks import BatchResult, Callback
from ..checks import check_module, probe_classes
from ..trainer import fit
from .loop import build_model, fit_group
from .models import ManyModels
from .plan import OPTIMIZERS, PRECISIONS, can_vectorize, layer_plan, should_vectorize

__all__ = ["check_index_sets", "check_seeds", "fit_many"]


class _MarginSums(Callback):
    """Per-position sums of the batch margins ``z_y - max_{j≠y} z_j`` and update counts
    (what the stacked loop records with ``record_margins``, for the one-by-one fallback)."""

    def __init__(self, n: int) -> None:
        self.sum_, self.count_ = (
            torch.zeros(n, dtype=torch.float64),
            torch.zeros(n, dtype=torch.float64),
        )

    def on_batch_end(self, state: Any, batch: BatchResult) -> None:
        z, y = batch.logits.detach().float().cpu(), batch.labels.cpu()
        rows = torch.arange(len(y))
        top2 = z.topk(2, dim=1)
        right = top2.indices[:, 0] == y
        margin = z[rows, y] - torch.where(right, top2.values[:, 1], top2.values[:, 0])
        pos = batch.positions.cpu()
        self.sum_.index_add_(0, pos, margin.double())
        self.count_.index_add_(0, pos, torch.ones(len(pos), dtype=torch.float64))


def _fit_one(
    model_fn: Callable[[], nn.Module],
    x_all: np.ndarray,
    y_all: np.ndarray,
    index: np.ndarray,
    seed: int,
    init_seed: int,
    cfg: dict[str, Any],
) -> tuple[nn.Module, list[dict[str, float]]] | tuple[Any, ...]:
    net = build_model(model_fn, init_seed, cfg.get("seeded", False))
    rec = _MarginSums(len(index)) if cfg.get("record_margins") else None
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
        callbacks=[] if rec is None else [rec],
        progress=False,
    )
    hist = [{k: r[k] for k in ("epoch", "train_loss", "train_acc")} for r in res.history]
    if rec is None:
        return res.model, hist
    m_sum, m_cnt = np.zeros(len(x_all)), np.zeros(len(x_all))
    np.add.at(m_sum, index, rec.sum_.numpy())  # index may repeat rows (bootstrap sets)
    np.add.at(m_cnt, index, rec.count_.numpy())
    return res.model, hist, (m_sum, m_cnt)


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def check_seeds(seeds: Any, name: str, n: int | None) -> list[int]:
    if isinstance(seeds, (int, np.integer)):
        if n is None:
            raise ValueError(
                f"{name}: expected a sequence of seeds when index_sets is None, got {seeds}"
            )
        return [int(seeds) + m for m in range(n)]
    if isinstance(seeds, (str, bytes)) or not hasattr(seeds, "__iter__"):
        raise ValueError(f"{name}: expected an integer or a sequence of integers, got {seeds!r}")
    out = [check_integer(s, name, minimum=0) for s in seeds]
    if not out:
        raise ValueError(f"{name}: expected at least one seed, got none")
    if n is not None and len(out) != n:
        raise ValueError(f"{name}: expected {n} seeds (one per model), got {len(out)}")
    return out


def check_index_sets(index_sets: Sequence[Any], n: int, name: str) -> list[np.ndarray]:
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
    address: str | None = None,
    progress: bool = False,
    seeded_model_fn: bool = False,
    exact: bool = False,
    precision: str = "fp32",
    record_margins: bool = False,
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
            single fits (fallback); see :func:`samplescope.executors.run_tasks`.
        workers, address: for an executor created from a name (see :mod:`samplescope.executors`).
        progress: progress bar.
        seeded_model_fn: call ``model_fn(init_seed)`` instead of ``model_fn()`` (the
            ``seed -> nn.Module`` factories of :func:`samplescope.difficulty.generalization_error`).
        exact: False (default): steps where all models share ``t`` and ``lr`` use torch's
            fused Adam/AdamW kernel (5-7x faster optimizer step, equal per step up to float
            rounding; out-of-fold probabilities within 3e-7 of the exact mode on digits and
            MNIST-10k, tested to 1e-5), and ``vectorize="auto"`` stacks the compute-bound
            networks too (:func:`should_vectorize`). True: the op-by-op arithmetic of
            ``torch.optim``'s single-tensor Adam/AdamW/SGD (bit-identical to ``fit`` in our
            single-thread digits tests) and the overhead-bound networks only.
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
        record_margins: also record, per model m and row i of ``data``, the sum of the
            train-mode logit margins ``z_y - max_{j≠y} z_j`` over every update in which m
            trained on i, and the number of those updates (Pleiss et al. 2020's AUM =
            sum / count): :attr:`ManyModels.margin_sum` / ``margin_count`` ``(M, N)``. The
            stacked loop does it on its batched logits (one ``index_add_`` per step), the
            fallback with a batch callback; training itself is unchanged.

    Returns:
        :class:`ManyModels` (``predict_logits(x) -> (M, N, C)``, ``predict_logits_at``,
        ``modules()``, ``history``).
    """
    split: DataSplit = as_split(data)
    n = len(split)
    if n == 0:
        raise ValueError("data: expected at least one sample, got 0")
    if index_sets is not None and (
        isinstance(index_sets, (str, bytes)) or not isinstance(index_sets, Sequence)
    ):
        raise ValueError(f"index_sets: expected a sequence of index arrays, got {index_sets!r}")
    if index_sets is None:
        seed_list = check_seeds(seeds, "seeds", None)
        idx = [np.arange(n, dtype=np.int64)] * len(seed_list)
    else:
        idx = check_index_sets(index_sets, n, "index_sets")
        seed_list = check_seeds(seeds, "seeds", len(idx))
    M = len(idx)
    init_list = seed_list if init_seeds is None else check_seeds(init_seeds, "init_seeds", M)
    epochs = check_integer(epochs, "epochs")
    batch_size = check_integer(batch_size, "batch_size")
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
    check_choice(precision, "precision", PRECISIONS)
    exact = bool(exact)
    # seeded and under the init lock: a probe must not move the global RNG under another
    # thread's seeded initialisation (thread executors)
    if not seeded_model_fn and takes_seed(model_fn):  # the one convention: seed -> nn.Module
        seeded_model_fn = True
    probe = build_model(model_fn, init_list[0], seeded_model_fn)
    check_module(probe, "model_fn")
    # the model must read the inputs and its logits cover the labels (eval mode, no grad)
    probe_classes(probe, split.x, int(split.y.max()))
    if vectorize == "auto":
        sizes = [len(i) for i in idx]
        vec = should_vectorize(
            probe, M, batch_size=batch_size, optimizer=optimizer, precision=precision, exact=exact
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
        check_choice(optimizer, "optimizer", OPTIMIZERS)
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
        "record_margins": bool(record_margins),
    }
    x_all, y_all = split.x, split.y
    if not vec:
        tasks = [(i, s, si) for i, s, si in zip(idx, seed_list, init_list, strict=True)]
        res = run_tasks(
            _fit_one_task,
            tasks,
            executor,
            workers=workers,
            address=address,
            common=(model_fn, x_all, y_all, cfg),
            progress=progress,
            desc="fits",
        )
        out = ManyModels(
            model_fn,
            seeded=bool(seeded_model_fn),
            module_list=[r[0] for r in res],
            history=[r[1] for r in res],
        )
        if record_margins:
            out.margin_sum = np.stack([r[2][0] for r in res])
            out.margin_count = np.stack([r[2][1] for r in res])
        return out
    groups = split_evenly(M, executor, workers=workers)
    margins: list[tuple[np.ndarray, np.ndarray]] = []
    if len(groups) == 1:
        cfg["progress"] = progress
        w, b, hist, *rest = fit_group(model_fn, x_all, y_all, idx, seed_list, init_list, cfg)
        margins += rest
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
            address=address,
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
        margins += [r[3] for r in res if len(r) > 3]
    out = ManyModels(
        model_fn,
        plan=layer_plan(probe),
        seeded=bool(seeded_model_fn),
        weights=w,
        biases=b,
        history=hist,
    )
    if record_margins:
        out.margin_sum = np.concatenate([m[0] for m in margins])
        out.margin_count = np.concatenate([m[1] for m in margins])
    return out


def _fit_one_task(model_fn, x_all, y_all, cfg, index, seed, init_seed):  # noqa: ANN001, ANN202
    return _fit_one(model_fn, x_all, y_all, index, seed, init_seed, cfg)


def _fit_group_task(model_fn, x_all, y_all, cfg, index_sets, seeds, init_seeds):  # noqa: ANN001, ANN202
    return fit_group(model_fn, x_all, y_all, index_sets, seeds, init_seeds, cfg)
