"""Softmax and single-prediction confidence quantities (numpy, no validation).

Shapes: ``logits`` and ``p`` are ``(..., C)`` with the classes on the last axis (``(N, C)``
in the common case); per-sample results drop that axis (``(N,)``). Everything is returned
as float64. These are internal computations in the style of cleanlab's ``_compute_*``
helpers: they trust their inputs; the public wrappers (difficulty measures, acquisitions,
scorers, :mod:`samplescope.uncertainty`) validate once at the boundary.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "softmax",
    "log_softmax",
    "max_prob",
    "least_confidence",
    "prob_margin",
    "logit_margin",
    "label_nll",
]


def _shifted(logits: Any, axis: int) -> np.ndarray:
    """``z - max z`` along ``axis`` (a non-finite max, e.g. an all ``-inf`` row, shifts by 0)."""
    z = np.asarray(logits, dtype=np.float64)
    m = np.max(z, axis=axis, keepdims=True)
    return z - np.where(np.isfinite(m), m, 0.0)


def softmax(logits: Any, axis: int = -1) -> np.ndarray:
    """Softmax ``p_c = exp(z_c) / Σ_k exp(z_k)`` along ``axis``, numerically stable.

    Args:
        logits: ``(..., C)`` real scores (any shape; ``axis`` holds the classes).
        axis: the class axis.

    Returns:
        float64 probabilities of the same shape, summing to 1 along ``axis``. The maximum is
        subtracted before exponentiating, so large logits do not overflow (Bridle 1990; the
        form of ``scipy.special.softmax``).
    """
    e = np.exp(_shifted(logits, axis))
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(logits: Any, axis: int = -1) -> np.ndarray:
    """Log-softmax ``log p_c = z_c - logsumexp(z)`` along ``axis``, numerically stable.

    Args:
        logits: ``(..., C)`` real scores.
        axis: the class axis.

    Returns:
        float64 log-probabilities of the same shape (``≤ 0``); ``exp`` of it equals
        :func:`softmax`. Computed as ``(z - m) - log Σ exp(z - m)`` with ``m = max z``, so it
        stays finite where ``log(softmax(z))`` would underflow to ``-inf``.
    """
    z = _shifted(logits, axis)
    with np.errstate(divide="ignore", invalid="ignore"):
        return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


def max_prob(p: Any) -> np.ndarray:
    """Maximum class probability ``max_c p_c`` (MCP, Hendrycks & Gimpel 2017), ``(...,)``.

    Args:
        p: probabilities ``(..., C)`` (classes last), e.g. ``(N, C)`` or the MC mean ``p̄``.

    Returns:
        float64 ``(N,)`` in ``[1/C, 1]``. **Higher = more confident** (a trust score; its
        uncertainty counterpart is :func:`least_confidence`).
    """
    return np.asarray(p, dtype=np.float64).max(axis=-1)


def least_confidence(p: Any) -> np.ndarray:
    """Least confidence ``1 - max_c p_c`` (Settles 2009, uncertainty sampling), ``(...,)``.

    Args:
        p: probabilities ``(..., C)`` (classes last).

    Returns:
        float64 ``(N,)`` in ``[0, 1 - 1/C]``; higher = more uncertain.
    """
    return 1.0 - max_prob(p)


def prob_margin(p: Any) -> np.ndarray:
    """Probability margin ``p_(1) - p_(2)`` between the two largest classes, ``(...,)``.

    Args:
        p: probabilities ``(..., C)`` with ``C ≥ 2`` (classes last).

    Returns:
        float64 ``(N,)`` in ``[0, 1]``. **Higher = more confident** (margin sampling, Scheffer
        et al. 2001, acquires the *smallest* margin; the ``margin`` acquisition scores
        ``-prob_margin(p̄)``).
    """
    a = np.partition(np.asarray(p, dtype=np.float64), -2, axis=-1)
    return a[..., -1] - a[..., -2]


def logit_margin(logits: Any, labels: Any) -> np.ndarray:
    """Negative multi-class logit margin ``max_{j≠y} z_j - z_y`` (Zhou et al. 2022, §3).

    Args:
        logits: ``(N, C)``, or stacked ``(R, N, C)`` (e.g. K-fold repeats), ``C ≥ 2``.
        labels: ``(N,)`` integer classes in ``[0, C)``.

    Returns:
        float64 ``(N,)`` (or ``(R, N)``). The margin ``z_y - max_{j≠y} z_j`` is negated so
        that **higher = harder**: ``> 0`` exactly when another class out-scores the label.
    """
    z = np.asarray(logits, dtype=np.float64)
    y = np.asarray(labels, dtype=np.int64)
    rows = np.arange(z.shape[-2])
    zy = z[..., rows, y]
    other = z.copy()
    other[..., rows, y] = -np.inf
    return other.max(axis=-1) - zy


def label_nll(p: Any, labels: Any, eps: float = 1e-12) -> np.ndarray:
    """Per-sample negative log-likelihood of the given label ``-log max(p_y, eps)``.

    Args:
        p: probabilities ``(N, C)`` (for stochastic outputs pass the mean ``p̄``).
        labels: ``(N,)`` integer classes in ``[0, C)``.
        eps: floor of ``p_y`` (so a zero probability gives ``-log eps``, not ``inf``).

    Returns:
        float64 ``(N,)``, ``≥ 0``; higher = harder. Its mean is the NLL of
        :func:`samplescope.metrics.nll`; on ``softmax(z)`` it is the cross-entropy loss.
    """
    q = np.asarray(p, dtype=np.float64)
    y = np.asarray(labels, dtype=np.int64)
    return -np.log(np.clip(q[np.arange(len(y)), y], eps, 1.0))
