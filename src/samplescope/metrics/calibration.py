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

from .._validation import check_labels, check_positive, check_probs
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
    count, acc, mconf = _bin_stats(conf, hit, _bin_index(conf, n_bins), n_bins)
    nz = count > 0
    return float(np.max(np.abs(acc[nz] - mconf[nz])))


def adaptive_ece(probs: Any, labels: Any, n_bins: int = 15) -> float:
    """ECE with equal-count bins (adaptive / equal-mass binning; lower = better).

    Samples are sorted by top-label confidence (stable) and split into ``n_bins`` groups
    whose sizes differ by at most one (``numpy.array_split``); ``Σ_b |B_b|/N |acc_b − conf_b|``.
    """
    p, y = _validate(probs, labels, n_bins)
    conf, hit = _top_label(p, y)
    order = np.argsort(conf, kind="mergesort")
    total = 0.0
    for group in np.array_split(order, min(n_bins, len(order))):
        total += len(group) * abs(hit[group].mean() - conf[group].mean())
    return float(total / len(conf))


def classwise_ece(probs: Any, labels: Any, n_bins: int = 15) -> float:
    """Classwise ECE (Kull et al. 2019): ``(1/C) Σ_k ECE(p_·k, 1[y = k])`` (lower = better).

    For each class ``k`` every sample's ``p_ik`` is binned into ``(lo, hi]`` bins and compared
    with the frequency of ``y_i = k`` in the bin.
    """
    p, y = _validate(probs, labels, n_bins)
    total = 0.0
    for k in range(p.shape[1]):
        total += _ece_core(p[:, k], (y == k).astype(np.float64), n_bins)
    return float(total / p.shape[1])


def brier(probs: Any, labels: Any) -> float:
    """Multi-class Brier score ``mean_i Σ_k (p_ik − 1[y_i = k])²`` in [0, 2] (lower = better)."""
    p, y = _validate(probs, labels)
    onehot = np.zeros_like(p)
    onehot[np.arange(len(y)), y] = 1.0
    return float(np.mean(np.sum((p - onehot) ** 2, axis=1)))


def nll(probs: Any, labels: Any) -> float:
    """Negative log-likelihood ``−mean_i log p_{i, y_i}`` in nats (lower = better)."""
    p, y = _validate(probs, labels)
    return float(np.mean(label_nll(p, y, _EPS)))


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
) -> Any:
    """Reliability diagram: per-bin accuracy bars against the diagonal, with a count histogram.

    Args:
        probs, labels, n_bins: as in :func:`ece`.
        ax: a matplotlib Axes to draw on (a new figure otherwise).
        title: axes title (default: ECE and MCE).
        path: save the figure there (PNG/PDF/SVG by suffix) and close it.
        label: legend label of the bars.

    Returns:
        The matplotlib Figure.
    """
    from ..io.figures import plt, save_figure

    d = reliability_diagram_data(probs, labels, n_bins)
    pyplot = plt()
    if ax is None:
        fig, ax = pyplot.subplots(figsize=(4.2, 4.2))
    else:
        fig = ax.figure
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
        edgecolor="k",
        alpha=0.8,
        label=label or "accuracy",
    )
    ax.bar(
        edges[:-1],
        mconf - acc,
        bottom=acc,
        width=width,
        align="edge",
        color="tab:red",
        alpha=0.3,
        edgecolor="tab:red",
        hatch="//",
        label="gap",
    )
    ax.plot([0, 1], [0, 1], "k--", lw=1)
    frac = d["count"] / max(d["count"].sum(), 1)
    ax.bar(
        edges[:-1],
        frac * 0.25,
        width=width,
        align="edge",
        color="gray",
        alpha=0.35,
        label="fraction of samples (×0.25)",
    )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence")
    ax.set_ylabel("accuracy")
    ax.set_title(title or f"ECE {100 * d['ece']:.2f}%  MCE {100 * d['mce']:.2f}%")
    ax.legend(loc="upper left", fontsize=7)
    if path is not None:
        save_figure(fig, path)
    return fig
