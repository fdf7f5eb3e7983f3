"""Class-level re-weighting for imbalanced data: per-sample weight ``w_i = w_{y_i}``.

Rare classes are harder (Zhou §3.2), so both schemes up-weight them.

- class-balanced (Cui et al., CVPR 2019): effective number ``E_c = (1 - β^{n_c}) / (1 - β)``,
  ``w_c ∝ 1 / E_c = (1 - β) / (1 - β^{n_c})``; β = 0 → uniform, β → 1 → inverse frequency.
- G-RW, generalised re-weighting (Zhang et al., "Distribution Alignment", CVPR 2021):
  ``w_c ∝ (1 / r_c)^ρ`` with ``r_c = n_c / N``; ρ = 0 → uniform, ρ = 1 → inverse frequency.

Both are normalised so that ``Σ_c w_c = C`` over the classes present (REFERENCE.md §2);
classes with no samples get weight 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_fraction, check_labels, check_positive
from .transforms import Transform, class_weight_transform

__all__ = ["class_balanced_weights", "grw_weights", "class_balanced", "grw"]


def _normalise(raw: np.ndarray, present: np.ndarray) -> np.ndarray:
    w = np.where(present, raw, 0.0)
    return w * (present.sum() / w.sum())


def _cb(counts: np.ndarray, beta: float) -> np.ndarray:
    present = counts > 0
    n = np.where(present, counts, 1.0)
    raw = np.ones_like(n) if beta == 0 else (1.0 - beta) / (1.0 - np.power(beta, n))
    return _normalise(raw, present)


def _grw(counts: np.ndarray, rho: float) -> np.ndarray:
    present = counts > 0
    r = np.where(present, counts, 1.0) / counts.sum()
    return _normalise(np.power(1.0 / r, rho), present)


def class_balanced_weights(
    labels: Any, beta: float = 0.999, *, num_classes: int | None = None
) -> np.ndarray:
    """Per-class weights ``(C,)``: ``w_c = C (1-β)/(1-β^{n_c}) / Σ_c' (1-β)/(1-β^{n_c'})``.

    Args:
        labels: ``(N,)`` int labels; beta: in ``[0, 1)``.
    """
    beta = check_fraction(beta, "beta", inclusive_high=False)
    y = check_labels(labels, "labels", num_classes=num_classes)
    C = num_classes if num_classes is not None else int(y.max()) + 1
    return _cb(np.bincount(y, minlength=C).astype(np.float64), beta)


def grw_weights(labels: Any, rho: float = 1.0, *, num_classes: int | None = None) -> np.ndarray:
    """Per-class weights ``(C,)``: ``w_c ∝ (N / n_c)^ρ``, ``Σ_c w_c = C``."""
    rho = check_positive(rho, "rho", strict=False)
    y = check_labels(labels, "labels", num_classes=num_classes)
    C = num_classes if num_classes is not None else int(y.max()) + 1
    return _grw(np.bincount(y, minlength=C).astype(np.float64), rho)


def class_balanced(beta: float = 0.999) -> Transform:
    """Transform giving each sample its class-balanced weight (reads only the labels)."""
    beta = check_fraction(beta, "beta", inclusive_high=False)
    return class_weight_transform(f"class_balanced(beta={beta:g})", lambda c, C: _cb(c, beta))


def grw(rho: float = 1.0) -> Transform:
    """Transform giving each sample its G-RW weight ``(N/n_{y_i})^ρ`` (reads only the labels)."""
    rho = check_positive(rho, "rho", strict=False)
    return class_weight_transform(f"grw(rho={rho:g})", lambda c, C: _grw(c, rho))
