"""Stochastic batch acquisition over any score (Kirsch, Farquhar, Atighehchian, Jesson,
Branchaud-Charron & Gal, "Stochastic Batch Acquisition: A Simple Baseline for Deep Active
Learning", TMLR 2023).

Top-k of a per-sample score picks redundant batches (the k highest-scoring points are often
near-duplicates). Instead, draw the k points **without replacement** from a distribution
over the candidates that follows the score:

- ``softmax``:  p_i ∝ exp(β s_i)
- ``power``:    p_i ∝ s_i^β            (scores must be >= 0, e.g. BALD or entropy; a score of
                                       0 is never drawn while positive ones remain)
- ``softrank``: p_i ∝ r_i^(-β)          (r_i = 1 for the highest score; ties share the order of
                                       their position)

Sampling without replacement is done with the Gumbel-top-k trick (Kool, van Hoof & Welling
2019): the top-k of ``log p_i + G_i``, G_i ~ Gumbel(0, 1) i.i.d., is a draw of k points
without replacement where each next point is drawn ∝ p among those left — its first point
follows ``p`` exactly (the tests check it). β = 1 is the paper's default; β → ∞ recovers
top-k, β = 0 uniform random.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_choice, check_integer, check_positive, check_scores

__all__ = [
    "STOCHASTIC_MODES",
    "stochastic_log_weights",
    "sampling_distribution",
    "stochastic_batch",
]

STOCHASTIC_MODES = ("power", "softmax", "softrank")


def stochastic_log_weights(scores: Any, mode: str = "power", beta: float = 1.0) -> np.ndarray:
    """Unnormalised log-probabilities ``log p_i`` ``(N,)`` of the ``mode`` distribution."""
    s = check_scores(scores, "scores")
    mode = check_choice(mode, "mode", STOCHASTIC_MODES)
    beta = check_positive(beta, "beta", strict=False)
    if mode == "softmax":
        return beta * s
    if mode == "power":
        if (s < 0).any():
            raise ValueError(
                f"scores: power acquisition needs scores >= 0 (e.g. BALD, entropy), got min "
                f"{float(s.min()):.4g}; use mode='softmax' or 'softrank' for signed scores"
            )
        with np.errstate(divide="ignore"):
            return beta * np.log(s)
    rank = np.empty(len(s))
    rank[np.argsort(-s, kind="stable")] = np.arange(1, len(s) + 1)
    return -beta * np.log(rank)


def sampling_distribution(scores: Any, mode: str = "power", beta: float = 1.0) -> np.ndarray:
    """``p (N,)``, the probability that each candidate is the first one drawn (sums to 1)."""
    logw = stochastic_log_weights(scores, mode, beta)
    if not np.isfinite(logw).any():  # power with all scores 0: uniform
        return np.full(len(logw), 1.0 / len(logw))
    w = np.exp(logw - logw[np.isfinite(logw)].max())
    return w / w.sum()


def stochastic_batch(
    scores: Any, k: int, *, mode: str = "power", beta: float = 1.0, seed: int = 0
) -> np.ndarray:
    """Positions ``(min(k, N),)`` drawn without replacement ∝ the ``mode`` distribution.

    Points of probability 0 (power with score 0) come last, in position order, and only when
    fewer than k points have a positive probability.
    """
    logw = stochastic_log_weights(scores, mode, beta)
    k = min(check_integer(k, "k", minimum=1), len(logw))
    g = np.random.default_rng(seed).gumbel(size=len(logw))
    key = np.where(np.isfinite(logw), logw + g, -np.inf)
    return np.argsort(-key, kind="stable")[:k].astype(np.int64)
