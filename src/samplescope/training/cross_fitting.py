"""The one cross-fitting engine: R repeats × K (stratified) folds, out-of-fold logits ``(R, N, C)``.

Every sample is held out once per repeat, so each has ``R`` out-of-fold predictions, each
from a model that did not train on it. The generalization error (Zhou et al. 2022), the
cross-validated probabilities of the label-issue finders (cleanlab's
``estimate_cv_predicted_probabilities``), cross-fitted trust labels and out-of-fold
calibration all sit on top of :func:`crossfit`.

**Seed scheme** (the only one in the library):

- repeat ``r`` splits with ``StratifiedKFold(K, shuffle=True, random_state=seed + r)``
  (``KFold`` when ``stratified=False``), so repeat 0 uses exactly cleanlab's folds for
  ``estimate_cv_predicted_probabilities(..., seed=seed)``;
- the model of (repeat ``r``, fold ``k``) trains — initialisation, batch order, dropout —
  with seed :func:`fit_seed` ``= seed · 10007 + r · K + k`` (distinct seeds give disjoint
  model seeds as long as ``R · K < 10007``).

**Learners**: a torch factory ``model_fn(seed) -> nn.Module`` (or the default model of
``model_kind``), trained with :func:`samplescope.training.fit`; the stacked fast path
(:mod:`samplescope.training.stacked`) when the factory builds a supported MLP and stacking
wins; any scikit-learn classifier (``estimator=``, cloned per fit; its out-of-fold
"logits" are clipped log-probabilities); or any ``fold_fn(train, heldout, seed, config) ->
logits`` of your own.

**Fan-out and checkpoints**: fits (or stacked groups of fits) fan out through
``executor=`` (:func:`samplescope.executors.run_tasks`). With ``checkpoint_dir`` every
finished fit's held-out logits are written atomically (``fit_r{r}_k{k}.npy``, and the model's
``state_dict`` as ``.pt`` when models are requested), on the stacked path group by group
(``group_size`` fits at a time, default one repeat), so a killed run loses at most one group;
a rerun with the same inputs (fingerprinted) reuses them.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .._progress import progress_bar
from .._validation import check_choice, check_labels, check_positive
from ..data.split import DataSplit, as_split
from ..executors import run_tasks, split_evenly
from ..io.atomic import atomic_path, atomic_write_json
from ..models.nets import default_model
from .folds import (
    CrossFitResult,
    FoldConfig,
    FoldFn,
    fit_fold,
    fit_seed,
    fold_assignments,
    heldout_logits,
)
from .stacked import PRECISIONS, build_model, should_vectorize

__all__ = ["crossfit"]


# --------------------------------------------------------------------------------------------
# The engine
# --------------------------------------------------------------------------------------------


def _fingerprint(
    s: DataSplit, folds: int, repeats: int, seed: int, config: FoldConfig, extra: dict[str, Any]
) -> str:
    h = hashlib.sha256()
    for a in (s.sample_id, s.y):
        h.update(np.ascontiguousarray(a).tobytes())
    h.update(np.ascontiguousarray(s.x[:: max(1, len(s) // 64)]).tobytes())
    desc = {k: repr(v) for k, v in sorted(vars(config).items()) if k != "device"}
    desc.update(extra)
    h.update(
        json.dumps(
            {"folds": folds, "repeats": repeats, "seed": seed, **desc}, sort_keys=True
        ).encode()
    )
    return h.hexdigest()[:16]


def _open_checkpoints(ckdir: Path, fingerprint: str, meta: dict[str, Any]) -> None:
    ckdir.mkdir(parents=True, exist_ok=True)
    path = ckdir / "gen_error_meta.json"
    if path.is_file():
        old = json.loads(path.read_text()).get("fingerprint")
        if old != fingerprint:
            raise ValueError(
                f"checkpoint_dir: {ckdir} holds fits of a different run (fingerprint {old} != "
                f"{fingerprint}); use an empty folder"
            )
    else:
        atomic_write_json(path, {"fingerprint": fingerprint, **meta})


def _save_fit(stem: str | None, logits: np.ndarray, model: Any) -> None:
    if stem is None:
        return
    if model is not None:
        with atomic_path(stem + ".pt") as tmp:
            torch.save(model.state_dict(), tmp)
    with atomic_path(stem + ".npy") as tmp, open(tmp, "wb") as fh:
        np.save(fh, logits)


def _one_fit_task(
    split: DataSplit,
    fold_fn: FoldFn | None,
    train_pos: np.ndarray,
    held_pos: np.ndarray,
    seed: int,
    config: FoldConfig,
    stem: str | None,
    keep_model: bool,
) -> tuple[np.ndarray, Any]:
    """Top-level task: one fit on rows ``train_pos``, held-out logits on ``held_pos``, saved."""
    train, heldout = split.subset(train_pos), split.subset(held_pos)
    if fold_fn is None:
        out, model = fit_fold(train, heldout, seed, config)
    else:
        out, model = fold_fn(train, heldout, seed, config), None
    out = np.asarray(out, dtype=np.float64)
    torch_model = model if keep_model and isinstance(model, torch.nn.Module) else None
    if out.shape == (len(held_pos), config.num_classes):
        _save_fit(stem, out, torch_model)
    return out, model if keep_model else None


def _default_factory(input_shape: tuple[int, ...], C: int, kind: str | None) -> Any:
    return default_model(input_shape, C, kind=kind)


def _stacked_factory(config: FoldConfig, input_shape: tuple[int, ...]) -> tuple[Callable, bool]:
    """``(model_fn, seeded)``: what :meth:`FoldConfig.build` builds, for the stacked trainer."""
    if config.model_fn is not None:
        return config.model_fn, True
    return functools.partial(
        _default_factory, input_shape, config.num_classes, config.model_kind
    ), False


def _stacked_group_task(
    split: DataSplit,
    config: FoldConfig,
    pairs: list[tuple[np.ndarray, np.ndarray]],
    seeds: list[int],
    stems: list[str | None],
    options: dict[str, Any],
    keep_models: bool,
) -> tuple[list[np.ndarray], list[Any] | None]:
    """Top-level task: one group of fits trained stacked, each fit's logits saved as it ends."""
    mf, seeded = _stacked_factory(config, tuple(split.x.shape[1:]))
    outs, many = heldout_logits(
        mf,
        split,
        pairs,
        seeds=seeds,
        init_seeds=seeds,
        **config.train_options(),
        vectorize=True,
        seeded_model_fn=seeded,
        return_models=True,
        **options,
    )
    models = many.modules() if keep_models else None
    for m, (out, stem) in enumerate(zip(outs, stems, strict=True)):
        _save_fit(stem, out, None if models is None else models[m])
    return outs, models


