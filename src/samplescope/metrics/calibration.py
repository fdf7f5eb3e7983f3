"""Calibration metrics of probabilities ``probs`` ``(N, C)`` against labels ``(N,)``.

All are **lower = better calibrated** (0 = perfect). Conventions (REFERENCE §3):

- top-label confidence ``conf_i = max_k p_ik``, correctness ``acc_i = 1[argmax_k p_ik = y_i]``;
- ``n_bins`` equal-width bins ``(lo, hi]`` on [0, 1] with edges ``linspace(0, 1, n_bins + 1)``;
  a confidence of exactly 1.0 falls in the last bin and 0.0 in the first. torchmetrics
  (``bucketize(right=True)``) uses ``[lo, hi)`` and puts 1.0 in an extra, phantom bin
  (torchmetrics issue #3510), so the two agree except for confidences lying exactly on
  an edge (e.g. saturated softmax outputs of 1.0);
- ``ECE = Σ_b |B_b|/N · |acc(B_b) − conf(B_b)|`` (Guo et al. 2017, Naeini et al. 2015);
  ``MCE = max_b |acc(B_b) − conf(B_b)|`` over non-empty bins; adaptive ECE uses
  equal-count bins (Nguyen & O'Connor 2015); classwise ECE (Kull et al. 2019) averages over
  classes the ECE of ``p_ik`` against ``1[y_i = k]`` on all samples;
- ``Brier = mean_i Σ_k (p_ik − 1[y_i = k])²`` (multi-class, range [0, 2]);
  ``NLL = −mean_i log p_{i, y_i}`` (probabilities clipped at 1e-12).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from .._validation import check_labels, check_positive, check_probs, to_numpy
from ..functional import label_nll

__all__ = [
    "ece",
    "mce",
    "adaptive_ece",
    "classwise_ece",
    "brier",
    "nll",
    "reliability_diagram_data",
    "plot_reliability_diagram",
]

_EPS = 1e-12


def _validate(probs: Any, labels: Any, n_bins: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    p = check_probs(probs)
    y = check_labels(labels, num_classes=p.shape[1], n=p.shape[0])
    if n_bins is not None and (int(check_positive(n_bins, "n_bins")) != n_bins):
        raise ValueError(f"n_bins: expected a positive integer, got {n_bins!r}")
    return p, y


def _top_label(p: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return p.max(axis=1), (p.argmax(axis=1) == y).astype(np.float64)


def _bin_index(conf: np.ndarray, n_bins: int) -> np.ndarray:
    """Bin of each confidence for bins ``(lo, hi]``; 0.0 goes to the first bin."""
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    return np.clip(np.searchsorted(edges, conf, side="left") - 1, 0, n_bins - 1)


def _bin_stats(
    conf: np.ndarray, hit: np.ndarray, idx: np.ndarray, n_bins: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-bin ``(count, mean accuracy, mean confidence)``; NaN means for empty bins."""
    count = np.bincount(idx, minlength=n_bins).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        acc = np.bincount(idx, weights=hit, minlength=n_bins) / count
        mconf = np.bincount(idx, weights=conf, minlength=n_bins) / count
    return count, acc, mconf


def _ece_core(conf: np.ndarray, hit: np.ndarray, n_bins: int) -> float:
    count, acc, mconf = _bin_stats(conf, hit, _bin_index(conf, n_bins), n_bins)
    nz = count > 0
    return float(np.sum(count[nz] / len(conf) * np.abs(acc[nz] - mconf[nz])))


# ``_*_core``: the formulas on validated arrays (conf/hit ``(N,)``, p ``(N, C)``, y ``(N,)``);
# the public functions validate once and call them, and so does the bootstrap.
def _mce_core(conf: np.ndarray, hit: np.ndarray, n_bins: int) -> float:
    count, acc, mconf = _bin_stats(conf, hit, _bin_index(conf, n_bins), n_bins)
    nz = count > 0
    return float(np.max(np.abs(acc[nz] - mconf[nz])))


def _adaptive_ece_core(conf: np.ndarray, hit: np.ndarray, n_bins: int) -> float:
    order = np.argsort(conf, kind="mergesort")
    total = 0.0
    for group in np.array_split(order, min(n_bins, len(order))):
        total += len(group) * abs(hit[group].mean() - conf[group].mean())
    return float(total / len(conf))


