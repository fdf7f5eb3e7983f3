"""Shared validation for binary outcome arrays and score arrays (internal)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .._validation import check_same_length, check_scores, to_numpy

__all__ = ["check_binary", "check_outcome_and_score", "undefined"]


def check_binary(x: Any, name: str) -> np.ndarray:
    """Validate a 1-D array of booleans or 0/1 values; return a bool array ``(N,)``."""
    a = to_numpy(x)
    if a.ndim != 1:
        raise ValueError(
            f"{name}: expected a 1-D array of 0/1 or booleans, got shape {tuple(a.shape)}"
        )
    if a.size == 0:
        raise ValueError(f"{name}: expected a non-empty array, got 0 entries")
    if a.dtype == bool:
        return a
    if not np.issubdtype(a.dtype, np.number):
        raise ValueError(f"{name}: expected 0/1 or booleans, got dtype {a.dtype}")
    vals = np.unique(a)
    if not np.all(np.isin(vals, (0, 1))):
        raise ValueError(f"{name}: expected only 0/1 values, got values {vals[:5].tolist()}...")
    return a.astype(bool)


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
