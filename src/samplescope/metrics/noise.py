"""Label-noise detection: how well a difficulty score finds the noisy labels.

Convention: the **positive class is a noisy label** (``is_noisy = 1``) and ``difficulty``
is **higher = more likely noisy** (every samplescope difficulty measure is higher = harder).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_fraction
from ._common import check_outcome_and_score, undefined
from .ranking import auroc_core, average_precision_core

__all__ = ["noise_detection_report"]


def noise_detection_report(
    is_noisy: Any, difficulty: Any, rate: float | None = None
) -> dict[str, float]:
    """AUROC, AP and the miss rate when flagging the top ``rate`` fraction as noisy.

    Args:
        is_noisy: ``(N,)`` 1/True for samples whose label was corrupted (positive class).
        difficulty: ``(N,)`` score, higher = more likely noisy.
        rate: fraction of samples flagged (the ``round(rate·N)`` highest difficulties, ties
            broken by position); default: the true noisy fraction.

    Returns:
        dict with ``auroc`` and ``ap`` (NaN when one class is missing), ``fnr_at_rate``
        (fraction of noisy samples not flagged; NaN without noisy samples),
        ``precision_at_rate`` (fraction of flagged samples that are noisy), ``rate`` and
        ``flagged`` (the number flagged).
    """
    y, s = check_outcome_and_score(is_noisy, difficulty, "is_noisy", "difficulty")
    n, n_noisy = len(y), int(y.sum())
    rate = n_noisy / n if rate is None else check_fraction(rate, "rate")
    k = int(round(rate * n))
    flagged = np.zeros(n, dtype=bool)
    flagged[np.argsort(-s, kind="mergesort")[:k]] = True
    both = 0 < n_noisy < n
    if not both:
        undefined("noise-detection AUROC/AP", "is_noisy has only one class")
    nan = float("nan")
    return {
        "auroc": auroc_core(y, s) if both else nan,
        "ap": average_precision_core(y, s) if both else nan,
        "fnr_at_rate": float((y & ~flagged).sum() / n_noisy) if n_noisy else nan,
        "precision_at_rate": float((y & flagged).sum() / k) if k else nan,
        "rate": float(rate),
        "flagged": float(k),
    }
