"""TypiClust: typical and diverse points for a cold start (Hacohen, Dekel & Weinshall,
"Active Learning on a Budget: Opposite Strategies Suit High and Low Budgets", ICML 2022).

With a tiny budget, the most *typical* points beat the most uncertain. TypiClust clusters
the pool features into ``|L| + k`` clusters (k-means), then k times: take the largest cluster
holding the fewest labelled points (ignoring clusters smaller than ``min_cluster_size``,
5 in the authors' code) and add its most typical member,

    typicality(x) = ( (1/K) Σ_{x' ∈ KNN_K(x)} ||x - x'|| )^(-1),   K = min(knn, |cluster| - 1)

(the inverse mean distance to its K nearest neighbours within the cluster; the authors use
K = 20 on self-supervised embeddings). Needs no labels and no model: the initial set.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_array, check_integer

__all__ = ["typicality", "typiclust"]


def typicality(features: Any, knn: int = 20) -> np.ndarray:
    """Inverse mean Euclidean distance to the ``knn`` nearest other points ``(N,)``."""
    f = check_array(features, "features", ndim=2)
    knn = check_integer(knn, "knn")
    if len(f) < 2:
        return np.ones(len(f))
    k = min(knn, len(f) - 1)
    sq = np.einsum("nd,nd->n", f, f)
    d = np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2.0 * f @ f.T, 0.0))
    np.fill_diagonal(d, np.inf)
    near = np.partition(d, k - 1, axis=1)[:, :k]
    return 1.0 / np.maximum(near.mean(axis=1), 1e-12)


def typiclust(
    features: Any,
    k: int,
    *,
    labelled: Any = None,
    knn: int = 20,
    min_cluster_size: int = 5,
    max_clusters: int = 500,
    seed: int = 0,
) -> np.ndarray:
    """Positions ``(min(k, N - |L|),)`` of the TypiClust batch, in pick order.

    Args:
        features: ``(N, D)`` pool features (e.g. a PCA of the pixels, or embeddings).
        k: batch size.
        labelled: optional boolean mask ``(N,)`` of already labelled points.
        knn, min_cluster_size: as in the paper's code (20, 5).
        max_clusters: cap on the number of k-means clusters (the authors cap it too).
        seed: k-means seed.
    """
    from sklearn.cluster import KMeans, MiniBatchKMeans

    f = check_array(features, "features", ndim=2)
    k = check_integer(k, "k", minimum=1)
    knn = check_integer(knn, "knn")
    min_cluster_size = check_integer(min_cluster_size, "min_cluster_size")
    max_clusters = check_integer(max_clusters, "max_clusters")
    lab = np.zeros(len(f), dtype=bool) if labelled is None else np.asarray(labelled, dtype=bool)
    if lab.shape != (len(f),):
        raise ValueError(f"labelled: expected a boolean mask of shape ({len(f)},), got {lab.shape}")
    k = min(k, int((~lab).sum()))
    if k == 0:
        return np.zeros(0, dtype=np.int64)
    n_clusters = int(min(len(f), int(lab.sum()) + k, max_clusters))
    km_cls = KMeans if len(f) <= 20000 else MiniBatchKMeans
    assign = km_cls(n_clusters=n_clusters, n_init=1, random_state=seed).fit_predict(f)
    sizes = np.bincount(assign, minlength=n_clusters)
    covered = np.bincount(assign[lab], minlength=n_clusters)
    chosen: list[int] = []
    taken = lab.copy()
    for _ in range(k):
        open_ = np.flatnonzero(
            (sizes - np.bincount(assign[taken], minlength=n_clusters) > 0)
            & (sizes >= min_cluster_size)
        )
        if len(open_) == 0:  # only small clusters have free points left
            open_ = np.flatnonzero(sizes - np.bincount(assign[taken], minlength=n_clusters) > 0)
        # fewest labelled first, then the largest cluster, then the lowest cluster index
        c = open_[np.lexsort((open_, -sizes[open_], covered[open_]))[0]]
        members = np.flatnonzero((assign == c) & ~taken)
        typ = typicality(f[assign == c], knn)[np.isin(np.flatnonzero(assign == c), members)]
        pick = int(members[int(np.argmax(typ))])
        chosen.append(pick)
        taken[pick] = True
        covered[c] += 1
    return np.asarray(chosen, dtype=np.int64)
