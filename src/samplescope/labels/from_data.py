"""Label issues straight from data: cross-fitted (K-fold) or one-run variants.

- :func:`label_issues_from_data` trains ``repeats × folds`` held-out models with the
  cross-fitting engine (:func:`samplescope.training.crossfit`), averages the out-of-fold
  probabilities over the repeats and calls :func:`find_label_issues`; with
  ``rank_by="gen_error"`` the samples are ranked by the K-fold generalization error (Zhou et
  al. 2022 eq. 2, :func:`samplescope.difficulty.decompose_cross_entropy`) instead, the count
  still coming from the probabilities.
- :func:`label_issues_one_run` trains one model on every sample and uses its in-sample logits
  (cheaper; a model that has memorised its noisy labels hides them, so keep the epochs few)
  or, with ``rank_by=`` a one-run measure such as ``"aum"``, ``"action_score"`` or ``"loss"``
  (:func:`samplescope.difficulty.compute_measures`), that measure's ranking.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validation import check_choice, check_integer
from ..data.split import Dataset, DataSplit, as_split
from ..functional import softmax
from .issues import LabelIssues, find_label_issues

__all__ = ["CrossFitLabelIssues", "label_issues_from_data", "label_issues_one_run"]


@dataclass
class CrossFitLabelIssues:
    """``issues`` plus the out-of-fold logits ``(R, N, C)`` and the fold of every sample."""

    issues: LabelIssues
    oof_logits: np.ndarray
    fold_ids: np.ndarray
    split: DataSplit


def _split_of(data: Any) -> tuple[DataSplit, int | None]:
    """A DataSplit and the number of classes it declares (UserData / Dataset), if any."""
    if isinstance(data, Dataset):
        return data.train, data.num_classes
    inner = getattr(data, "split", None)  # samplescope.data.UserData
    if isinstance(inner, DataSplit):
        return inner, getattr(data, "num_classes", None)
    return as_split(data), None


def _classes(split: DataSplit, declared: int | None, num_classes: int | None) -> int:
    if num_classes is not None:
        c = check_integer(num_classes, "num_classes", minimum=2)
        top = int(split.y.max()) if len(split) else -1
        if top >= c:  # checked before any training
            raise ValueError(
                f"num_classes: expected more than the largest label of data ({top}), got {c}"
            )
        return c
    if declared is not None:
        return int(declared)
    return max(int(split.y.max()) + 1, 2)


def label_issues_from_data(
    data: Any,
    *,
    num_classes: int | None = None,
    folds: int = 5,
    repeats: int = 1,
    count: str = "auto",
    rank_by: str = "auto",
    model_fn: Callable[[int], Any] | None = None,
    model_kind: str | None = None,
    estimator: Any = None,
    epochs: int = 10,
    batch_size: int = 128,
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    seed: int = 0,
    device: str = "cpu",
    checkpoint_dir: str | os.PathLike | None = None,
    progress: bool = False,
    **engine: Any,
) -> CrossFitLabelIssues:
    """Cross-fitted label issues: ``repeats × folds`` held-out fits, then :func:`find_label_issues`.

    Args:
        data: a :class:`~samplescope.data.DataSplit`, a ``Dataset`` (its training split), a
            :class:`~samplescope.data.UserData` (its ``split``), ``(x, y)`` arrays or a torch
            Dataset.
        num_classes: ``C`` (default: the data's, else ``max(y) + 1``).
        folds, repeats: ``K >= 2`` and ``R >= 1``; ``R·K`` training runs.
        count, rank_by: as :func:`find_label_issues`, plus ``rank_by="gen_error"`` (the K-fold
            generalization error of every sample, higher = more likely wrong).
        model_fn / model_kind / estimator, epochs, batch_size, lr, weight_decay, device: the
            learner (:class:`samplescope.training.FoldConfig`).
        seed, checkpoint_dir, progress, engine: the engine's (``executor``, ``workers``,
            ``vectorize``, ``precision``, ...).

    Returns:
        :class:`CrossFitLabelIssues` (``.issues``, ``.oof_logits`` ``(R, N, C)``, ``.fold_ids``).
    """
    from ..training import FoldConfig, crossfit

    split, declared = _split_of(data)
    C = _classes(split, declared, num_classes)
    check_choice(
        rank_by, "rank_by", ("auto", "posterior", "margin", "self_confidence", "gen_error")
    )
    config = FoldConfig(
        C,
        epochs,
        batch_size,
        lr,
        weight_decay,
        "adam",
        model_fn,
        model_kind,
        estimator,
        device,
    )
    res = crossfit(
        split,
        config,
        folds=folds,
        repeats=repeats,
        seed=seed,
        checkpoint_dir=checkpoint_dir,
        progress=progress,
        **engine,
    )
    probs = softmax(res.oof_logits, axis=2).mean(axis=0)
    if rank_by == "gen_error":
        from ..difficulty import decompose_cross_entropy

        ge = decompose_cross_entropy(logits=res.oof_logits, labels=split.y)["gen_error"]
        issues = find_label_issues(split.y, probs=probs, scores=ge, count=count, num_classes=C)
    else:
        issues = find_label_issues(
            split.y, probs=probs, count=count, rank_by=rank_by, num_classes=C
        )
    return CrossFitLabelIssues(issues, res.oof_logits, res.fold_ids, split)


_ONE_RUN = ("posterior", "margin", "self_confidence")


def label_issues_one_run(
    data: Any,
    *,
    num_classes: int | None = None,
    count: str = "auto",
    rank_by: str = "posterior",
    model_fn: Callable[[int], Any] | None = None,
    model_kind: str | None = None,
    epochs: int = 10,
    batch_size: int = 128,
    lr: float = 1e-3,
    seed: int = 0,
    device: str = "cpu",
    progress: bool = False,
) -> LabelIssues:
    """One training run on every sample; label issues from its in-sample logits.

    ``rank_by``: ``"posterior"`` | ``"margin"`` | ``"self_confidence"`` (of the in-sample
    probabilities), or the name of any registered ``logits`` / ``dynamics`` difficulty measure
    (``"aum"``, ``"action_score"``, ``"loss"``, ``"forgetting"``, ...), recorded during the
    same run; the count comes from the in-sample probabilities (``count`` as
    :func:`find_label_issues`).
    """
    from ..difficulty import compute_measures, get_measure, list_measures
    from ..training import predict_logits

    split, declared = _split_of(data)
    C = _classes(split, declared, num_classes)
    measure = None
    if rank_by not in _ONE_RUN:
        try:
            m = get_measure(rank_by)
        except ValueError:
            m = None
        if m is None or m.kind not in ("logits", "dynamics"):
            one = [n for n in list_measures() if get_measure(n).kind in ("logits", "dynamics")]
            raise ValueError(f"rank_by: expected one of {list(_ONE_RUN) + one}, got {rank_by!r}")
        measure = m.name
    res = compute_measures(
        split,
        C,
        [measure or "loss"],
        model_fn=model_fn,
        model_kind=model_kind,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        seed=seed,
        progress=progress,
        device=device,
    )
    logits = predict_logits(res.model, split, device=device)
    if measure is None:
        return find_label_issues(
            split.y, logits=logits, count=count, rank_by=rank_by, num_classes=C
        )
    return find_label_issues(
        split.y, logits=logits, scores=res.table.column(measure), count=count, num_classes=C
    )
