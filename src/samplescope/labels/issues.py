"""``find_label_issues``: which given labels are wrong, how many per class, and what they should be.

From probabilities (out-of-fold from :func:`samplescope.training.crossfit`, or in-sample
logits of one run), from any difficulty measure(s), or both:

1. **count** — the estimated number of wrong labels per class
   (:mod:`samplescope.labels.counts`: ``"posterior"`` | ``"confident_joint"`` | ``"mixture"``);
2. **rank** — a score, higher = more likely wrong (:mod:`samplescope.labels.scores`:
   ``"posterior"`` | ``"margin"`` | ``"self_confidence"`` | ``"scores"``);
3. **flag** — with the posterior count and the posterior rank, the ``K = round(Σ_n q_n)``
   samples of highest ``q_n`` (``q`` is a probability, comparable across classes); otherwise,
   in each class ``c``, the ``round(count_c)`` samples of that class with the highest score.
   ``issues_per_class`` is the number flagged per class, so it always sums to the flags.

``label_quality`` ``(N,)`` in [0, 1], higher = more likely correct: ``1 - q_n`` (the posterior
probability that the label is right) when probabilities are given, else one minus the
per-class mixture responsibility of the score. ``suggested_label``: for flagged samples the
argmax of the probabilities over the classes other than the given one (``-1`` when only
scores were given); for the others the given label.

Defaults (``count="auto"``, ``rank_by="auto"``): posterior count and rank with
probabilities; with scores only, the mixture count and the scores' rank; with both, the
posterior count and the scores' rank. Chosen by measurement on the digits set and reported
on MNIST / Fashion-MNIST in ``benchmarks/label_issues.py``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._validation import (
    check_array,
    check_choice,
    check_ids,
    check_labels,
    check_logits,
    check_num_classes,
    check_probs,
    check_scores,
    check_simplex,
)
from ..functional import softmax
from ..io.scores import ScoreTable
from .counts import COUNT_METHODS
from .counts import _count_confident_joint as count_confident_joint
from .counts import _count_posterior as count_posterior
from .counts import _error_posterior as error_posterior
from .counts import _mixture_posterior as mixture_posterior
from .scores import RANK_BY, combine_scores, issue_score

__all__ = ["LABEL_ISSUE_COLUMNS", "LabelIssues", "find_label_issues"]

LABEL_ISSUE_COLUMNS = ("is_label_issue", "label_quality", "suggested_label")


@dataclass
class LabelIssues:
    """Result of :func:`find_label_issues` (all arrays aligned with the given labels).

    Attributes:
        is_label_issue: ``(N,)`` bool, the flagged samples.
        label_quality: ``(N,)`` float in [0, 1], higher = more likely correct.
        suggested_label: ``(N,)`` int64; the given label where not flagged, else the most
            likely other class (``-1`` without probabilities).
        issues_per_class: ``(C,)`` int64, flagged samples per given class.
        estimated_per_class: ``(C,)`` float, the count estimator's raw (expected) counts.
        issue_score: ``(N,)`` float, the ranking score (higher = more likely wrong).
        labels: ``(N,)`` int64, the given labels.
        count, rank_by: the estimator and the ranking used.
        probs: ``(N, C)`` the probabilities used, or None.
    """

    is_label_issue: np.ndarray
    label_quality: np.ndarray
    suggested_label: np.ndarray
    issues_per_class: np.ndarray
    estimated_per_class: np.ndarray
    issue_score: np.ndarray
    labels: np.ndarray
    count: str
    rank_by: str
    probs: np.ndarray | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def num_classes(self) -> int:
        return len(self.issues_per_class)

    @property
    def num_issues(self) -> int:
        """The number of flagged samples (``issues_per_class.sum()``)."""
        return int(self.is_label_issue.sum())

    def to_columns(self) -> dict[str, np.ndarray]:
        """``{"is_label_issue": bool, "label_quality": float, "suggested_label": int64}``."""
        return {
            "is_label_issue": self.is_label_issue.copy(),
            "label_quality": self.label_quality.copy(),
            "suggested_label": self.suggested_label.copy(),
        }

    def ranked(self) -> np.ndarray:
        """Positions of the flagged samples, most likely wrong first."""
        pos = np.flatnonzero(self.is_label_issue)
        return pos[np.argsort(-self.issue_score[pos], kind="stable")]

    def to_table(
        self,
        sample_id: Any = None,
        *,
        true_labels: Any = None,
        class_names: Sequence[str] | None = None,
    ) -> ScoreTable:
        """A :class:`ScoreTable` (``sample_id``, ``label``, the three columns, ``issue_score``).

        ``sample_id`` defaults to ``0..N-1``; ``true_labels`` adds ``true_label`` / ``is_noisy``;
        ``class_names`` (one per class) adds ``label_name`` and ``suggested_label_name``.
        """
        n = len(self)
        ids = np.arange(n) if sample_id is None else check_ids(sample_id, "sample_id", n=n)
        if true_labels is not None:
            true_labels = check_labels(true_labels, "true_labels", n=n)
        table = ScoreTable.from_arrays(
            ids,
            self.labels,
            true_label=true_labels,
            label_quality=self.label_quality,
            issue_score=self.issue_score,
        )
        df = table.df
        df.insert(df.columns.get_loc("label_quality"), "is_label_issue", self.is_label_issue)
        df.insert(df.columns.get_loc("label_quality") + 1, "suggested_label", self.suggested_label)
        if class_names is not None:
            names = self._class_names(class_names)
            arr = np.asarray(names + [""], dtype=object)  # -1 (no suggestion) -> ""
            df["label_name"] = arr[self.labels]
            df["suggested_label_name"] = arr[self.suggested_label]
        return table

    def _class_names(self, class_names: Any) -> list[str]:
        if isinstance(class_names, (str, bytes)) or not isinstance(
            class_names, (Sequence, np.ndarray)
        ):
            raise ValueError(
                f"class_names: expected a sequence of {self.num_classes} names, got {class_names!r}"
            )
        names = [str(c) for c in class_names]
        if len(names) != self.num_classes:
            raise ValueError(
                f"class_names: expected {self.num_classes} names (one per class), got {len(names)}"
            )
        return names

    def summary(self, class_names: Sequence[str] | None = None) -> Any:
        """Per-class DataFrame: ``class``, ``given`` count, ``flagged``, ``estimated``, ``rate``."""
        import pandas as pd

        given = np.bincount(self.labels, minlength=self.num_classes)
        names = (
            self._class_names(class_names)
            if class_names is not None
            else list(map(str, range(self.num_classes)))
        )
        return pd.DataFrame(
            {
                "class": names,
                "given": given,
                "flagged": self.issues_per_class,
                "estimated": np.round(self.estimated_per_class, 1),
                "rate": self.issues_per_class / np.maximum(given, 1),
            }
        )


def _as_probs(probs: Any, logits: Any) -> np.ndarray | None:
    """``(N, C)`` probabilities from ``probs=`` or ``logits=`` (``(R, N, C)``: mean over R)."""
    if probs is not None and logits is not None:
        raise ValueError("probs: expected probs= or logits=, got both")
    if probs is not None:
        a = check_array(probs, "probs", ndim=(2, 3))
        if a.ndim == 2:
            return check_probs(a, "probs")
        if a.shape[2] < 2:
            raise ValueError(f"probs: expected (R, N, C) with C >= 2 classes, got shape {a.shape}")
        return check_simplex(a, "probs").mean(axis=0)
    if logits is not None:
        a = check_array(logits, "logits", ndim=(2, 3))
        if a.ndim == 2:
            return softmax(check_logits(a, "logits"), axis=1)
        if a.shape[2] < 2:
            raise ValueError(f"logits: expected (R, N, C) with C >= 2 classes, got shape {a.shape}")
        return softmax(a, axis=2).mean(axis=0)
    return None


def _score_columns(scores: Any, n: int) -> list[np.ndarray] | None:
    if scores is None:
        return None
    if isinstance(scores, Mapping):
        if not scores:
            raise ValueError("scores: expected at least one score column, got an empty mapping")
        return [check_scores(v, f"scores[{k!r}]", n=n) for k, v in scores.items()]
    a = check_array(scores, "scores", ndim=(1, 2))
    if a.shape[0] != n:
        raise ValueError(f"scores: expected {n} rows (one per sample), got {a.shape[0]}")
    return [a] if a.ndim == 1 else [a[:, j] for j in range(a.shape[1])]


def _top_per_class(labels: np.ndarray, s: np.ndarray, counts: np.ndarray) -> np.ndarray:
    flags = np.zeros(len(labels), dtype=bool)
    for c, k in enumerate(np.rint(counts).astype(np.int64)):
        idx = np.flatnonzero(labels == c)
        k = int(min(max(k, 0), len(idx)))
        if k:
            flags[idx[np.argsort(-s[idx], kind="stable")[:k]]] = True
    return flags


def find_label_issues(
    labels: Any,
    *,
    probs: Any = None,
    logits: Any = None,
    scores: Any = None,
    count: str = "auto",
    rank_by: str = "auto",
    num_classes: int | None = None,
) -> LabelIssues:
    """Flag the samples whose given label is probably wrong; see the module docstring.

    Args:
        labels: given labels ``(N,)``, integers in ``[0, C)``.
        probs: ``(N, C)`` probabilities (rows sum to 1), or ``(R, N, C)`` (averaged over R),
            e.g. out-of-fold probabilities of ``crossfit``. Exactly one of probs/logits, or
        logits: ``(N, C)`` or ``(R, N, C)`` logits (softmaxed, then averaged over R).
        scores: difficulty score(s), higher = harder: ``(N,)``, ``(N, M)`` or a mapping
            ``{name: (N,)}`` (combined by mean per-class robust z-score).
        count: ``"auto"`` | ``"posterior"`` | ``"confident_joint"`` (both need probabilities)
            | ``"mixture"``.
        rank_by: ``"auto"`` | ``"posterior"`` | ``"margin"`` | ``"self_confidence"`` (need
            probabilities) | ``"scores"``.
        num_classes: ``C``; default the probabilities' width, else ``max(labels) + 1``.

    Returns:
        :class:`LabelIssues`.

    Raises:
        ValueError: naming the argument — bad shapes, NaN/inf, labels out of range, mismatched
        lengths, unknown or impossible ``count`` / ``rank_by``.
    """
    P = _as_probs(probs, logits)
    if num_classes is not None:
        num_classes = check_num_classes(num_classes)
    if P is not None:
        if num_classes is not None and P.shape[1] != num_classes:
            name = "probs" if probs is not None else "logits"
            raise ValueError(
                f"{name}: expected {num_classes} columns (num_classes), got {P.shape[1]}"
            )
        num_classes = P.shape[1]
    y = check_labels(labels, "labels", num_classes=num_classes)
    n = len(y)
    if P is not None and len(P) != n:
        name = "probs" if probs is not None else "logits"
        raise ValueError(f"{name}: expected {n} rows (one per label), got {len(P)}")
    cols = _score_columns(scores, n)
    if P is None and cols is None:
        raise ValueError("probs: expected probs=, logits= or scores=, got none of them")
    C = num_classes if num_classes is not None else max(int(y.max()) + 1, 2)
    check_choice(count, "count", ("auto", *COUNT_METHODS))
    check_choice(rank_by, "rank_by", ("auto", *RANK_BY))
    if count == "auto":
        count = "posterior" if P is not None else "mixture"
    if rank_by == "auto":
        rank_by = "scores" if cols is not None else "posterior"
    if P is None and (count != "mixture" or rank_by != "scores"):
        which = ("count", count) if count != "mixture" else ("rank_by", rank_by)
        raise ValueError(f"{which[0]}: {which[1]!r} needs probs= or logits=, got scores only")
    if rank_by == "scores" and cols is None:
        raise ValueError("rank_by: 'scores' needs scores=, got none")

    s = combine_scores(y, cols, C) if rank_by == "scores" else issue_score(y, P, rank_by)
    q = error_posterior(y, P) if P is not None else None
    if count == "posterior":
        est = count_posterior(y, P, C) if q is None else np.bincount(y, weights=q, minlength=C)
    elif count == "confident_joint":
        est = count_confident_joint(y, P, C)
    else:
        # a probability score in [0, 1] is mapped to log-odds, where its two lumps are closer to
        # Gaussian; combined z-scores are used as they are
        ms = s if rank_by == "scores" else np.log(np.clip(s, 1e-6, 1) / np.clip(1 - s, 1e-6, 1))
        mix = mixture_posterior(y, ms, C)
        est = np.bincount(y, weights=mix, minlength=C)
    if count == "posterior" and rank_by == "posterior":
        k = int(np.rint(est.sum()))
        flags = np.zeros(n, dtype=bool)
        flags[np.argsort(-s, kind="stable")[:k]] = True
    else:
        flags = _top_per_class(y, s, est)
    if q is not None:
        quality = 1.0 - q
    else:
        quality = 1.0 - (mix if count == "mixture" else mixture_posterior(y, s, C))
    suggested = y.copy()
    if P is not None:
        other = P.copy()
        other[np.arange(n), y] = -np.inf
        suggested[flags] = other[flags].argmax(axis=1)
    else:
        suggested[flags] = -1
    return LabelIssues(
        is_label_issue=flags,
        label_quality=np.clip(quality, 0.0, 1.0),
        suggested_label=suggested.astype(np.int64),
        issues_per_class=np.bincount(y[flags], minlength=C).astype(np.int64),
        estimated_per_class=est.astype(np.float64),
        issue_score=s.astype(np.float64),
        labels=y,
        count=count,
        rank_by=rank_by,
        probs=P,
    )