def _use_stacked(
    vectorize: bool | str,
    config: FoldConfig,
    fold_fn: FoldFn | None,
    n_fits: int,
    input_shape: tuple[int, ...],
    precision: str,
    exact: bool,
) -> bool:
    blocked = (
        vectorize is False
        or config.estimator is not None
        or fold_fn is not None
        or config.device != "cpu"
    )
    reason = (
        f"got vectorize={vectorize!r}, estimator="
        f"{None if config.estimator is None else type(config.estimator).__name__}, "
        f"fold_fn={'custom' if fold_fn is not None else None}, device={config.device!r}"
    )
    if blocked:
        if precision != "fp32":
            raise ValueError(
                f"precision: {precision!r} needs the stacked trainer (a torch MLP, the default "
                f"fold_fn, device 'cpu', vectorize not False), {reason}"
            )
        return False
    if vectorize is True or n_fits < 1:
        return True
    mf, seeded = _stacked_factory(config, input_shape)
    probe = build_model(mf, 0, seeded)
    vec = should_vectorize(
        probe,
        max(n_fits, 2),
        batch_size=config.batch_size,
        optimizer=config.optimizer,
        precision=precision,
        exact=exact,
    )
    if not vec and precision != "fp32":
        raise ValueError(
            f"precision: {precision!r} needs the stacked trainer: an nn.Sequential of "
            "Flatten/Linear/element-wise activations/Dropout, optimizer adam/adamw/sgd, stacked "
            f"weights within the memory budget, got optimizer={config.optimizer!r}, "
            f"model {type(probe).__name__}"
        )
    return vec


