"""Hard-first (and easy-first) weights from any difficulty column, with the χ² trade-off explicit.

Given a difficulty ``d (N,)`` (higher = harder: ``gen_error``, ``loss``, ``-margin``, ...)::

    d̃ = normalize(d)                       # "rank" (default), "minmax", "zscore" or "none"
    w = exp(d̃ / t)                         # form="exp": temperature t > 0 (t → ∞: uniform)
    w = d̃ ** (1 / t)                       # form="power" (needs d̃ >= 0)
    w = w / mean(w)                        # mean one, Σ w = N
    w = min(w, c) / mean(min(w, c))        # optional max_ratio: max(w) / mean(w) <= max_ratio

``max_ratio`` bounds the *returned* weights: the clip level ``c`` is solved for exactly
(water-filling, :func:`capped_mean_one`) so that after the mean-one rescale
``max(w) = max_ratio`` (when the uncapped weights exceed it; otherwise nothing is clipped).
Clipping at ``max_ratio · mean`` *before* the rescale would not do that: clipping lowers the
mean, so the ratio after the rescale could exceed the cap several times over.

Zhou et al. (2022), Prop. 6: up-weighting hard samples lowers the margin-loss term (I) of the
bound but raises the χ² divergence term (II) between the weighted training distribution and
the target. ``chi2_cap`` makes that trade-off a parameter: the temperature is then the
smallest one whose weights satisfy ``D_χ² <= chi2_cap`` (see :mod:`.divergence`).
``easy_first`` is the same with ``-d`` (down-weights hard and likely-noisy samples).

Inverse margin (Zhou Fig. 4; Xu et al. 2021): ``w_i = 1 / (max(m_i, 0) + δ)``, mean one, with
margin ``m_i = -d_i`` (so pass the ``margin`` difficulty column, which is ``-margin``), with
the same exact ``max_ratio`` cap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validation import check_choice, check_positive, check_scores
from .divergence import DIRECTIONS, _chi2, solve_for_chi2
from .transforms import Transform, WeightContext, normalize

__all__ = [
    "HardFirstWeights",
    "hard_first_weights",
    "hard_first",
    "easy_first",
    "inverse_margin",
    "capped_mean_one",
]


@dataclass(frozen=True)
class HardFirstWeights:
    """Result of :func:`hard_first_weights`: ``weights (N,)`` (mean one), the temperature used, D_χ²."""

    weights: np.ndarray
    temperature: float
    chi2: float


def capped_mean_one(log_w: np.ndarray, max_ratio: float | None = None) -> np.ndarray:
    """Mean-one weights ``∝ exp(log_w)`` whose ``max / mean`` is at most ``max_ratio``.

    Exact water-filling: with ``w = exp(log_w)``, the clip level ``c`` solves
    ``c / mean(min(w, c)) = max_ratio`` (``g(c) = c / mean(min(w, c))`` is non-decreasing,
    from 1 at ``c = min w`` to ``max w / mean w``), and the result is
    ``min(w, c) / mean(min(w, c))``: mean one, largest weight exactly ``max_ratio`` when the
    cap binds, unchanged (``w / mean w``) when it does not, order preserved (ties allowed).
    ``max_ratio=1`` gives uniform weights. Works in log space, so weights that would
    under- or overflow as ``exp(log_w)`` are handled.
    """
    lw = np.asarray(log_w, dtype=np.float64)
    lw = np.maximum(lw - lw.max(), -1e300)  # exp() of the floor is 0; no -inf in the sums
    w = np.exp(lw)
    w = w / w.mean()
    if max_ratio is None or w.max() <= max_ratio:
        return w
    n, R = len(lw), float(max_ratio)
    ls = np.sort(lw)
    lsum = np.logaddexp.accumulate(ls)  # lsum[j] = log Σ_{i<=j} exp(ls[i])
    below = np.concatenate([[-np.inf], lsum[:-1]])  # log Σ_{i<j} exp(ls[i])
    k = n - np.arange(n)  # how many values are clipped when c = ls[j]
    log_g = ls + np.log(n) - np.logaddexp(below, np.log(k) + ls)  # log g(exp(ls[j]))
    j = int(np.searchsorted(log_g, np.log(R), side="right")) - 1  # last j with g <= R
    j = min(max(j, 0), n - 2)
    kc = n - j - 1  # values clipped for c in (ls[j], ls[j + 1]]
    denom = n - R * kc
    # c (n - R kc) = R Σ_{i<=j} w_i  (the linear equation on that interval)
    lc = np.log(R) + lsum[j] - np.log(denom) if denom > 0 else ls[j + 1]
    lc = float(np.clip(lc, ls[j], ls[j + 1]))
    w = np.exp(np.minimum(lw - lc, 0.0))  # ∝ min(w, c)
    return w / w.mean()


def _raw(dn: np.ndarray, t: float, form: str, max_ratio: float | None) -> np.ndarray:
    lw = (dn - dn.max()) / t if form == "exp" else np.log(dn + 1e-12) / t
    return capped_mean_one(lw, max_ratio)


def _hard_first(
    d: np.ndarray,
    temperature: float,
    method: str,
    form: str,
    chi2_cap: float | None,
    max_ratio: float | None,
    direction: str,
    sign: float,
) -> HardFirstWeights:
    dn = normalize(method).apply(sign * d, WeightContext())
    if form == "power" and dn.min() < 0:
        raise ValueError(
            "method: form='power' needs non-negative normalised difficulty; use 'rank' or 'minmax'"
        )
    if chi2_cap is None:
        w = _raw(dn, temperature, form, max_ratio)
        return HardFirstWeights(w, float(temperature), _chi2(w, direction))
    t, w, D = solve_for_chi2(
        lambda tt: _raw(dn, tt, form, max_ratio), chi2_cap, direction=direction
    )
    return HardFirstWeights(w, t, D)


def _check(
    temperature: float,
    method: str,
    form: str,
    chi2_cap: float | None,
    max_ratio: float | None,
    direction: str,
) -> None:
    check_positive(temperature, "temperature")
    check_choice(method, "method", ("rank", "minmax", "zscore", "none"))
    check_choice(form, "form", ("exp", "power"))
    check_choice(direction, "direction", DIRECTIONS)
    if chi2_cap is not None:
        check_positive(chi2_cap, "chi2_cap", strict=False)
    _check_max_ratio(max_ratio)


def _check_max_ratio(max_ratio: float | None) -> None:
    if max_ratio is not None:
        check_positive(max_ratio, "max_ratio")
        if max_ratio < 1:
            raise ValueError(
                f"max_ratio: expected >= 1 (a cap relative to the mean weight), got {max_ratio!r}"
            )


def hard_first_weights(
    difficulty: Any,
    *,
    temperature: float = 1.0,
    method: str = "rank",
    form: str = "exp",
    chi2_cap: float | None = None,
    max_ratio: float | None = None,
    direction: str = "weighted||uniform",
    easy: bool = False,
) -> HardFirstWeights:
    """Hard-first weights ``(N,)`` (mean one) from difficulty ``(N,)`` (higher = harder).

    Args:
        difficulty: ``(N,)`` finite scores, higher = harder.
        temperature: ``t > 0``; smaller = more concentrated on hard samples. Ignored (solved
            for) when ``chi2_cap`` is given.
        method: normalisation of ``d`` before tempering (see :func:`.transforms.normalize`).
        form: ``"exp"`` (``exp(d̃/t)``) or ``"power"`` (``d̃^(1/t)``).
        chi2_cap: if given, the smallest temperature with ``D_χ²(w) <= chi2_cap``.
        max_ratio: cap (>= 1) on ``max(w) / mean(w)`` of the returned weights (exact,
            see :func:`capped_mean_one`).
        direction: which χ² (see :mod:`.divergence`).
        easy: easy-first (weights decrease with difficulty).

    Returns:
        :class:`HardFirstWeights` ``(weights, temperature, chi2)``.
    """
    d = check_scores(difficulty, "difficulty")
    _check(temperature, method, form, chi2_cap, max_ratio, direction)
    return _hard_first(
        d, temperature, method, form, chi2_cap, max_ratio, direction, -1.0 if easy else 1.0
    )


def hard_first(
    temperature: float = 1.0,
    *,
    method: str = "rank",
    form: str = "exp",
    chi2_cap: float | None = None,
    max_ratio: float | None = None,
    direction: str = "weighted||uniform",
) -> Transform:
    """Transform version of :func:`hard_first_weights` (difficulty → mean-one weights)."""
    _check(temperature, method, form, chi2_cap, max_ratio, direction)
    cap = "" if chi2_cap is None else f",chi2<={chi2_cap:g}"
    return Transform(
        f"hard_first(t={temperature:g},{method},{form}{cap})",
        lambda v, ctx: (
            _hard_first(v, temperature, method, form, chi2_cap, max_ratio, direction, 1.0).weights
        ),
    )


def easy_first(
    temperature: float = 1.0,
    *,
    method: str = "rank",
    form: str = "exp",
    chi2_cap: float | None = None,
    max_ratio: float | None = None,
    direction: str = "weighted||uniform",
) -> Transform:
    """Easy-first: :func:`hard_first` on ``-d`` (weights decrease with difficulty)."""
    _check(temperature, method, form, chi2_cap, max_ratio, direction)
    return Transform(
        f"easy_first(t={temperature:g},{method},{form})",
        lambda v, ctx: (
            _hard_first(v, temperature, method, form, chi2_cap, max_ratio, direction, -1.0).weights
        ),
    )


def inverse_margin(delta: float = 0.1, max_ratio: float | None = None) -> Transform:
    """``w_i = 1 / (max(-d_i, 0) + δ)``, mean one, for ``d = -margin`` (the ``margin`` difficulty).

    Small (or negative) margins get large weights; ``δ > 0`` bounds the weights by ``1/δ``.
    ``max_ratio`` (>= 1) caps ``max(w) / mean(w)`` of the returned weights exactly
    (:func:`capped_mean_one`).
    """
    delta = check_positive(delta, "delta")
    _check_max_ratio(max_ratio)
    cap = "" if max_ratio is None else f",max_ratio={max_ratio:g}"
    return Transform(
        f"inverse_margin(delta={delta:g}{cap})",
        lambda v, ctx: capped_mean_one(-np.log(np.maximum(-v, 0.0) + delta), max_ratio),
    )
