"""Smooth ECE and the smooth reliability curve (Błasiok & Nakkiran, ICLR 2024).

"Smooth ECE: Principled Reliability Diagrams via Kernel Smoothing". For predictions
``f_i ∈ [0, 1]`` of binary outcomes ``y_i ∈ {0, 1}`` and a bandwidth ``σ``:

- residuals ``r_i = y_i − f_i`` are smoothed with the **reflected** Gaussian kernel
  ``K_σ(t, f) = Σ_{j∈Z} φ_σ(t − f − 2j) + φ_σ(t + f − 2j)`` (the method of images: a Gaussian
  reflected at 0 and 1, so that ``∫_0^1 K_σ(t, f) dt = 1`` for every ``f``);
- ``smECE_σ = (1/n) ∫_0^1 |Σ_i K_σ(t, f_i) r_i| dt``
  (= ``∫ |r̂_σ(t)| δ̂_σ(t) dt`` with the Nadaraya–Watson residual ``r̂_σ`` and the kernel
  density ``δ̂_σ`` of the predictions);
- **smECE** is ``smECE_σ*`` at the fixed point ``smECE_σ* = σ*`` (unique, since smECE_σ is
  non-increasing in σ), found here by Brent's method on ``[10⁻³, 1]``.

For a multiclass model the top-label form is used: ``f_i = max_k p_ik`` against the
correctness ``1[argmax_k p_ik = y_i]`` (the paper's confidence calibration and
``relplot.multiclass_logits_to_confidences``). **Lower = better calibrated** (0 = perfect);
it lies in [0, 1].

Computation: the samples are spread onto a uniform grid of ``G ≥ 10/σ + 1`` points on [0, 1]
by linear interpolation and convolved (FFT) with the kernel on the even, period-2 extension
of the grid, which is the reflected kernel with all its images. The reference implementation
``relplot`` (Apple, 2023) does the same smoothing with one reflection per side and the kernel
cut at ±0.5; the two agree to discretisation error where σ ≪ 0.5.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import brentq

from .._validation import (
    check_fraction,
    check_integer,
    check_labels,
    check_positive,
    check_probs,
    check_scores,
)
from ._common import check_binary

__all__ = ["smooth_ece", "smooth_ece_binary", "smooth_reliability_curve"]

SIGMA_MIN = 1e-3


def _grid_size(sigma: float) -> int:
    return max(1001, int(np.ceil(10.0 / sigma)) + 1)


def _splat(f: np.ndarray, w: np.ndarray, g: int) -> np.ndarray:
    """Spread weights ``w`` at positions ``f ∈ [0, 1]`` onto ``g`` grid points (linear)."""
    pos = np.clip(f, 0.0, 1.0) * (g - 1)
    i0 = np.minimum(pos.astype(np.int64), g - 2)
    frac = pos - i0
    return np.bincount(i0, w * (1.0 - frac), minlength=g) + np.bincount(
        i0 + 1, w * frac, minlength=g
    )


def _reflected_smooth(values: np.ndarray, sigma: float) -> np.ndarray:
    """``Σ_m values_m K_σ(t_j, t_m)`` on the grid ``t_j = j/(G−1)``, reflected kernel, ``(k, G)``.

    ``values`` is ``(G,)`` or ``(k, G)`` (several signals smoothed at once).
    """
    v = np.atleast_2d(values)
    g = v.shape[1]
    h = 1.0 / (g - 1)
    ext = np.concatenate([v, v[:, -2:0:-1]], axis=1)  # even extension, period L = 2(G-1)
    n_ext = ext.shape[1]
    m = np.arange(n_ext)
    d = np.where(m <= n_ext // 2, m, m - n_ext) * h  # signed distance, wrapped
    kern = np.zeros(n_ext)
    reach = int(np.ceil((9.0 * sigma + 1.0) / 2.0))  # images nearer than 9σ (period 2)
    for j in range(-reach, reach + 1):
        kern += np.exp(-0.5 * ((d + 2.0 * j) / sigma) ** 2)
    kern /= np.sqrt(2 * np.pi) * sigma
    out = np.fft.irfft(np.fft.rfft(ext, axis=1) * np.fft.rfft(kern), n_ext, axis=1)
    return out[:, :g]


def _trapezoid(g: int) -> np.ndarray:
    w = np.ones(g)
    w[[0, -1]] = 0.5
    return w


def _smooth_ece_core(
    f: np.ndarray, y: np.ndarray, sigma: float | None = None
) -> tuple[float, float]:
    """``(smECE, σ)`` of predictions ``f`` ``(N,)`` in [0, 1] and outcomes ``y`` ``(N,)`` in {0, 1}."""
    r = y - f
    splats: dict[int, np.ndarray] = {}  # the grid only changes for σ < 0.01

    def at(s: float) -> float:
        g = _grid_size(s)
        if g not in splats:
            splats[g] = np.stack([_splat(f, r, g), _splat(f, np.ones_like(f), g)])
        both = _reflected_smooth(splats[g], s)
        w = _trapezoid(g)
        return float(np.sum(w * np.abs(both[0])) / np.sum(w * both[1]))

    if sigma is not None:
        return at(sigma), float(sigma)
    if at(1.0) >= 1.0:
        return at(1.0), 1.0
    if at(SIGMA_MIN) <= SIGMA_MIN:
        return at(SIGMA_MIN), SIGMA_MIN
    s = float(brentq(lambda v: at(v) - v, SIGMA_MIN, 1.0, xtol=1e-6, rtol=1e-6))
    return at(s), s


def _top_label(p: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return p.max(axis=1), (p.argmax(axis=1) == y).astype(np.float64)


def _check_sigma(sigma: float | None) -> float | None:
    if sigma is None:
        return None
    s = check_positive(sigma, "sigma")
    if s > 1:
        raise ValueError(f"sigma: expected a bandwidth in (0, 1], got {sigma!r}")
    return s


def smooth_ece_binary(
    scores: Any, outcomes: Any, *, sigma: float | None = None, return_sigma: bool = False
) -> float | tuple[float, float]:
    """Smooth ECE of binary predictions (Błasiok & Nakkiran 2024; ``relplot.smECE``).

    Args:
        scores: predicted probabilities of the positive outcome ``f`` ``(N,)`` in [0, 1].
        outcomes: ``(N,)`` 0/1 or booleans.
        sigma: a fixed bandwidth in (0, 1] (``smECE_σ``); default the fixed point ``σ*``.
        return_sigma: also return the bandwidth used.

    Returns:
        ``smECE`` in [0, 1] (lower = better calibrated), or ``(smECE, σ)``.
    """
    f = check_scores(scores, "scores")
    if f.min() < 0 or f.max() > 1:
        raise ValueError(
            f"scores: expected probabilities in [0, 1], got values in [{f.min():.4g}, {f.max():.4g}]"
        )
    y = check_binary(outcomes, "outcomes").astype(np.float64)
    if len(y) != len(f):
        raise ValueError(f"outcomes: expected {len(f)} values (one per score), got {len(y)}")
    value, s = _smooth_ece_core(f, y, _check_sigma(sigma))
    return (value, s) if return_sigma else value


def smooth_ece(
    probs: Any, labels: Any, *, sigma: float | None = None, return_sigma: bool = False
) -> float | tuple[float, float]:
    """Top-label smooth ECE: ``smECE(max_k p_ik, 1[argmax_k p_ik = y_i])`` (lower = better).

    Args:
        probs: probabilities ``(N, C)``.
        labels: integer labels ``(N,)`` in ``[0, C)``.
        sigma: a fixed bandwidth in (0, 1]; default the fixed point ``smECE_σ = σ``.
        return_sigma: also return the bandwidth used.

    Returns:
        ``smECE`` in [0, 1], or ``(smECE, σ)``.
    """
    p = check_probs(probs)
    y = check_labels(labels, num_classes=p.shape[1], n=p.shape[0])
    conf, hit = _top_label(p, y)
    value, s = _smooth_ece_core(conf, hit, _check_sigma(sigma))
    return (value, s) if return_sigma else value


def _smooth_curve(f: np.ndarray, y: np.ndarray, sigma: float, t: np.ndarray) -> np.ndarray:
    g = _grid_size(sigma)
    both = _reflected_smooth(np.stack([_splat(f, y, g), _splat(f, np.ones_like(f), g)]), sigma)
    grid = np.linspace(0.0, 1.0, g)
    with np.errstate(invalid="ignore", divide="ignore"):
        mu = np.where(both[1] > 0, both[0] / both[1], np.nan)
    return np.interp(t, grid, mu)


def smooth_reliability_curve(
    probs: Any,
    labels: Any,
    *,
    sigma: float | None = None,
    n_points: int = 201,
    ci: float = 0.95,
    n_boot: int = 100,
    seed: int = 0,
) -> dict[str, Any]:
    """Kernel-smoothed reliability curve ``t ↦ Ê[correct | conf = t]`` with a bootstrap band.

    ``μ̂(t) = Σ_i K_σ(t, f_i) y_i / Σ_i K_σ(t, f_i)`` (Nadaraya–Watson with the reflected
    Gaussian kernel, as relplot's ``prepare_rel_diagram``) on the top-label confidence
    ``f_i = max_k p_ik`` and correctness ``y_i``, at the smECE bandwidth ``σ*`` unless given.
    A calibrated model has ``μ̂(t) = t``.

    Args:
        probs, labels: ``(N, C)`` probabilities and ``(N,)`` labels.
        sigma: bandwidth (default ``σ*`` of :func:`smooth_ece`).
        n_points: evaluation points on [0, 1].
        ci: band level (percentile bootstrap over samples, same σ); ``n_boot=0`` for none.
        seed: seed of the bootstrap resampling.

    Returns:
        dict with ``t`` ``(n_points,)``, ``mu``, ``lower``, ``upper`` (NaN without a band),
        ``density`` (kernel density of the confidences, integrating to 1), and the scalars
        ``sigma`` and ``smooth_ece``.
    """
    p = check_probs(probs)
    y = check_labels(labels, num_classes=p.shape[1], n=p.shape[0])
    ci = check_fraction(ci, "ci", inclusive_high=False)
    n_points = check_integer(n_points, "n_points", minimum=2)
    n_boot = check_integer(n_boot, "n_boot", minimum=0)
    f, hit = _top_label(p, y)
    value, s = _smooth_ece_core(f, hit, _check_sigma(sigma))
    t = np.linspace(0.0, 1.0, int(n_points))
    mu = _smooth_curve(f, hit, s, t)
    lower = upper = np.full_like(t, np.nan)
    if n_boot:
        rng = np.random.default_rng(seed)
        boots = np.empty((int(n_boot), len(t)))
        for b in range(int(n_boot)):
            idx = rng.integers(0, len(f), len(f))
            boots[b] = _smooth_curve(f[idx], hit[idx], s, t)
        alpha = (1 - ci) / 2
        lower, upper = np.nanquantile(boots, [alpha, 1 - alpha], axis=0)
    g = _grid_size(s)
    dens = _reflected_smooth(_splat(f, np.ones_like(f), g), s)[0] / len(f)
    density = np.interp(t, np.linspace(0.0, 1.0, g), dens)
    return {
        "t": t,
        "mu": mu,
        "lower": lower,
        "upper": upper,
        "density": density,
        "sigma": s,
        "smooth_ece": value,
    }
