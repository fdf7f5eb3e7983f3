"""Representative initial labelled sets (report §5.2).

``kmeans_initial_set``: for each class, run k-means with ``per_class`` clusters on that
class's features and take, per cluster, the member nearest its centroid (the "most
representative" points). ``balanced_random_initial_set``: Gal's protocol, ``per_class``
random points of each class. Both return sample ids ``(C·per_class,)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_array, check_ids, check_integer, check_labels

__all__ = ["kmeans_initial_set", "balanced_random_initial_set"]


def balanced_random_initial_set(
    sample_ids: Any, labels: Any, per_class: int, *, seed: int = 0
) -> np.ndarray:
    """``per_class`` random ids of every class present in ``labels``, class by class."""
    ids = check_ids(sample_ids, "sample_ids")
    y = check_labels(labels, "labels", n=len(ids))
    per_class = check_integer(per_class, "per_class", minimum=0)
    rng = np.random.default_rng(seed)
    out = []
    for c in np.unique(y):
        members = ids[y == c]
        if len(members) < per_class:
            raise ValueError(
                f"per_class: class {c} has {len(members)} samples, fewer than {per_class}"
            )
        out.append(rng.choice(members, size=per_class, replace=False))
    return np.concatenate(out)


def kmeans_initial_set(
    sample_ids: Any, labels: Any, features: Any, per_class: int, *, seed: int = 0
) -> np.ndarray:
    """Per class, the ``per_class`` points nearest the centroids of a k-means on ``features (N, D)``."""
    from sklearn.cluster import KMeans

    ids = check_ids(sample_ids, "sample_ids")
    y = check_labels(labels, "labels", n=len(ids))
    f = check_array(features, "features", ndim=2)
    per_class = check_integer(per_class, "per_class", minimum=1)
    if len(f) != len(ids):
        raise ValueError(f"features: expected {len(ids)} rows, got {len(f)}")
    out = []
    for c in np.unique(y):
        members = np.flatnonzero(y == c)
        if len(members) < per_class:
            raise ValueError(
                f"per_class: class {c} has {len(members)} samples, fewer than {per_class}"
            )
        km = KMeans(n_clusters=per_class, n_init=3, random_state=seed).fit(f[members])
        d = km.transform(f[members])  # (m, k) distances to the centroids
        picked: list[int] = []
        for j in np.argsort(-np.bincount(km.labels_, minlength=per_class)):  # biggest cluster first
            for cand in np.argsort(d[:, j]):
                if cand not in picked:
                    picked.append(int(cand))
                    break
        out.append(ids[members[picked]])
    return np.concatenate(out)
