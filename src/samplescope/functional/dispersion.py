"""Disagreement of stochastic outputs ``probs`` ``(S, N, C)`` (numpy, no validation).

``S`` stochastic predictions of ``N`` samples over ``C`` classes (more generally
``(S, ..., C)``: samples first, classes last). Per-sample results ``(N,)`` float64, **higher
= more uncertain**, all identically 0 when the ``S`` outputs agree. The variances are the
population variances (``1/S``), computed as ``E[(p - E p)²]``, which has no catastrophic
cancellation (unlike ``E[p²] - E[p]²``) and is never negative.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["variation_ratio", "mean_std", "predictive_variance"]


def _variance(probs: Any) -> np.ndarray:
    """``Var_s p_{s,c} = mean_s (p_{s,c} - p̄_c)²`` ``(N, C)``."""
    p = np.asarray(probs, dtype=np.float64)
    return ((p - p.mean(axis=0)) ** 2).mean(axis=0)


def variation_ratio(probs: Any) -> np.ndarray:
    """Variation ratio ``1 - f_m / S`` of the ``S`` argmax votes (Gal 2016, thesis §3.3.1).

    ``f_m`` is the number of the ``S`` outputs whose argmax is the modal (most voted) class
    (Freeman 1965); this is a mode count over the samples, *not* ``1 - max_c p̄_c``.

    Args:
        probs: ``(S, N, C)``; ties inside one output go to the lowest class index.

    Returns:
        float64 ``(N,)`` in ``[0, 1 - ⌈S/C⌉/S]``, a multiple of ``1/S``; 0 when all votes
        agree. Higher = more uncertain.
    """
    p = np.asarray(probs)
    s, c = p.shape[0], p.shape[-1]
    votes = p.argmax(axis=-1).reshape(s, -1)  # (S, M)
    m = votes.shape[1]
    flat = (np.arange(m) * c + votes).ravel()
    counts = np.bincount(flat, minlength=m * c).reshape(m, c)
    return (1.0 - counts.max(axis=1) / s).reshape(p.shape[1:-1])


def mean_std(probs: Any) -> np.ndarray:
    """Mean standard deviation ``mean_c sqrt(Var_s p_{s,c})`` (Kampffmeyer et al. 2016).

    Args:
        probs: ``(S, N, C)``.

    Returns:
        float64 ``(N,)``, ``≥ 0`` (a standard deviation in probability units, not a variance);
        higher = more uncertain. ``Var`` is the population variance ``E[(p - E p)²]``.
    """
    return np.sqrt(_variance(probs)).mean(axis=-1)


def predictive_variance(probs: Any) -> np.ndarray:
    """Predictive variance ``mean_s ‖p_s‖² - ‖p̄‖² = Σ_c Var_s p_{s,c}`` (Zhou et al. 2022, eq. 7).

    The trace of the (``1/S``) covariance of the ``S`` probability vectors (Zhou's eq. 7
    without its precision constant); computed as ``Σ_c E[(p - E p)²]``.

    Args:
        probs: ``(S, N, C)``.

    Returns:
        float64 ``(N,)`` in ``[0, 1]``; higher = more uncertain.
    """
    return _variance(probs).sum(axis=-1)
