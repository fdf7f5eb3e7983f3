"""Failure prediction: how well a trust score separates correct from wrong predictions.

Convention (Corbière et al. 2019; Luo et al. 2021; REFERENCE §4): the **positive class is
a correct prediction** (``correct = 1``) and ``trust`` is **higher = more trustworthy**.
AUPR-Error ranks the errors by ``−trust`` (Luo's ImageNet code forgets the minus sign).
Metrics that need both classes return NaN with a ``RuntimeWarning`` when one is missing.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_fraction, check_number
from ._common import check_outcome_and_score, undefined
from .ranking import auroc_core, average_precision_core, roc_points

__all__ = ["auroc", "aupr_success", "aupr_error", "fpr_at_tpr", "tpr_tnr", "failure_report"]


def _both_classes(c: np.ndarray, metric: str) -> bool:
    n_pos = int(c.sum())
    if n_pos == 0 or n_pos == len(c):
        undefined(metric, f"correct has only {'errors' if n_pos == 0 else 'correct predictions'}")
        return False
    return True


def auroc(correct: Any, trust: Any) -> float:
    """Area under the ROC curve of ``trust`` for detecting correct predictions.

    Args:
        correct: ``(N,)`` 1/True where the prediction is correct (the positive class).
        trust: ``(N,)`` trust score, higher = more trustworthy.

    Returns:
        ``P(trust_correct > trust_error) + ½ P(tie)`` in [0, 1] (0.5 = chance).
    """
    c, s = check_outcome_and_score(correct, trust, "correct", "trust")
    return auroc_core(c, s) if _both_classes(c, "AUROC") else float("nan")


def aupr_success(correct: Any, trust: Any) -> float:
    """Average precision of ``trust`` for the correct predictions (positive = correct)."""
    c, s = check_outcome_and_score(correct, trust, "correct", "trust")
    return average_precision_core(c, s) if _both_classes(c, "AUPR-Success") else float("nan")


def aupr_error(correct: Any, trust: Any) -> float:
    """Average precision of ``−trust`` for the errors (positive = wrong prediction)."""
    c, s = check_outcome_and_score(correct, trust, "correct", "trust")
    return average_precision_core(~c, -s) if _both_classes(c, "AUPR-Error") else float("nan")


def _fpr_at_tpr(c: np.ndarray, s: np.ndarray, tpr: float) -> float:
    fpr_pts, tpr_pts = roc_points(c, s)
    return float(fpr_pts[tpr_pts >= tpr - 1e-12].min())


def fpr_at_tpr(correct: Any, trust: Any, tpr: float = 0.95) -> float:
    """FPR at a TPR: the smallest false-positive rate among ROC points with TPR ≥ ``tpr``.

    Positive = correct prediction, score = ``trust`` (higher = more trustworthy). FPR is
    the fraction of errors accepted; TPR the fraction of correct predictions accepted.
    """
    c, s = check_outcome_and_score(correct, trust, "correct", "trust")
    tpr = check_fraction(tpr, "tpr")
    return _fpr_at_tpr(c, s, tpr) if _both_classes(c, "FPR@TPR") else float("nan")


def tpr_tnr(correct: Any, trust: Any, threshold: float = 0.5) -> tuple[float, float]:
    """``(TPR, TNR)`` at a threshold: ``P(trust > t | correct)``, ``P(trust ≤ t | error)``.

    Positive = correct prediction; higher ``trust`` = more trustworthy. A rate whose
    conditioning class is empty is NaN.
    """
    c, s = check_outcome_and_score(correct, trust, "correct", "trust")
    t = check_number(threshold, "threshold")
    tpr = float((s[c] > t).mean()) if c.any() else float("nan")
    tnr = float((s[~c] <= t).mean()) if (~c).any() else float("nan")
    return tpr, tnr


def failure_report(correct: Any, trust: Any, threshold: float = 0.5) -> dict[str, float]:
    """All failure-prediction metrics at once.

    Positive = correct prediction; ``trust`` higher = more trustworthy.

    Returns:
        dict with ``acc`` (fraction correct), ``auroc``, ``aupr_success``, ``aupr_error``,
        ``fpr95`` (FPR at 95% TPR), ``tpr`` and ``tnr`` at ``threshold``, ``aurc`` and
        ``eaurc`` (selective risk, see :mod:`samplescope.metrics.selective`).
    """
    from .selective import _aurc_core, _optimal_aurc

    c, s = check_outcome_and_score(correct, trust, "correct", "trust")
    tpr, tnr = tpr_tnr(c, s, threshold)
    both = c.any() and (~c).any()
    if not both:
        undefined("AUROC/AUPR/FPR95", "correct has only one class")
    nan = float("nan")
    a = _aurc_core(c, s)
    return {
        "acc": float(c.mean()),
        "auroc": auroc_core(c, s) if both else nan,
        "aupr_success": average_precision_core(c, s) if both else nan,
        "aupr_error": average_precision_core(~c, -s) if both else nan,
        "fpr95": _fpr_at_tpr(c, s, 0.95) if both else nan,
        "tpr": tpr,
        "tnr": tnr,
        "aurc": a,
        "eaurc": a - _optimal_aurc(c, exact=False),
    }
