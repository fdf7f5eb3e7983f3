"""Ranking scores for label issues: higher = more likely that the given label is wrong.

The ``rank_by=`` choices of :func:`samplescope.labels.find_label_issues`:

- ``"posterior"`` (the default with probabilities): ``q_n``, the probability that the given
  label is wrong under the estimated noise transition
  (:func:`samplescope.labels.counts.error_posterior`); class-conditional by construction
  (it uses ``T[·, ỹ_n]``), so it is comparable across classes and handles asymmetric noise;
- ``"margin"``: ``1 - (p_ỹ - max_{k≠ỹ} p_k + 1) / 2`` (one minus cleanlab's normalized margin);
- ``"self_confidence"``: ``1 - p_ỹ``;
- ``"scores"``: any difficulty measure(s) a user passes (higher = harder): one ``(N,)`` array,
  an ``(N, M)`` array or a ``{name: (N,)}`` mapping. Each is normalised **per class** to a
  robust z-score ``(s - median_c) / (1.4826 · MAD_c)`` (the standard deviation where the MAD
  is 0, and 1 where both are) and the z-scores are averaged; flags are chosen within each
  class, so the normalisation matters for combinations and for the mixture count, not for
  the order inside one class.

Inputs are trusted here (validated once by ``find_label_issues``).
"""

from __future__ import annotations

import numpy as np

from .counts import _error_posterior as error_posterior

__all__ = ["RANK_BY", "class_zscore", "combine_scores", "issue_score"]

RANK_BY = ("posterior", "margin", "self_confidence", "scores")


def class_zscore(labels: np.ndarray, s: np.ndarray, num_classes: int) -> np.ndarray:
    """Per-class robust z-score ``(N,)`` of ``s`` (see the module docstring)."""
    out = np.zeros(len(s))
    for c in range(num_classes):
        m = labels == c
        if not m.any():
            continue
        v = s[m]
        med = np.median(v)
        scale = 1.4826 * np.median(np.abs(v - med))
        if scale <= 1e-12:
            scale = float(v.std())
        out[m] = (v - med) / (scale if scale > 1e-12 else 1.0)
    return out


def combine_scores(labels: np.ndarray, columns: list[np.ndarray], num_classes: int) -> np.ndarray:
    """Mean of the per-class z-scores of ``columns`` (each ``(N,)``, higher = harder)."""
    return np.mean([class_zscore(labels, c, num_classes) for c in columns], axis=0)


def issue_score(labels: np.ndarray, probs: np.ndarray, rank_by: str) -> np.ndarray:
    """The probability-based ranking score ``(N,)`` in [0, 1] of ``rank_by``."""
    rows = np.arange(len(labels))
    if rank_by == "posterior":
        return error_posterior(labels, probs)
    py = probs[rows, labels]
    if rank_by == "self_confidence":
        return 1.0 - py
    other = probs.copy()
    other[rows, labels] = -np.inf
    return 1.0 - (py - other.max(axis=1) + 1.0) / 2.0
