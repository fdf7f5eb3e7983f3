"""χ² divergence between the weighted training distribution and the uniform one (Zhou Prop. 6).

Weights ``w (N,)`` turn the empirical training distribution (mass ``1/N`` per sample) into
``q_i = w_i / Σ_j w_j``. With ``ŵ_i = N q_i`` (weights rescaled to mean one):

- ``direction="weighted||uniform"`` (default, finite even when some weights are 0):
  ``D = Σ_i (ŵ_i - 1)² / N = N Σ_i q_i² - 1``, Pearson's χ²(Q ‖ U) = ``Var(ŵ)``;
- ``direction="uniform||weighted"``: ``D = Σ_i (1/N)² / q_i - 1 = mean_i(1/ŵ_i) - 1``,
  Pearson's χ²(U ‖ Q), the form under the square root of Zhou's term (II) when the
  target is the uniform training distribution (``+inf`` if a weight is 0).

Both are 0 for uniform weights and grow as the weights concentrate; higher = further
from the target. Zhou et al. (2022), §4.2, Theorem 2 / Proposition 6.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .._validation import check_array, check_choice, check_positive

__all__ = ["chi2_divergence", "solve_for_chi2"]

DIRECTIONS = ("weighted||uniform", "uniform||weighted")


def _chi2(w: np.ndarray, direction: str) -> float:
    wh = w * (len(w) / w.sum())
    if direction == "weighted||uniform":
        return float(np.mean((wh - 1.0) ** 2))
    with np.errstate(divide="ignore"):
        return float(np.mean(1.0 / wh) - 1.0)


def chi2_divergence(weights: Any, *, direction: str = "weighted||uniform") -> float:
    """χ² divergence of the weighted empirical distribution from the uniform one (see module doc).

    Args:
        weights: non-negative ``(N,)`` with a positive sum.
        direction: ``"weighted||uniform"`` (``Σ (ŵ-1)²/N``) or ``"uniform||weighted"``.

    Returns:
        ``D >= 0`` (0 iff the weights are constant).
    """
    w = check_array(weights, "weights", ndim=1)
    check_choice(direction, "direction", DIRECTIONS)
    if w.min() < 0 or w.sum() <= 0:
        raise ValueError("weights: expected non-negative weights with a positive sum")
    return _chi2(w, direction)


def solve_for_chi2(
    make_weights: Callable[[float], np.ndarray],
    cap: float,
    *,
    direction: str = "weighted||uniform",
    lo: float = 1e-3,
    hi: float = 1e4,
    iters: int = 60,
) -> tuple[float, np.ndarray, float]:
    """Smallest temperature ``t`` in ``[lo, hi]`` with ``D_χ²(make_weights(t)) <= cap``.

    ``make_weights(t)`` must give weights whose divergence decreases as ``t`` grows (true
    for ``exp(d/t)``). Bisection on ``log t``. Returns ``(t, weights, D)``; if even ``lo``
    meets the cap, ``lo`` is returned.
    """
    if not callable(make_weights):
        raise ValueError(
            f"make_weights: expected a callable t -> weights (N,), got {type(make_weights).__name__}"
        )
    cap = check_positive(cap, "cap", strict=False)
    check_choice(direction, "direction", DIRECTIONS)
    w_lo = make_weights(lo)
    if _chi2(w_lo, direction) <= cap:
        return lo, w_lo, _chi2(w_lo, direction)
    w_hi = make_weights(hi)
    if _chi2(w_hi, direction) > cap:
        raise ValueError(
            f"cap: the χ² cap (chi2_cap) {cap:g} is below the divergence {_chi2(w_hi, direction):.3g} "
            f"reached at the largest temperature {hi:g}"
        )
    a, b = np.log(lo), np.log(hi)
    for _ in range(iters):
        m = 0.5 * (a + b)
        if _chi2(make_weights(float(np.exp(m))), direction) > cap:
            a = m
        else:
            b = m
    t = float(np.exp(b))
    w = make_weights(t)
    return t, w, _chi2(w, direction)
