"""Greedy BatchBALD (Kirsch, van Amersfoort & Gal 2019) for batch acquisition.

For a batch A = {x_1..x_k} and S posterior samples ω_s (MC-dropout masks shared by all
points — use consistent masks), the joint mutual information is

    a(A) = H[y_1..y_k] - Σ_i mean_s H[p_s(y_i)],
    H[y_1..y_k] = -Σ_{ŷ} P(ŷ) log P(ŷ),  P(ŷ) = mean_s Π_i p_s(ŷ_i | x_i).

Greedy: add the x maximising a(A ∪ {x}). The joint entropy is exact while C^|A| ≤
``max_configs``; beyond that it is estimated from M = ``num_samples`` configurations
ŷ_{1:k} drawn from the joint (draw s uniformly, then ŷ_i ~ p_s) by importance weighting:
H ≈ -(1/M) Σ_m Σ_c [P(ŷ_m, c)/P(ŷ_m)] log P(ŷ_m, c). Scores: higher = acquire first.
Returns positions into the candidate axis N, in greedy order.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_integer, check_stochastic_probs
from ..functional import entropy

__all__ = ["batch_bald", "joint_entropy_exact"]


def joint_entropy_exact(probs: np.ndarray) -> float:
    """Exact ``H[y_1..y_k]`` of the MC mixture for ``probs (S, k, C)`` (C^k configurations)."""
    probs = check_stochastic_probs(probs, "probs")
    s, k, c = probs.shape
    if float(c) ** k > 2**24:
        raise ValueError(
            f"probs: the exact joint entropy enumerates C^k = {c}^{k} configurations; "
            "use at most 2^24 (batch_bald switches to sampling)"
        )
    joint = np.ones((s, 1))
    for i in range(k):
        joint = (joint[:, :, None] * probs[:, i, None, :]).reshape(s, -1)
    return float(entropy(joint.mean(axis=0)))


def batch_bald(
    probs: Any,
    k: int,
    *,
    max_configs: int = 4096,
    num_samples: int = 1000,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Greedy BatchBALD on ``probs (S, N, C)``: ``(positions (k,), joint MI after each pick (k,))``."""
    p = check_stochastic_probs(probs, "probs")
    k = check_integer(k, "k", minimum=1)
    max_configs = check_integer(max_configs, "max_configs", minimum=1)
    num_samples = check_integer(num_samples, "num_samples", minimum=1)
    s, n, c = p.shape
    k = min(k, n)
    rng = np.random.default_rng(seed)
    cond_ent = entropy(p).mean(axis=0)  # (N,) mean_s H[p_s(y|x)]
    chosen: list[int] = []
    values: list[float] = []
    prev = np.ones((s, 1))  # P(ŷ_{1:k-1} | ω_s) per configuration (exact) or sample (MC)
    weights: np.ndarray | None = None  # None = exact enumeration
    sample_s: np.ndarray | None = None
    cond_sum = 0.0
    available = np.ones(n, dtype=bool)
    for _ in range(k):
        if weights is None and prev.shape[1] * c > max_configs and chosen:
            # switch to sampled configurations drawn from the joint of the chosen points
            sample_s = rng.integers(s, size=num_samples)
            cfg = np.empty((num_samples, len(chosen)), dtype=np.int64)
            for j, idx in enumerate(chosen):
                cum = p[sample_s, idx].cumsum(axis=1)
                cfg[:, j] = np.minimum((rng.random((num_samples, 1)) > cum).sum(axis=1), c - 1)
            prev = np.ones((s, num_samples))
            for j, idx in enumerate(chosen):
                prev = prev * p[:, idx, :][:, cfg[:, j]]
            weights = prev.mean(axis=0)  # P(ŷ_m)
        # joint (N, K, C) = mean_s prev[s, K] * p[s, N, C]
        joint = np.einsum("sk,snc->nkc", prev, p, optimize=True) / s
        logj = np.log(np.clip(joint, 1e-300, None))
        if weights is None:
            h = -np.einsum("nkc,nkc->n", joint, logj)
        else:
            h = -np.einsum("nkc,nkc->n", joint / weights[None, :, None], logj) / prev.shape[1]
        mi = h - (cond_sum + cond_ent)
        mi[~available] = -np.inf
        i = int(np.argmax(mi))
        chosen.append(i)
        values.append(float(mi[i]))
        available[i] = False
        cond_sum += float(cond_ent[i])
        if weights is None:
            prev = (prev[:, :, None] * p[:, i, None, :]).reshape(s, -1)
        else:
            assert sample_s is not None
            cum = p[sample_s, i].cumsum(axis=1)
            yi = np.minimum((rng.random((len(sample_s), 1)) > cum).sum(axis=1), c - 1)
            prev = prev * p[:, i, :][:, yi]
            weights = prev.mean(axis=0)
    return np.asarray(chosen, dtype=np.int64), np.asarray(values)