def _groups(n: int, executor: Any, workers: int | None, group_size: int | None) -> list[list[int]]:
    """Groups of pending fits: one per worker, each cut to at most ``group_size`` fits."""
    out = []
    for g in split_evenly(n, executor, workers=workers):
        size = group_size or len(g)
        out += [g[i : i + size] for i in range(0, len(g), size)]
    return out


def crossfit(
    data: Any,
    config: FoldConfig,
    *,
    folds: int = 5,
    repeats: int = 1,
    seed: int = 0,
    stratified: bool = True,
    fold_fn: FoldFn | None = None,
    vectorize: bool | str = "auto",
    precision: str = "fp32",
    exact: bool = False,
    executor: Any = None,
    workers: int | None = None,
    address: str | None = None,
    checkpoint_dir: str | os.PathLike | None = None,
    group_size: int | None = None,
    return_models: bool = False,
    progress: bool = False,
) -> CrossFitResult:
    """Out-of-fold logits ``(R, N, C)`` of ``repeats`` × ``folds``-fold cross-fitting.

    Args:
        data: a :class:`DataSplit`, ``(x, y)`` arrays or a torch Dataset; ``N`` samples with
            labels in ``[0, config.num_classes)``.
        config: the learner and its training (:class:`FoldConfig`).
        folds: ``K >= 2``, at most the largest class size. repeats: ``R >= 1``.
        seed: the seed scheme of the module docstring. stratified: ``StratifiedKFold``
            (default) or ``KFold``.
        fold_fn: replaces :func:`fit_predict_fold` (same signature, top-level for pickling).
        vectorize: ``"auto"`` (default) trains torch MLP fits stacked where that wins
            (:func:`samplescope.training.stacked.should_vectorize`); True forces it; False
            trains them one by one.
        precision: ``"fp32"`` | ``"bf16"`` (mixed precision, stacked trainer only).
        exact: op-by-op Adam on the stacked path (bit-identical to one-by-one fits) instead of
            the default fused step (within 1e-5 of it).
        executor, workers, address: fan-out of the fits (:mod:`samplescope.executors`).
        checkpoint_dir: save every finished fit there; a rerun with the same inputs resumes.
        group_size: fits per stacked group (default: all pending fits in one group per
            worker; ``K`` when checkpointing, so a kill loses at most one repeat's fits).
        return_models: keep the trained models (``result.models[r][k]``).
        progress: a progress bar over the fits (or groups).

    Returns:
        :class:`CrossFitResult` (``oof_logits`` ``(R, N, C)``, ``fold_ids`` ``(R, N)``,
        ``seeds`` ``(R, K)``, ``models``).
    """
    if not isinstance(config, FoldConfig):
        raise ValueError(f"config: expected a FoldConfig, got {type(config).__name__}")
    s = as_split(data)
    C = config.num_classes
    if not isinstance(C, (int, np.integer)) or C < 2:
        raise ValueError(f"num_classes: expected an integer >= 2, got {C!r}")
    y = check_labels(s.y, "data labels", num_classes=int(C))
    for name, v, lo in (("folds", folds, 2), ("repeats", repeats, 1)):
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < lo:
            raise ValueError(f"{name}: expected an integer >= {lo}, got {v!r}")
    folds, repeats = int(folds), int(repeats)
    largest = int(np.bincount(y, minlength=C).max())
    if stratified and largest < folds:
        raise ValueError(
            f"folds: expected at most {largest} folds (the largest class size), got {folds}"
        )
    if len(s) < 2 * folds:
        raise ValueError(
            f"data: expected at least {2 * folds} samples for {folds} folds, got {len(s)}"
        )
    check_choice(precision, "precision", PRECISIONS)
    if vectorize not in (True, False, "auto"):
        raise ValueError(f"vectorize: expected True, False or 'auto', got {vectorize!r}")
    if group_size is not None:
        group_size = int(check_positive(group_size, "group_size"))
    if fold_fn is not None and not callable(fold_fn):
        raise ValueError(f"fold_fn: expected a callable, got {type(fold_fn).__name__}")
    if return_models and checkpoint_dir is not None and config.estimator is not None:
        raise ValueError(
            "return_models: fitted scikit-learn estimators are not checkpointed; pass "
            "checkpoint_dir=None to get them back"
        )
    if return_models and fold_fn is not None:
        raise ValueError("return_models: a custom fold_fn returns logits only, not models")

    fold_ids = fold_assignments(y, folds, repeats, seed, stratified=stratified)
    seeds = np.array(
        [[fit_seed(seed, r, k, folds) for k in range(folds)] for r in range(repeats)],
        dtype=np.int64,
    )
    ckdir = None if checkpoint_dir is None else Path(checkpoint_dir)
    if ckdir is not None:
        extra = {} if precision == "fp32" else {"precision": precision}
        if not stratified:
            extra["stratified"] = "False"
        _open_checkpoints(
            ckdir,
            _fingerprint(s, folds, repeats, int(seed), config, extra),
            {"folds": folds, "repeats": repeats, "seed": int(seed)},
        )
    logits = np.full((repeats, len(s), C), np.nan)
    models: list[list[Any]] | None = (
        [[None] * folds for _ in range(repeats)] if return_models else None
    )
    pending: list[tuple[int, int]] = []
    for r in range(repeats):
        for k in range(folds):
            stem = None if ckdir is None else str(ckdir / f"fit_r{r}_k{k}")
            if (
                stem is not None
                and Path(stem + ".npy").is_file()
                and (not return_models or Path(stem + ".pt").is_file())
            ):
                logits[r, fold_ids[r] == k] = np.load(stem + ".npy", allow_pickle=False)
                if models is not None:
                    net = config.build(tuple(s.x.shape[1:]), int(seeds[r, k]))
                    net.load_state_dict(torch.load(stem + ".pt", weights_only=True))
                    models[r][k] = net.eval()
                continue
            pending.append((r, k))

    def place(r: int, k: int, out: np.ndarray, model: Any) -> None:
        held = fold_ids[r] == k
        if out.shape != (int(held.sum()), C):
            raise ValueError(
                f"fold_fn: expected held-out logits of shape {(int(held.sum()), C)}, got {out.shape}"
            )
        logits[r, held] = out
        if models is not None:
            models[r][k] = model

    def pair(r: int, k: int) -> tuple[np.ndarray, np.ndarray]:
        return np.flatnonzero(fold_ids[r] != k), np.flatnonzero(fold_ids[r] == k)

    def stem_of(r: int, k: int) -> str | None:
        return None if ckdir is None else str(ckdir / f"fit_r{r}_k{k}")

    shape = tuple(s.x.shape[1:])
    if pending and _use_stacked(vectorize, config, fold_fn, len(pending), shape, precision, exact):
        size = group_size or (folds if ckdir is not None else None)
        groups = [[pending[i] for i in g] for g in _groups(len(pending), executor, workers, size)]
        options = {"precision": precision, "exact": exact}
        tasks = [
            (config, [pair(*f) for f in g], [int(seeds[f]) for f in g], [stem_of(*f) for f in g])
            for g in groups
        ]
        tasks = [(*t, options, return_models) for t in tasks]
        results = run_tasks(
            _stacked_group_task,
            tasks,
            executor,
            workers=workers,
            address=address,
            common=(s,),
            progress=progress,
            desc="stacked K-fold groups",
        )
        for g, (outs, ms) in zip(groups, results, strict=True):
            for j, (r, k) in enumerate(g):
                place(r, k, np.asarray(outs[j], dtype=np.float64), None if ms is None else ms[j])
    elif pending:
        tasks = [
            (fold_fn, *pair(r, k), int(seeds[r, k]), config, stem_of(r, k), return_models)
            for r, k in pending
        ]
        if executor is None or executor == "inprocess":  # place (and check) each fit as it ends
            bar = progress_bar(len(tasks), progress, "K-fold fits")
            for (r, k), task in zip(pending, tasks, strict=True):
                place(r, k, *_one_fit_task(s, *task))
                bar.update(1)
            bar.close()
        else:
            outs = run_tasks(
                _one_fit_task,
                tasks,
                executor,
                workers=workers,
                address=address,
                common=(s,),
                progress=progress,
                desc="K-fold fits",
            )
            for (r, k), (out, model) in zip(pending, outs, strict=True):
                place(r, k, out, model)
    if not np.isfinite(logits).all():
        raise ValueError("fold_fn: held-out logits contain non-finite values")
    return CrossFitResult(logits, fold_ids, seeds, config, models)
