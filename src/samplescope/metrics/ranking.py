"""Threshold-free ranking metrics of a binary outcome by a score (internal core, no validation).

All functions take ``pos`` (bool ``(N,)``, the positive class) and ``score`` (``(N,)``,
higher = more likely positive). Ties are handled the way scikit-learn does: a group of
tied scores is one threshold (ROC/PR points only at distinct scores), so AUROC counts a
tied positive/negative pair as ½.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

__all__ = ["roc_points", "auroc_core", "average_precision_core"]


def _sorted_counts(pos: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative (true positives, false positives) at each distinct threshold, descending."""
    order = np.argsort(-score, kind="mergesort")
    s, p = score[order], pos[order]
    ends = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]
    tps = np.cumsum(p)[ends].astype(np.float64)
    fps = (ends + 1) - tps
    return tps, fps


def roc_points(pos: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(fpr, tpr)`` at every distinct threshold, starting at (0, 0) and ending at (1, 1)."""
    tps, fps = _sorted_counts(pos, score)
    n_pos, n_neg = tps[-1], fps[-1]
    return np.r_[0.0, fps / n_neg], np.r_[0.0, tps / n_pos]


def auroc_core(pos: np.ndarray, score: np.ndarray) -> float:
    """Mann–Whitney AUROC = P(score_pos > score_neg) + ½ P(tie)."""
    n_pos = int(pos.sum())
    n_neg = len(pos) - n_pos
    ranks = rankdata(score)  # average ranks for ties
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def average_precision_core(pos: np.ndarray, score: np.ndarray) -> float:
    """AP = Σ_n (R_n − R_{n−1}) P_n over distinct thresholds (scikit-learn's definition)."""
    tps, fps = _sorted_counts(pos, score)
    precision = tps / (tps + fps)
    recall = tps / tps[-1]
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))
