"""Bootstrap confidence intervals for calibration measures, and a report of all of them.

A data-set measure ``m(probs, labels)`` (``probs`` ``(N, C)``, ``labels`` ``(N,)``) is computed
on ``n_boot`` resamples of the N samples drawn with replacement, giving the quantiles
``q_{α/2}, q_{1−α/2}`` (``α = 1 − ci``) of its bootstrap distribution; the point value ``m̂``
is ``m`` on the full sample. The interval is

- ``method="percentile"`` (default): ``[q_{α/2}, q_{1−α/2}]`` (Efron & Tibshirani 1993, §13.3);
- ``method="basic"``: ``[2m̂ − q_{1−α/2}, 2m̂ − q_{α/2}]`` (the reflected, "basic" bootstrap of
  Davison & Hinkley 1997, §5.2, which relplot uses for smooth ECE).

Every measure of one report is computed on the same resamples (paired), so two reports with
the same ``seed`` and ``N`` share them too.

The percentile interval covers the population value at about the stated rate for measures
that are smooth functions of means (accuracy, NLL, Brier; tested). Binned ECE and smooth ECE
are biased upwards on finite samples (``|·|`` of a noisy gap) and a resample (with its
duplicates) is noisier still, so their percentile interval can lie entirely above the point
value of a well-calibrated model; the basic interval corrects for that shift (and may reach
below 0, the measure's floor). Directions: ``accuracy`` and ``auroc`` higher = better; every
other measure lower = better.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .._validation import check_choice, check_fraction, check_integer, check_labels, check_probs
from .calibration import (
    _adaptive_ece_core,
    _brier_core,
    _classwise_ece_core,
    _ece_core,
    _mce_core,
    _nll_core,
    _top_label,
)
from .ranking import auroc_core
from .selective import _aurc_core
from .smooth_ece import _smooth_ece_core

__all__ = ["bootstrap_ci", "calibration_report", "REPORT_MEASURES"]

Interval = tuple[float, float, float]


def _auroc_of_confidence(p: np.ndarray, y: np.ndarray, n_bins: int) -> float:
    conf, hit = _top_label(p, y)
    c = hit.astype(bool)
    return auroc_core(c, conf) if 0 < c.sum() < len(c) else float("nan")


def _aurc_of_confidence(p: np.ndarray, y: np.ndarray, n_bins: int) -> float:
    conf, hit = _top_label(p, y)
    return _aurc_core(hit.astype(bool), conf)


_MEASURES: dict[str, Callable[[np.ndarray, np.ndarray, int], float]] = {
    "accuracy": lambda p, y, b: float(np.mean(p.argmax(1) == y)),
    "nll": lambda p, y, b: _nll_core(p, y),
    "brier": lambda p, y, b: _brier_core(p, y),
    "ece": lambda p, y, b: _ece_core(*_top_label(p, y), b),
    "adaptive_ece": lambda p, y, b: _adaptive_ece_core(*_top_label(p, y), b),
    "classwise_ece": lambda p, y, b: _classwise_ece_core(p, y, b),
    "mce": lambda p, y, b: _mce_core(*_top_label(p, y), b),
    "smooth_ece": lambda p, y, b: _smooth_ece_core(*_top_label(p, y))[0],
    "auroc": _auroc_of_confidence,
    "aurc": _aurc_of_confidence,
}
#: Measures of :func:`calibration_report`: accuracy; NLL, Brier, binned ECE (15 equal-width
#: bins), adaptive ECE, classwise ECE, MCE, top-label smooth ECE; and failure prediction by the
#: max-probability confidence (AUROC, positive = correct; AURC of its risk–coverage curve).
REPORT_MEASURES: tuple[str, ...] = tuple(_MEASURES)


_METHODS = ("percentile", "basic")


def _check_ci_args(ci: float, n_boot: int, method: str = "percentile") -> float:
    check_choice(method, "method", _METHODS)
    ci = check_fraction(ci, "ci", inclusive_high=False)
    if ci <= 0:
        raise ValueError(f"ci: expected a level in (0, 1), got {ci!r}")
    check_integer(n_boot, "n_boot", minimum=1)
    return ci


def _intervals(
    fns: dict[str, Callable[[np.ndarray, np.ndarray], float]],
    p: np.ndarray,
    y: np.ndarray,
    ci: float,
    n_boot: int,
    seed: int,
    method: str = "percentile",
) -> dict[str, Interval]:
    """Point value and percentile interval of each ``fn(p, y)``, all on the same resamples."""
    rng = np.random.default_rng(seed)
    n = len(y)
    n_boot = int(n_boot)
    vals = {k: np.empty(n_boot) for k in fns}
    for b in range(n_boot):
        idx = rng.integers(0, n, n)
        pb, yb = p[idx], y[idx]
        for k, fn in fns.items():
            vals[k][b] = fn(pb, yb)
    alpha = (1.0 - ci) / 2
    out: dict[str, Interval] = {}
    for k, fn in fns.items():
        v = vals[k]
        ok = np.isfinite(v)
        if ok.sum() < 0.9 * len(v):
            warnings.warn(
                f"bootstrap: {k} is undefined (NaN) on {int((~ok).sum())} of {len(v)} resamples; "
                "its interval uses the others",
                RuntimeWarning,
                stacklevel=3,
            )
        lo, hi = np.quantile(v[ok], [alpha, 1 - alpha]) if ok.any() else (np.nan, np.nan)
        value = float(fn(p, y))
        if method == "basic":
            lo, hi = 2 * value - hi, 2 * value - lo
        out[k] = (value, float(lo), float(hi))
    return out


def bootstrap_ci(
    metric_fn: Callable[[Any, Any], float],
    probs: Any,
    labels: Any,
    *,
    ci: float = 0.95,
    n_boot: int = 1000,
    seed: int = 0,
    method: str = "percentile",
) -> Interval:
    """Percentile-bootstrap interval of any measure ``metric_fn(probs, labels) -> float``.

    Args:
        metric_fn: e.g. :func:`~samplescope.metrics.ece` or ``lambda p, y: ece(p, y, 10)``.
        probs: probabilities ``(N, C)``; labels: ``(N,)`` in ``[0, C)``.
        ci: interval level in (0, 1).
        n_boot: resamples of the N samples (with replacement).
        seed: seed of the resampling (same seed, same intervals).
        method: ``"percentile"`` or ``"basic"`` (see the module doc).

    Returns:
        ``(value, low, high)``: ``metric_fn`` on all samples and, for the percentile method,
        the ``(1 − ci)/2`` and ``(1 + ci)/2`` quantiles over the resamples (resamples giving
        NaN are left out, with a ``RuntimeWarning`` if they are more than 10%).
    """
    if not callable(metric_fn):
        raise ValueError(f"metric_fn: expected a callable, got {type(metric_fn).__name__}")
    p = check_probs(probs)
    y = check_labels(labels, num_classes=p.shape[1], n=p.shape[0])
    ci = _check_ci_args(ci, n_boot, method)
    fns = {"metric_fn": lambda a, b: float(metric_fn(a, b))}
    return _intervals(fns, p, y, ci, n_boot, seed, method)["metric_fn"]


def calibration_report(
    probs: Any,
    labels: Any,
    *,
    ci: float = 0.95,
    n_boot: int = 1000,
    n_bins: int = 15,
    measures: Sequence[str] | None = None,
    seed: int = 0,
    method: str = "percentile",
) -> dict[str, Interval]:
    """Every calibration measure with its bootstrap interval, plus accuracy.

    Args:
        probs: probabilities ``(N, C)``; labels: ``(N,)`` in ``[0, C)``.
        ci, n_boot, seed, method: as in :func:`bootstrap_ci` (one set of resamples for all
            measures).
        n_bins: bins of the binned measures (ECE, adaptive, classwise, MCE).
        measures: a subset of :data:`REPORT_MEASURES` (default: all of them).

    Returns:
        ``{name: (value, low, high)}`` in the order of ``measures``; names and directions as in
        :data:`REPORT_MEASURES` (``accuracy``, ``auroc`` higher = better, the rest lower).
    """
    p = check_probs(probs)
    y = check_labels(labels, num_classes=p.shape[1], n=p.shape[0])
    ci = _check_ci_args(ci, n_boot, method)
    n_bins = check_integer(n_bins, "n_bins", minimum=1)
    names = list(REPORT_MEASURES if measures is None else measures)
    unknown = [m for m in names if m not in _MEASURES]
    if unknown or not names:
        raise ValueError(f"measures: expected names from {list(REPORT_MEASURES)}, got {names!r}")

    def bind(name: str) -> Callable[[np.ndarray, np.ndarray], float]:
        core = _MEASURES[name]
        return lambda a, b: core(a, b, int(n_bins))

    return _intervals({m: bind(m) for m in names}, p, y, ci, n_boot, seed, method)
