"""Shared validation for binary outcome arrays and score arrays (internal)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .._validation import check_binary, check_same_length, check_scores

__all__ = ["check_binary", "check_outcome_and_score", "undefined"]


def check_outcome_and_score(
    outcome: Any, score: Any, outcome_name: str, score_name: str
) -> tuple[np.ndarray, np.ndarray]:
    """Validate a binary outcome ``(N,)`` and a finite score ``(N,)`` of equal length."""
    o = check_binary(outcome, outcome_name)
    s = check_scores(score, score_name)
    check_same_length(**{outcome_name: o, score_name: s})
    return o, s


def undefined(metric: str, why: str) -> float:
    """Warn that ``metric`` is undefined and return NaN (e.g. only one class present)."""
    warnings.warn(f"{metric} is undefined: {why}; returning NaN", RuntimeWarning, stacklevel=3)
    return float("nan")
