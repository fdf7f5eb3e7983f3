"""TrustScore (Jiang, Kim, Guan & Gupta, NeurIPS 2018).

For each class c a nearest-neighbour index is built on the (features of the) training samples
labelled c (a KD-tree, as in Jiang's code, or an exact chunked brute-force search, which is
much faster in high dimension; ``algorithm="auto"`` picks the KD-tree up to 20 dimensions),
optionally after α-density filtering: within class c, the samples whose distance to their
k-th nearest same-class neighbour lies above the ``(1 - α)`` quantile (the α least dense
fraction) are dropped. For a test point x with predicted class ĉ::

    ratio(x) = d(x, nearest point of any class ≠ ĉ) / (d(x, nearest point of class ĉ) + min_dist)

``ratio`` ∈ [0, ∞), higher = more trustworthy. :class:`TrustScore` maps it monotonically to
[0, 1] with ``ratio / (1 + ratio)`` (0.5 ⇔ equally close to the predicted and to another
class), which leaves every ranking metric unchanged.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import (
    check_array,
    check_choice,
    check_fraction,
    check_integer,
    check_labels,
    check_num_classes,
    check_positive,
)

__all__ = [
    "ALGORITHMS",
    "BruteIndex",
    "density_filter",
    "fit_class_trees",
    "trust_score_ratio",
    "trust_score",
]


ALGORITHMS = ("auto", "kd_tree", "brute")


class BruteIndex:
    """Exact nearest-neighbour search by chunked matrix products (same answers as a KD-tree).

    ``query(x, k)`` returns ``(distances (M, k), indices (M, k))`` sorted by distance, like
    ``scipy.spatial.cKDTree.query`` (with ``k = 1`` both are ``(M,)``).
    """

    def __init__(self, data: np.ndarray, chunk: int = 2048) -> None:
        self.data = np.ascontiguousarray(data, dtype=np.float64)
        self.n = len(self.data)
        self.chunk = chunk
        self._sq = (self.data**2).sum(1)

    def query(self, x: np.ndarray, k: int = 1) -> tuple[np.ndarray, np.ndarray]:
        x = np.asarray(x, dtype=np.float64)
        kk = min(k, self.n)
        dist = np.empty((len(x), kk))
        idx = np.empty((len(x), kk), dtype=np.int64)
        for lo in range(0, len(x), self.chunk):
            xb = x[lo : lo + self.chunk]
            d2 = (xb**2).sum(1)[:, None] + self._sq[None, :] - 2.0 * (xb @ self.data.T)
            np.maximum(d2, 0.0, out=d2)
            part = (
                np.argpartition(d2, kk - 1, axis=1)[:, :kk]
                if kk < self.n
                else np.tile(np.arange(self.n), (len(xb), 1))
            )
            dp = np.take_along_axis(d2, part, 1)
            order = np.argsort(dp, axis=1, kind="stable")
            idx[lo : lo + len(xb)] = np.take_along_axis(part, order, 1)
            dist[lo : lo + len(xb)] = np.sqrt(np.take_along_axis(dp, order, 1))
        if k == 1:
            return dist[:, 0], idx[:, 0]
        return dist, idx


def _index(x: np.ndarray, algorithm: str) -> Any:
    if algorithm == "auto":
        algorithm = "kd_tree" if x.shape[1] <= 20 else "brute"
    if algorithm == "brute":
        return BruteIndex(x)
    from scipy.spatial import cKDTree

    return cKDTree(x)


def _check_filter(k: Any, alpha: Any, algorithm: Any) -> tuple[int, float]:
    k = check_integer(k, "k", minimum=1)
    alpha = check_fraction(alpha, "alpha", inclusive_high=False)
    check_choice(algorithm, "algorithm", ALGORITHMS)
    return k, alpha


def density_filter(x: np.ndarray, k: int, alpha: float, algorithm: str = "auto") -> np.ndarray:
    """Boolean mask ``(n,)`` keeping the points whose k-NN radius is ≤ the (1-α) quantile.

    The k-NN radius is the distance to the k-th nearest other point of ``x`` ``(n, D)``
    (the point itself excluded). ``k >= 1``; ``alpha`` in [0, 1), ``alpha = 0`` keeps every
    point.
    """
    xa = check_array(x, "x", ndim=2)
    k, alpha = _check_filter(k, alpha, algorithm)
    return _density_filter(xa, k, alpha, algorithm)


def _density_filter(x: np.ndarray, k: int, alpha: float, algorithm: str) -> np.ndarray:
    n = len(x)
    if alpha <= 0 or n <= 1:
        return np.ones(n, dtype=bool)
    kk = min(k, n - 1)
    d, _ = _index(x, algorithm).query(x, k=kk + 1)  # first neighbour is the point itself
    radii = np.asarray(d).reshape(n, -1)[:, -1]
    eps = np.percentile(radii, (1 - alpha) * 100)
    return radii <= eps


def fit_class_trees(
    features: np.ndarray,
    labels: np.ndarray,
    num_classes: int,
    *,
    k: int = 10,
    alpha: float = 0.0,
    algorithm: str = "auto",
) -> list[Any]:
    """One index per class (``cKDTree`` or :class:`BruteIndex`) on the density-filtered members.

    ``features`` ``(N, D)``, ``labels`` ``(N,)`` in ``[0, num_classes)``. A class without
    training samples gets ``None`` (its distance is +inf).
    """
    features = check_array(features, "features", ndim=2)
    num_classes = check_num_classes(num_classes, minimum=1)
    labels = check_labels(labels, "labels", num_classes=num_classes, n=len(features))
    k, alpha = _check_filter(k, alpha, algorithm)
    return _fit_class_trees(features, labels, num_classes, k, alpha, algorithm)


def _fit_class_trees(
    features: np.ndarray, labels: np.ndarray, num_classes: int, k: int, alpha: float, algorithm: str
) -> list[Any]:
    trees: list[Any] = []
    for c in range(num_classes):
        xc = features[labels == c]
        if len(xc) == 0:
            trees.append(None)
            continue
        trees.append(_index(xc[_density_filter(xc, k, alpha, algorithm)], algorithm))
    return trees


def _class_distances(trees: list[Any], x: np.ndarray) -> np.ndarray:
    d = np.full((len(x), len(trees)), np.inf)
    for c, t in enumerate(trees):
        if t is not None:
            d[:, c] = t.query(x, k=1)[0]
    return d


def _ratio(d: np.ndarray, pred: np.ndarray, min_dist: float) -> np.ndarray:
    n = len(d)
    d_pred = d[np.arange(n), pred]
    other = d.copy()
    other[np.arange(n), pred] = np.inf
    d_other = other.min(1)
    return d_other / (d_pred + min_dist)


def trust_score_ratio(
    trees: list[Any], features: np.ndarray, predicted: np.ndarray, min_dist: float = 1e-12
) -> np.ndarray:
    """Raw TrustScore ratio ``(N,)`` (higher = more trustworthy) from fitted class trees.

    ``trees``: the list of :func:`fit_class_trees` (one per class, ``None`` for an empty
    class); ``features`` ``(N, D)`` in the trees' space; ``predicted`` ``(N,)`` classes.
    """
    if not isinstance(trees, (list, tuple)) or not trees:
        raise ValueError(
            f"trees: expected the non-empty list of fit_class_trees, got {type(trees).__name__}"
            + (" of length 0" if isinstance(trees, (list, tuple)) else "")
        )
    dims = {_index_dim(t) for t in trees if t is not None}
    if not dims or None in dims:
        raise ValueError("trees: expected class indices from fit_class_trees (at least one fitted)")
    x = check_array(features, "features", ndim=2)
    if x.shape[1] not in dims:
        raise ValueError(
            f"features: expected {dims.pop()} columns like the trees, got {x.shape[1]}"
        )
    pred = check_labels(predicted, "predicted", num_classes=len(trees), n=len(x))
    check_positive(min_dist, "min_dist", strict=False)
    return _ratio(_class_distances(trees, x), pred, min_dist)


def _index_dim(t: Any) -> int | None:
    if isinstance(t, BruteIndex):
        return int(t.data.shape[1])
    m = getattr(t, "m", None)  # scipy cKDTree
    return int(m) if isinstance(m, (int, np.integer)) else None


def trust_score(
    train_features: Any,
    train_labels: Any,
    test_features: Any,
    predicted: Any,
    *,
    num_classes: int | None = None,
    k: int = 10,
    alpha: float = 0.0,
    min_dist: float = 1e-12,
    algorithm: str = "auto",
) -> np.ndarray:
    """TrustScore ratio ``(N_test,)`` in one call (pure function; see the module docstring).

    Args:
        train_features: ``(N_train, D)`` features of the training samples.
        train_labels: ``(N_train,)`` their labels.
        test_features: ``(N, D)`` features of the points to score.
        predicted: ``(N,)`` the classifier's predicted classes for them.
        num_classes: ``C`` (default: 1 + the largest label seen).
        k, alpha: density filtering (k-th neighbour, fraction α ∈ [0, 1) dropped per class).
        min_dist: added to the denominator.
        algorithm: ``"auto"`` | ``"kd_tree"`` | ``"brute"`` (identical results).
    Returns:
        ``ratio`` ``(N,)`` ∈ [0, ∞], higher = more trustworthy.
    """
    xtr = check_array(train_features, "train_features", ndim=2)
    xte = check_array(test_features, "test_features", ndim=2)
    if xtr.shape[1] != xte.shape[1]:
        raise ValueError(
            f"test_features: expected {xtr.shape[1]} columns like train_features, got {xte.shape[1]}"
        )
    ytr = check_labels(train_labels, "train_labels", n=len(xtr))
    c = check_num_classes(num_classes, minimum=1) if num_classes is not None else int(ytr.max()) + 1
    pred = check_labels(predicted, "predicted", n=len(xte), num_classes=c)
    check_labels(ytr, "train_labels", num_classes=c)
    k, alpha = _check_filter(k, alpha, algorithm)
    check_positive(min_dist, "min_dist", strict=False)
    trees = _fit_class_trees(xtr, ytr, c, k, alpha, algorithm)
    return _ratio(_class_distances(trees, xte), pred, min_dist)
