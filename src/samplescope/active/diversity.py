"""Diversity-aware batch selection with a cosine-similarity penalty (report §5.2).

Greedy: with normalised scores ŝ_i = (s_i - min s)/(max s - min s) ∈ [0, 1] and unit
feature vectors f_i, pick one point at a time maximising

    ŝ_i - λ · max_{j ∈ selected} cos(f_i, f_j)

λ > 0 favours diverse batches, λ < 0 uniform ones, λ = 0 is plain top-k. Features are
e.g. raw pixels or the penultimate activations ``(N, D)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_array, check_integer, check_number, check_scores

__all__ = ["diverse_top_k", "top_k"]


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the k largest scores ``(N,)``, best first (ties broken by position).

    ``k >= 1``; ``min(k, N)`` positions are returned.
    """
    s = check_scores(scores, "scores")
    k = min(check_integer(k, "k", minimum=1), len(s))
    return np.argsort(-s, kind="stable")[:k]


def diverse_top_k(scores: Any, features: Any, k: int, lam: float) -> np.ndarray:
    """Positions ``(k,)`` chosen greedily by ``ŝ - λ·max cos-sim to the chosen``; best first."""
    s = check_scores(scores, "scores")
    f = check_array(features, "features", ndim=2)
    if len(f) != len(s):
        raise ValueError(f"features: expected {len(s)} rows (one per score), got {len(f)}")
    k = min(check_integer(k, "k", minimum=1), len(s))
    lam = check_number(lam, "lam")
    rng = s.max() - s.min()
    sn = (s - s.min()) / rng if rng > 0 else np.zeros_like(s)
    fn = f / np.maximum(np.linalg.norm(f, axis=1, keepdims=True), 1e-12)
    chosen: list[int] = []
    max_sim = np.full(len(s), -np.inf)
    available = np.ones(len(s), dtype=bool)
    for _ in range(k):
        penalty = np.where(np.isfinite(max_sim), max_sim, 0.0)
        obj = np.where(available, sn - lam * penalty, -np.inf)
        i = int(np.argmax(obj))
        chosen.append(i)
        available[i] = False
        max_sim = np.maximum(max_sim, fn @ fn[i])
    return np.asarray(chosen, dtype=np.int64)
