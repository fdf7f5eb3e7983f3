"""Entropy and its decomposition over stochastic outputs (numpy, no validation).

``probs`` ``(S, N, C)`` stacks ``S`` stochastic predictions (MC-dropout passes, ensemble
members, TTA views, K-fold repeats) of ``N`` samples over ``C`` classes; more generally
``(S, ..., C)`` with the samples first and the classes last. Per-sample results are
``(N,)`` float64, in nats, **higher = more uncertain**. With ``p̄ = mean_s p_s``:

- ``predictive_entropy`` (total uncertainty): ``H[p̄]``;
- ``expected_entropy`` (aleatoric): ``mean_s H[p_s]``, reported as ``min(·, H[p̄])``;
- ``mutual_information`` (epistemic, BALD; Houlsby et al. 2011, Gal et al. 2017):
  ``H[p̄] - mean_s H[p_s]``, clipped at 0 (≥ 0 by Jensen; rounding can make it ``-1e-17``).

So ``predictive_entropy = expected_entropy + mutual_information`` to rounding. Convention
``0 log 0 = 0``. No validation (see :mod:`samplescope.functional`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "entropy",
    "predictive_entropy",
    "expected_entropy",
    "mutual_information",
    "decompose",
]


def entropy(p: Any, axis: int = -1) -> np.ndarray:
    """Shannon entropy ``H[p] = -Σ_c p_c log p_c`` in nats along ``axis`` (Shannon 1948).

    Args:
        p: probabilities of any shape; ``axis`` holds the classes (``(N, C)`` → ``(N,)``).
        axis: the class axis.

    Returns:
        float64 array without ``axis``, in ``[0, log C]``; higher = more uncertain. Uses
        ``0 log 0 = 0`` (zero entries contribute nothing, no clipping of ``p``) and clips
        the result at 0 (a one-hot row gives exactly 0).
    """
    p = np.asarray(p, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    return np.maximum(-terms.sum(axis=axis), 0.0)


def predictive_entropy(probs: Any) -> np.ndarray:
    """Predictive (total) entropy ``H[mean_s p_s]`` of ``probs`` ``(S, N, C)`` → ``(N,)``.

    The entropy of the Bayesian model average (Gal 2016, thesis §3.3.1, "max entropy" of Gal
    et al. 2017); in ``[0, log C]``, higher = more uncertain.
    """
    return entropy(np.asarray(probs, dtype=np.float64).mean(axis=0))


def _decompose(p: np.ndarray) -> dict[str, np.ndarray]:
    total = entropy(p.mean(axis=0))
    expected = entropy(p).mean(axis=0)
    return {
        "predictive_entropy": total,
        "expected_entropy": np.minimum(expected, total),
        "mutual_information": np.maximum(total - expected, 0.0),
    }


def expected_entropy(probs: Any) -> np.ndarray:
    """Expected (aleatoric) entropy ``mean_s H[p_s]`` of ``probs`` ``(S, N, C)`` → ``(N,)``.

    Depeweg et al. 2018; reported as ``min(mean_s H[p_s], H[p̄])`` so that it never exceeds
    :func:`predictive_entropy` through rounding. Higher = more uncertain.
    """
    return _decompose(np.asarray(probs, dtype=np.float64))["expected_entropy"]


def mutual_information(probs: Any) -> np.ndarray:
    """Mutual information (BALD) ``I[y; ω] = H[p̄] - mean_s H[p_s]`` of ``(S, N, C)`` → ``(N,)``.

    Houlsby et al. 2011 (BALD), Gal, Islam & Ghahramani 2017 eq. (2): the epistemic part of
    the predictive entropy; in ``[0, H[p̄]]``, 0 when all ``S`` outputs agree (identically 0
    for ``S = 1``), clipped at 0. Higher = more uncertain (more worth labelling).
    """
    return _decompose(np.asarray(probs, dtype=np.float64))["mutual_information"]


def decompose(probs: Any) -> dict[str, np.ndarray]:
    """All three of the entropy decomposition of ``probs`` ``(S, N, C)`` in one pass.

    Returns:
        ``{"predictive_entropy", "expected_entropy", "mutual_information"}``, each ``(N,)``
        float64 in nats, higher = more uncertain, with ``predictive = expected + mutual``
        (to rounding). Same values as the three functions of this module.
    """
    return _decompose(np.asarray(probs, dtype=np.float64))
