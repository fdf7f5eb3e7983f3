"""BADGE: batch active learning by diverse gradient embeddings (Ash, Zhang, Krishnamurthy,
Langford & Agarwal, ICLR 2020).

For a classifier with a linear head ``logits = W h(x) + b`` (``W (C, D)``), the gradient of
the cross-entropy at the model's own prediction ŷ = argmax_c p_c with respect to ``W`` is

    g(x) = (p(x) - e_ŷ) ⊗ h(x)      ∈ R^{C·D},   g[c·D + d] = (p_c - 1[c = ŷ]) h_d,

whose norm is large for uncertain points and whose direction encodes what the point would
change. BADGE picks the batch by **k-means++ seeding** on these embeddings: the first point is
the one of largest norm (as in the authors' code), each next point is drawn with probability
∝ D(x)², its squared distance to the nearest point already chosen (Arthur & Vassilvitskii
2007) — uncertain *and* diverse, without a tuning parameter.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_array, check_integer, check_probs

__all__ = ["badge_embeddings", "kmeans_pp", "badge"]


def badge_embeddings(probs: Any, features: Any) -> np.ndarray:
    """Gradient embeddings ``(N, C·D)`` from ``probs (N, C)`` and penultimate ``features (N, D)``."""
    p = check_probs(probs, "probs")
    h = check_array(features, "features", ndim=2)
    if len(h) != len(p):
        raise ValueError(f"features: expected {len(p)} rows (one per probs row), got {len(h)}")
    a = p.copy()
    a[np.arange(len(p)), p.argmax(axis=1)] -= 1.0
    return (a[:, :, None] * h[:, None, :]).reshape(len(p), -1)


def kmeans_pp(embeddings: Any, k: int, *, seed: int = 0) -> np.ndarray:
    """k-means++ seeding: positions ``(min(k, N),)``; first = largest norm, then ∝ D²."""
    g = check_array(embeddings, "embeddings", ndim=2)
    k = min(check_integer(k, "k", minimum=1), len(g))
    rng = np.random.default_rng(seed)
    sq = np.einsum("nd,nd->n", g, g)
    first = int(np.argmax(sq))
    chosen = [first]
    d2 = np.maximum(sq + sq[first] - 2.0 * g @ g[first], 0.0)
    d2[first] = 0.0
    while len(chosen) < k:
        total = d2.sum()
        if total <= 0:  # every point coincides with a chosen one: fill by position
            rest = np.setdiff1d(np.arange(len(g)), chosen)
            chosen += rest[: k - len(chosen)].tolist()
            break
        i = int(rng.choice(len(g), p=d2 / total))
        chosen.append(i)
        d2 = np.minimum(d2, np.maximum(sq + sq[i] - 2.0 * g @ g[i], 0.0))
        d2[i] = 0.0
    return np.asarray(chosen, dtype=np.int64)


def badge(probs: Any, features: Any, k: int, *, seed: int = 0) -> np.ndarray:
    """BADGE batch: k-means++ on :func:`badge_embeddings`; positions ``(min(k, N),)``."""
    return kmeans_pp(badge_embeddings(probs, features), k, seed=seed)
