"""Compute any set of registered measures for one training split into one ScoreTable.

Measures are grouped by kind (see :mod:`samplescope.difficulty.registry`):

- ``logits`` / ``gradient`` / ``dynamics``: one model is trained on the whole split with
  the dynamics callbacks attached (:class:`ActionScore` evaluates the training split at
  every epoch end; cartography / AUM / forgetting use the training batches); logit and
  gradient measures use the final model on the training samples;
- ``labels``: from the labels alone;
- ``gen_error_fast`` and its parts (:data:`FAST_GEN_ERROR_COLUMNS`, registered as
  ``kfold``): :func:`fast_generalization_error`, one stacked run of 2 × 2 half-data models
  (its own ``R = 2``; ``folds`` / ``repeats`` are the K-fold's), fitted only when asked for;
- ``kfold``: :func:`generalization_error` (``repeats`` × stratified ``folds``-fold;
  ``precision="bf16"`` trains those fits in mixed precision, see
  :func:`samplescope.training.fit_many`; the cross-fitting engine underneath is
  :func:`samplescope.training.crossfit`);
- ``stochastic``: over the ``R`` held-out predictions of the K-fold repeats (models trained
  on different random training sets, as Zhou et al. estimate epistemic uncertainty); needs
  ``repeats >= 2``.

Every column is higher = harder.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from torch import nn

from .._validation import check_integer, check_num_classes
from ..data.split import as_split
from ..io.scores import ScoreTable
from ..models.factory import build_from
from ..models.nets import default_model
from ..training.trainer import fit, predict_logits
from .dynamics import ActionScore, TrainingDynamics
from .fast_generalization import (
    FAST_GEN_ERROR_COLUMNS,
    FastGenErrorResult,
    fast_generalization_error,
)
from .generalization import GenErrorResult, generalization_error
from .registry import get_measure, list_measures, measure_aliases

__all__ = ["DifficultyResult", "compute_measures"]


@dataclass
class DifficultyResult:
    """``table`` (every requested measure), the trained model (or None), its history, the
    K-fold result, and the :func:`fast_generalization_error` result (or None)."""

    table: ScoreTable
    model: nn.Module | None
    history: list[dict[str, float]]
    gen: GenErrorResult | None
    fast: FastGenErrorResult | None = None


def _known() -> set[str]:
    return set(list_measures()) | set(measure_aliases())


def compute_measures(
    data: Any,
    num_classes: int,
    measures: Sequence[str],
    *,
    folds: int = 5,
    repeats: int = 3,
    model_kind: str | None = None,
    model_fn: Callable[..., nn.Module] | None = None,
    epochs: int = 10,
    batch_size: int = 128,
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    seed: int = 0,
    executor: Any = None,
    checkpoint_dir: str | os.PathLike | None = None,
    progress: bool = True,
    val: Any = None,
    device: str = "cpu",
    precision: str = "fp32",
    exact: bool = False,
) -> DifficultyResult:
    """Compute ``measures`` (registered names) for every sample of ``data``; see the module docstring.

    ``executor``, ``checkpoint_dir``, ``precision`` and ``exact`` go to the K-fold fits
    (:func:`samplescope.training.crossfit`; ``exact=True``: op-by-op Adam on the stacked path,
    bit-for-bit the one-by-one fits, instead of the default fused step within 1e-5 of it).
    """
    s = as_split(data)
    num_classes = check_num_classes(num_classes)
    if isinstance(measures, (str, bytes)) or not isinstance(measures, Sequence):
        raise ValueError(f"measures: expected a list of measure names, got {measures!r}")
    unknown = [n for n in measures if not isinstance(n, str) or n not in _known()]
    if unknown:
        raise ValueError(f"measures: expected names among {list_measures()}, got {unknown}")
    epochs, batch_size = check_integer(epochs, "epochs"), check_integer(batch_size, "batch_size")
    # aliases (``bald``, ``epistemic``, ...) become their canonical name: one column per quantity
    names = list(dict.fromkeys(get_measure(n).name for n in measures))
    if not names:
        raise ValueError("measures: expected at least one measure name, got none")
    ms = {n: get_measure(n) for n in names}
    kinds = {m.kind for m in ms.values()}
    if "stochastic" in kinds and repeats < 2:
        raise ValueError(
            f"repeats: stochastic measures use the K-fold repeats and need repeats >= 2, got {repeats}"
        )
    cols: dict[str, np.ndarray] = {}
    model = None
    history: list[dict[str, float]] = []
    gen = None

    if kinds & {"logits", "gradient", "dynamics"}:
        import torch

        torch.manual_seed(seed)
        model = (
            build_from(model_fn, seed)
            if model_fn is not None
            else default_model(s.x.shape[1:], num_classes, kind=model_kind)
        )
        dyn_names = [n for n, m in ms.items() if m.kind == "dynamics"]
        callbacks = []
        action = TrainingDynamics(source="batches") if dyn_names else None
        act_eval = ActionScore() if "action_score" in dyn_names else None
        callbacks = [c for c in (action, act_eval) if c is not None]
        res = fit(
            model,
            s,
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            weight_decay=weight_decay,
            seed=seed,
            callbacks=callbacks,
            val=val,
            progress=progress,
            device=device,
        )
        history = res.history
        if action is not None:
            dyn = action.scores()
            if act_eval is not None:
                dyn.update(act_eval.scores())
            pos = s.positions(action.sample_ids)
            for n in dyn_names:
                cols[n] = np.empty(len(s))
                cols[n][pos] = dyn[n]
            for k, v in dyn.items():  # per-term action scores
                if k.startswith("action_score_") and "action_score" in dyn_names:
                    cols[k] = np.empty(len(s))
                    cols[k][pos] = v
        if "logits" in kinds:
            logits = predict_logits(model, s, device=device)
            for n, m in ms.items():
                if m.kind == "logits":
                    cols[n] = m.fn(logits, s.y)
        for n, m in ms.items():
            if m.kind == "gradient":
                cols[n] = m.fn(model, s, device=device)
    for n, m in ms.items():
        if m.kind == "labels":
            cols[n] = m.fn(s.y, num_classes)
    fast = None
    if any(n in FAST_GEN_ERROR_COLUMNS for n in names):
        fast = fast_generalization_error(
            s,
            num_classes,
            model_fn=model_fn,
            model_kind=model_kind,
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            weight_decay=weight_decay,
            seed=seed,
            device=device,
            executor=executor,
            progress=progress,
        )
        for n in names:
            if n in FAST_GEN_ERROR_COLUMNS:
                cols[n] = fast.table.column(n)
    k_names = [n for n, m in ms.items() if m.kind == "kfold" and n not in FAST_GEN_ERROR_COLUMNS]
    if k_names or "stochastic" in kinds:
        gen = generalization_error(
            s,
            num_classes,
            folds=folds,
            repeats=repeats,
            model_fn=model_fn,
            model_kind=model_kind,
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            weight_decay=weight_decay,
            seed=seed,
            executor=executor,
            checkpoint_dir=checkpoint_dir,
            progress=progress,
            device=device,
            precision=precision,
            exact=exact,
        )
        for n, m in ms.items():
            if n in k_names:
                cols[n] = gen.table.column(n)
            elif m.kind == "stochastic":
                cols[n] = m.fn(gen.oof_probs, s.y)
    ordered = {n: cols[n] for n in names}
    ordered.update({k: v for k, v in cols.items() if k not in ordered})
    table = ScoreTable.from_arrays(s.sample_id, s.y, true_label=s.true_y, **ordered)
    return DifficultyResult(table, model, history, gen, fast)
