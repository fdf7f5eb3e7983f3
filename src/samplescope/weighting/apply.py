"""Using a scheme in training: static weights from a ScoreTable, dynamic ones per batch.

- :func:`difficulty_from_table` aligns a ScoreTable column to a split by ``sample_id``;
- :func:`static_weights` applies a static scheme (a :class:`Transform` or a registered name);
- :func:`resolve_weighting` turns any scheme into the trainer's keyword arguments
  (``sample_weight=`` | ``weighting=`` | ``loss_fn=``);
- :func:`fit_weighted` trains with it, either as a weighted loss (``weight_mode="loss"``) or
  as a weighted sampler (``weight_mode="sampler"``: batches drawn with probability ∝ w,
  static schemes only).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from torch import nn

from .._validation import check_choice, check_ids, check_labels, check_num_classes, check_scores
from ..data.split import DataSplit, as_split
from ..io import ScoreTable
from ..training import FitResult, fit
from .focal import FocalLoss
from .registry import WeightingSpec, get_weighting
from .transforms import Transform

__all__ = ["difficulty_from_table", "static_weights", "resolve_weighting", "fit_weighted"]


def difficulty_from_table(
    table: ScoreTable | str | Any, column: str, sample_ids: Any
) -> np.ndarray:
    """Values of ``column`` for ``sample_ids`` (in that order); every id must be in the table.

    Args:
        table: a :class:`ScoreTable` or a path to one (.parquet/.csv).
        column: a score column (e.g. ``"gen_error"``).
        sample_ids: ``(N,)`` ids of the training split.

    Returns:
        ``(N,)`` float64.
    """
    if not isinstance(table, ScoreTable):
        if not isinstance(table, (str, os.PathLike)):
            raise ValueError(
                f"table: expected a ScoreTable or a path to one, got {type(table).__name__}"
            )
        table = ScoreTable.load(table)
    if not isinstance(column, str) or column not in table.df.columns:
        raise ValueError(
            f"column: expected a column name of the table {table.measures}, got {column!r}"
        )
    vals = table.column(column)
    ids = check_ids(sample_ids, "sample_ids")
    s = dict(zip(table.column("sample_id").tolist(), range(len(table)), strict=False))
    missing = [i for i in ids.tolist() if i not in s]
    if missing:
        raise ValueError(
            f"sample_ids: {len(missing)} training ids are not in the table (e.g. {missing[:3]})"
        )
    return check_scores(vals[[s[i] for i in ids.tolist()]].astype(np.float64), column)


def _build(scheme: Any, params: dict[str, Any] | None) -> tuple[Any, WeightingSpec | None]:
    if isinstance(scheme, str):
        spec = get_weighting(scheme)
        return spec(**(params or {})), spec
    if params:
        raise ValueError("params: only allowed with a registered scheme name")
    return scheme, None


def static_weights(
    scheme: Transform | str,
    labels: Any,
    difficulty: Any = None,
    *,
    num_classes: int | None = None,
    params: dict[str, Any] | None = None,
) -> np.ndarray:
    """Weights ``(N,)`` of a static scheme for training labels ``(N,)`` and difficulty ``(N,)``.

    ``difficulty`` (higher = harder) is required when the scheme reads one (``hard_first``,
    ``inverse_margin``, ...); label-only schemes (``class_balanced``, ``grw``) ignore it.
    """
    t, spec = _build(scheme, params)
    if not isinstance(t, Transform):
        raise ValueError(f"scheme: expected a static scheme (Transform), got {type(t).__name__}")
    if num_classes is not None:
        num_classes = check_num_classes(num_classes)
    y = check_labels(labels, "labels", num_classes=num_classes)
    if difficulty is None:
        if spec is not None and spec.needs_difficulty:
            raise ValueError(
                f"difficulty: weighting {spec.name!r} needs a difficulty column, got None"
            )
        difficulty = np.zeros(len(y))
    else:
        difficulty = check_scores(difficulty, "difficulty", n=len(y))
    w = t(difficulty, labels=y, num_classes=num_classes)
    if not (np.all(np.isfinite(w)) and w.min() >= 0 and w.sum() > 0):
        raise ValueError(
            f"scheme: {t.name} produced invalid weights (need finite, >= 0, positive sum)"
        )
    return w


def resolve_weighting(
    scheme: Any,
    split: DataSplit,
    *,
    difficulty: Any = None,
    num_classes: int | None = None,
    params: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Trainer keyword arguments for ``scheme`` on ``split``.

    ``scheme``: a registered name (with ``params``), a :class:`Transform` (static), an object
    with ``.weights`` (dynamic) or a :class:`FocalLoss` / other per-sample loss (``loss_fn``).
    Returns one of ``{"sample_weight": (N,)}``, ``{"weighting": obj}``, ``{"loss_fn": fn}``.
    A bare :class:`Transform` given without ``difficulty`` is applied to zeros (right for
    label-only transforms such as :func:`.class_weights.grw`; a difficulty-reading transform
    then gives uniform weights, so pass ``difficulty`` or use the registered name, which checks).
    """
    split = as_split(split)
    obj, spec = _build(scheme, params)
    if isinstance(obj, Transform):
        if spec is None and difficulty is None:
            difficulty = np.zeros(len(split))
        return {
            "sample_weight": static_weights(
                spec.name if spec else obj,
                split.y,
                difficulty,
                num_classes=num_classes,
                params=params,
            )
        }
    if hasattr(obj, "weights"):
        if hasattr(obj, "reset"):
            obj.reset()
        return {"weighting": obj}
    if isinstance(obj, FocalLoss) or callable(obj):
        return {"loss_fn": obj}
    raise ValueError(
        f"scheme: expected a Transform, a dynamic weighting or a loss, got {type(obj).__name__}"
    )


def fit_weighted(
    model: nn.Module,
    data: Any,
    scheme: Any,
    *,
    difficulty: Any = None,
    weight_mode: str = "loss",
    num_classes: int | None = None,
    params: dict[str, Any] | None = None,
    **fit_kwargs: Any,
) -> FitResult:
    """``training.fit`` with ``scheme`` applied (see :func:`resolve_weighting`).

    ``weight_mode="sampler"`` draws batches with probability ∝ the static weights and leaves
    the loss unweighted; it is only defined for static schemes (``ValueError`` otherwise).
    ``difficulty`` ``(N,)`` is aligned with ``data``'s rows (use :func:`difficulty_from_table`).
    """
    check_choice(weight_mode, "weight_mode", ("loss", "sampler"))
    split = as_split(data)
    kw = resolve_weighting(
        scheme, split, difficulty=difficulty, num_classes=num_classes, params=params
    )
    if weight_mode == "sampler" and "sample_weight" not in kw:
        raise ValueError(
            "weight_mode: 'sampler' needs a static scheme (per-sample weights known before training)"
        )
    overlap = set(kw) & set(fit_kwargs)
    if overlap:
        raise ValueError(f"fit_kwargs: {sorted(overlap)} are set by the weighting scheme")
    return fit(model, split, weight_mode=weight_mode, **kw, **fit_kwargs)