def _classwise_ece_core(p: np.ndarray, y: np.ndarray, n_bins: int) -> float:
    total = 0.0
    for k in range(p.shape[1]):
        total += _ece_core(p[:, k], (y == k).astype(np.float64), n_bins)
    return float(total / p.shape[1])


def _brier_core(p: np.ndarray, y: np.ndarray) -> float:
    onehot = np.zeros_like(p)
    onehot[np.arange(len(y)), y] = 1.0
    return float(np.mean(np.sum((p - onehot) ** 2, axis=1)))


def _nll_core(p: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(label_nll(p, y, _EPS)))


def ece(probs: Any, labels: Any, n_bins: int = 15) -> float:
    """Expected calibration error of the top-label confidence (lower = better).

    Args:
        probs: probabilities ``(N, C)`` (rows on the simplex).
        labels: integer labels ``(N,)`` in ``[0, C)``.
        n_bins: equal-width bins ``(lo, hi]`` (15 as in Guo et al. 2017).

    Returns:
        ``Σ_b |B_b|/N · |acc_b − conf_b|`` in [0, 1].
    """
    p, y = _validate(probs, labels, n_bins)
    conf, hit = _top_label(p, y)
    return _ece_core(conf, hit, n_bins)


def mce(probs: Any, labels: Any, n_bins: int = 15) -> float:
    """Maximum calibration error ``max_b |acc_b − conf_b|`` over non-empty bins (lower = better)."""
    p, y = _validate(probs, labels, n_bins)
    conf, hit = _top_label(p, y)
    return _mce_core(conf, hit, n_bins)


def adaptive_ece(probs: Any, labels: Any, n_bins: int = 15) -> float:
    """ECE with equal-count bins (adaptive / equal-mass binning; lower = better).

    Samples are sorted by top-label confidence (stable) and split into ``n_bins`` groups
    whose sizes differ by at most one (``numpy.array_split``); ``Σ_b |B_b|/N |acc_b − conf_b|``.
    """
    p, y = _validate(probs, labels, n_bins)
    conf, hit = _top_label(p, y)
    return _adaptive_ece_core(conf, hit, n_bins)


def classwise_ece(probs: Any, labels: Any, n_bins: int = 15) -> float:
    """Classwise ECE (Kull et al. 2019): ``(1/C) Σ_k ECE(p_·k, 1[y = k])`` (lower = better).

    For each class ``k`` every sample's ``p_ik`` is binned into ``(lo, hi]`` bins and compared
    with the frequency of ``y_i = k`` in the bin.
    """
    p, y = _validate(probs, labels, n_bins)
    return _classwise_ece_core(p, y, n_bins)


def brier(probs: Any, labels: Any) -> float:
    """Multi-class Brier score ``mean_i Σ_k (p_ik − 1[y_i = k])²`` in [0, 2] (lower = better)."""
    p, y = _validate(probs, labels)
    return _brier_core(p, y)


def nll(probs: Any, labels: Any) -> float:
    """Negative log-likelihood ``−mean_i log p_{i, y_i}`` in nats (lower = better)."""
    p, y = _validate(probs, labels)
    return _nll_core(p, y)


def reliability_diagram_data(probs: Any, labels: Any, n_bins: int = 15) -> dict[str, Any]:
    """Per-bin data of a reliability diagram (equal-width ``(lo, hi]`` bins).

    Returns:
        dict with ``edges`` ``(n_bins + 1,)``, ``count`` ``(n_bins,)``, ``accuracy`` and
        ``confidence`` ``(n_bins,)`` (NaN for empty bins), ``gap = accuracy − confidence``,
        and the scalars ``ece``, ``mce``, ``accuracy_overall``, ``confidence_overall``.
    """
    p, y = _validate(probs, labels, n_bins)
    conf, hit = _top_label(p, y)
    count, acc, mconf = _bin_stats(conf, hit, _bin_index(conf, n_bins), n_bins)
    nz = count > 0
    return {
        "edges": np.linspace(0.0, 1.0, n_bins + 1),
        "count": count,
        "accuracy": acc,
        "confidence": mconf,
        "gap": acc - mconf,
        "ece": float(np.sum(count[nz] / len(conf) * np.abs(acc[nz] - mconf[nz]))),
        "mce": float(np.max(np.abs(acc[nz] - mconf[nz]))),
        "accuracy_overall": float(hit.mean()),
        "confidence_overall": float(conf.mean()),
    }


