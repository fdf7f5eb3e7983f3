"""Composable static weight transformations (difficulty → weight), in the optax style.

A :class:`Transform` is a small pure function ``values (N,) -> weights (N,)`` that may also
read the labels (class-level schemes). Transforms compose with :func:`chain`, e.g.::

    chain(normalize("rank"), temper(0.5), clip(max_ratio=10), mean_one())

Conventions: the *input* of a chain is a difficulty score ``(N,)`` with **higher = harder**
(REFERENCE.md §1); the *output* is a finite, non-negative weight ``(N,)``. Each primitive
documents its own output range; :func:`mean_one` rescales to ``mean(w) = 1`` so that the
weighted objective ``mean_i w_i ℓ_i`` has the scale of the unweighted one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validation import check_choice, check_labels, check_positive, check_scores

__all__ = [
    "WeightContext",
    "Transform",
    "chain",
    "identity",
    "negate",
    "normalize",
    "temper",
    "power",
    "floor",
    "clip",
    "mean_one",
    "sum_to",
    "class_weight_transform",
]


@dataclass(frozen=True)
class WeightContext:
    """What a transform may read besides the values: labels ``(N,)`` and the class count."""

    labels: np.ndarray | None = None
    num_classes: int | None = None

    def require_labels(self, who: str) -> tuple[np.ndarray, int]:
        if self.labels is None:
            raise ValueError(f"labels: the {who} weighting needs labels=, got None")
        c = self.num_classes if self.num_classes is not None else int(self.labels.max()) + 1
        return self.labels, int(c)


TransformFn = Callable[[np.ndarray, WeightContext], np.ndarray]


@dataclass(frozen=True)
class Transform:
    """A named pure transformation ``values (N,) -> weights (N,)``.

    Call it as ``t(values, labels=None, num_classes=None)``; inputs are validated once here
    (finite ``(N,)`` values, labels in ``[0, C)``), the inner ``fn`` trusts them.
    """

    name: str
    fn: TransformFn

    def __call__(
        self, values: Any, *, labels: Any = None, num_classes: int | None = None
    ) -> np.ndarray:
        v = check_scores(values, "values")
        y = None
        if labels is not None:
            y = check_labels(labels, "labels", num_classes=num_classes, n=len(v))
        return self.apply(v, WeightContext(y, num_classes))

    def apply(self, values: np.ndarray, ctx: WeightContext) -> np.ndarray:
        """Unvalidated application (used inside chains and dynamic schemes)."""
        return np.asarray(self.fn(values, ctx), dtype=np.float64)

    def __repr__(self) -> str:
        return f"Transform({self.name})"


def chain(*transforms: Transform) -> Transform:
    """Compose transforms left to right: ``chain(a, b)(d) == b(a(d))``."""
    if not transforms:
        return identity()
    for i, t in enumerate(transforms):
        if not isinstance(t, Transform):
            raise ValueError(f"transforms[{i}]: expected a Transform, got {type(t).__name__}")

    def fn(v: np.ndarray, ctx: WeightContext) -> np.ndarray:
        for t in transforms:
            v = t.apply(v, ctx)
        return v

    return Transform(" -> ".join(t.name for t in transforms), fn)


def identity() -> Transform:
    return Transform("identity", lambda v, ctx: v)


def negate() -> Transform:
    """``-d``: turns a hard-first chain into an easy-first one."""
    return Transform("negate", lambda v, ctx: -v)


def normalize(method: str = "minmax") -> Transform:
    """Rescale the difficulty; order preserved.

    - ``"minmax"``: ``(d - min) / (max - min)`` in ``[0, 1]`` (all zeros if constant);
    - ``"rank"``: average rank / (N - 1) in ``[0, 1]`` (robust to outliers);
    - ``"zscore"``: ``(d - mean) / std`` (zeros if constant);
    - ``"none"``: unchanged.
    """
    check_choice(method, "method", ("minmax", "rank", "zscore", "none"))

    def fn(v: np.ndarray, ctx: WeightContext) -> np.ndarray:
        if method == "none":
            return v
        if method == "minmax":
            span = v.max() - v.min()
            return (v - v.min()) / span if span > 0 else np.zeros_like(v)
        if method == "zscore":
            s = v.std()
            return (v - v.mean()) / s if s > 0 else np.zeros_like(v)
        from scipy.stats import rankdata

        return (rankdata(v) - 1) / max(len(v) - 1, 1)

    return Transform(f"normalize({method})", fn)


def temper(temperature: float) -> Transform:
    """``w = exp((d - max d) / t)``: t → ∞ gives uniform, t → 0 puts all weight on the hardest.

    The shift by ``max d`` only rescales (overflow-safe); follow with :func:`mean_one`.
    """
    t = check_positive(temperature, "temperature")
    return Transform(f"temper({t:g})", lambda v, ctx: np.exp((v - v.max()) / t))


def power(p: float, eps: float = 1e-12) -> Transform:
    """``w = (d + eps) ** p`` for non-negative ``d`` (e.g. after ``normalize``); ``p=0`` is uniform."""
    p = check_positive(p, "p", strict=False)
    eps = check_positive(eps, "eps", strict=False)

    def fn(v: np.ndarray, ctx: WeightContext) -> np.ndarray:
        if v.min() < 0:
            raise ValueError(f"values: power() expects non-negative values, got min {v.min():.4g}")
        return (v + eps) ** p

    return Transform(f"power({p:g})", fn)


def floor(eps: float) -> Transform:
    """``w = max(w, eps)``: keeps every sample with a positive weight (Zhou Thm. 1 needs ``w >= b > 0``)."""
    eps = check_positive(eps, "eps", strict=False)
    return Transform(f"floor({eps:g})", lambda v, ctx: np.maximum(v, eps))


def clip(max_ratio: float | None = None, *, min_ratio: float = 0.0) -> Transform:
    """Clip weights relative to their mean: ``clip(w, min_ratio·mean, max_ratio·mean)``.

    Iterated until the bounds hold after renormalisation is *not* attempted; follow with
    :func:`mean_one` if a mean of one is needed (the ratio max/min stays bounded).
    """
    hi = None if max_ratio is None else check_positive(max_ratio, "max_ratio")
    lo = check_positive(min_ratio, "min_ratio", strict=False)
    if hi is not None and lo > hi:
        raise ValueError(f"min_ratio: expected min_ratio <= max_ratio ({hi:g}), got {lo:g}")

    def fn(v: np.ndarray, ctx: WeightContext) -> np.ndarray:
        if v.min() < 0:
            raise ValueError(f"values: clip() expects non-negative weights, got min {v.min():.4g}")
        m = v.mean()
        return np.clip(v, lo * m, np.inf if hi is None else hi * m)

    return Transform(f"clip({lo:g},{hi if hi is not None else 'inf'})", fn)


def mean_one() -> Transform:
    """``w / mean(w)`` (so ``Σ w = N``); all-zero weights raise ValueError."""

    def fn(v: np.ndarray, ctx: WeightContext) -> np.ndarray:
        m = v.mean()
        if not m > 0:
            raise ValueError(f"weights: expected a positive mean to normalise, got {m!r}")
        return v / m

    return Transform("mean_one", fn)


def sum_to(total: float) -> Transform:
    """``w · total / Σ w``."""
    total = check_positive(total, "total")

    def fn(v: np.ndarray, ctx: WeightContext) -> np.ndarray:
        s = v.sum()
        if not s > 0:
            raise ValueError(f"weights: expected a positive sum to normalise, got {s!r}")
        return v * (total / s)

    return Transform(f"sum_to({total:g})", fn)


def class_weight_transform(
    name: str, class_weights: Callable[[np.ndarray, int], np.ndarray]
) -> Transform:
    """Per-sample weights ``w_i = cw[y_i]`` from a per-class rule ``cw = class_weights(counts, C)``.

    The input values are ignored (class-level schemes read only the labels).
    """

    def fn(v: np.ndarray, ctx: WeightContext) -> np.ndarray:
        y, C = ctx.require_labels(name)
        counts = np.bincount(y, minlength=C).astype(np.float64)
        return class_weights(counts, C)[y]

    return Transform(name, fn)