def plot_reliability_diagram(
    probs: Any,
    labels: Any,
    n_bins: int = 15,
    *,
    ax: Any = None,
    title: str | None = None,
    path: str | os.PathLike | None = None,
    label: str | None = None,
    smooth: bool = True,
    n_boot: int = 100,
    seed: int = 0,
) -> Any:
    """Reliability diagram read at a glance: accuracy per bin, the smooth curve, the counts.

    Top panel: per-bin accuracy bars (equal-width ``(lo, hi]`` bins, as :func:`ece`) with the
    gap to the bin's mean confidence hatched, the diagonal of perfect calibration and, with
    ``smooth=True``, the kernel-smoothed ``Ê[correct | confidence]`` of
    :func:`~samplescope.metrics.smooth_reliability_curve` with its 95% bootstrap band, drawn
    over the range of the confidences. Bottom strip (its own axes, no overlap): the number
    of samples per bin on a log scale.

    Args:
        probs, labels, n_bins: as in :func:`ece`.
        ax: a matplotlib Axes to draw on; the count strip is split off below it (a new
            figure otherwise).
        title: axes title (default: ECE, smooth ECE and MCE).
        path: save the figure there (PNG/PDF/SVG by suffix) and close it.
        label: legend label of the bars.
        smooth: draw the smooth curve and band (``n_boot`` resamples, ``seed``).

    Returns:
        The matplotlib Figure.
    """
    from ..io.figures import plt, save_figure
    from .smooth_ece import smooth_reliability_curve

    d = reliability_diagram_data(probs, labels, n_bins)
    pyplot = plt()
    if ax is None:
        fig, (ax, ax_n) = pyplot.subplots(
            2,
            1,
            figsize=(4.6, 5.6),
            sharex=True,
            gridspec_kw={"height_ratios": [3.4, 1.0], "hspace": 0.08},
        )
    else:
        from mpl_toolkits.axes_grid1 import make_axes_locatable

        fig = ax.figure
        ax_n = make_axes_locatable(ax).append_axes("bottom", size="28%", pad=0.08, sharex=ax)
    edges = d["edges"]
    width = np.diff(edges)
    filled = d["count"] > 0  # empty bins draw nothing
    acc = np.where(filled, d["accuracy"], 0.0)
    mconf = np.where(filled, d["confidence"], 0.0)
    ax.bar(
        edges[:-1],
        acc,
        width=width,
        align="edge",
        color="tab:blue",
        edgecolor="k",
        lw=0.6,
        alpha=0.75,
        label=label or "accuracy per bin",
    )
    ax.bar(
        edges[:-1],
        mconf - acc,
        bottom=acc,
        width=width,
        align="edge",
        facecolor="none",
        edgecolor="tab:red",
        hatch="///",
        lw=0.8,
        label="gap to mean confidence",
    )
    ax.plot([0, 1], [0, 1], "k--", lw=1, label="perfect calibration")
    sm_text = ""
    if smooth:
        c = smooth_reliability_curve(probs, labels, n_boot=n_boot, seed=seed)
        conf = to_numpy(probs).max(axis=1)
        seen = (c["t"] >= conf.min()) & (c["t"] <= conf.max())  # no extrapolation
        t = np.where(seen, c["t"], np.nan)
        if n_boot:
            ax.fill_between(t, c["lower"], c["upper"], color="tab:orange", alpha=0.3, lw=0)
        ax.plot(
            t,
            c["mu"],
            color="tab:orange",
            lw=2,
            label=f"smoothed (σ={c['sigma']:.3f})" + (", 95% band" if n_boot else ""),
        )
        sm_text = f"  smECE {100 * c['smooth_ece']:.2f}%"
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_ylabel("accuracy")
    ax.tick_params(labelbottom=False)
    ax.set_title(
        title or f"ECE {100 * d['ece']:.2f}%{sm_text}  MCE {100 * d['mce']:.2f}%", fontsize=10
    )
    ax.legend(loc="best", fontsize=7, framealpha=0.85)
    ax_n.bar(
        edges[:-1][filled],
        d["count"][filled],
        width=width[filled],
        align="edge",
        color="0.55",
        edgecolor="k",
        lw=0.4,
    )
    ax_n.set_yscale("log")
    ax_n.set_ylim(0.7, max(d["count"].max(), 1) * 2.5)
    ax_n.set_xlim(0, 1)
    ax_n.set_xlabel("confidence (max probability)")
    ax_n.set_ylabel("samples", fontsize=8)
    ax_n.tick_params(labelsize=7)
    if path is not None:
        save_figure(fig, path)
    return fig
