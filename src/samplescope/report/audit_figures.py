"""The audit report's figures, each returned as a base64 PNG data URI (self-contained HTML).

Every function takes columns of the joined audit table (``(N,)`` arrays) and returns
``data:image/png;base64,...``; matplotlib is imported lazily (Agg backend).

- :func:`data_map`: dataset cartography (Swayamdipta et al. 2020) — confidence ``mean_e
  p_e[y]`` against variability ``std_e p_e[y]`` over epochs, flagged samples in red;
- :func:`reliability`: binned accuracy against confidence with the per-bin counts in a
  separate strip (no bars drawn over each other);
- :func:`risk_coverage`: selective risk against coverage for each trust score;
- :func:`difficulty_by_class`: the distribution of a difficulty column per class (boxes);
- :func:`thumbnail`: one small image of a sample for the gallery.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..io.figures import plt

__all__ = ["data_map", "difficulty_by_class", "reliability", "risk_coverage", "thumbnail"]


def _uri(fig: Any, dpi: int = 110) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt().close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def data_map(confidence: np.ndarray, variability: np.ndarray, flagged: np.ndarray | None) -> str:
    """Cartography scatter: ``confidence`` (mean p[y], higher = easier) vs ``variability``."""
    fig, ax = plt().subplots(figsize=(5.2, 4.2))
    flagged = np.zeros(len(confidence), bool) if flagged is None else np.asarray(flagged, bool)
    ax.scatter(variability[~flagged], confidence[~flagged], s=4, alpha=0.35, c="#4477aa",
               label="not flagged", linewidths=0)  # fmt: skip
    if flagged.any():
        ax.scatter(variability[flagged], confidence[flagged], s=9, alpha=0.8, c="#cc3311",
                   label="flagged label issue", linewidths=0)  # fmt: skip
    ax.set_xlabel("variability (std over epochs of p[label])")
    ax.set_ylabel("confidence (mean over epochs of p[label])")
    ax.set_ylim(-0.02, 1.02)
    ax.legend(loc="lower right", fontsize=8, markerscale=2)
    ax.set_title("data map", fontsize=10)
    return _uri(fig)


def reliability(confidence: np.ndarray, correct: np.ndarray, n_bins: int = 15) -> str:
    """Accuracy per equal-width confidence bin (top) and the bin counts (bottom strip)."""
    conf = np.clip(np.asarray(confidence, float), 0, 1)
    corr = np.asarray(correct, float)
    edges = np.linspace(0, 1, n_bins + 1)
    idx = np.clip(np.digitize(conf, edges[1:-1]), 0, n_bins - 1)
    counts = np.bincount(idx, minlength=n_bins)
    acc = np.bincount(idx, weights=corr, minlength=n_bins) / np.maximum(counts, 1)
    mean_conf = np.bincount(idx, weights=conf, minlength=n_bins) / np.maximum(counts, 1)
    fig, (top, bottom) = plt().subplots(
        2, 1, figsize=(4.6, 4.8), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    centers, width = (edges[:-1] + edges[1:]) / 2, 1.0 / n_bins
    has = counts > 0
    top.bar(centers[has], acc[has], width=width * 0.9, color="#4477aa", label="accuracy")
    top.plot(mean_conf[has], acc[has], "o", color="#222222", ms=3, label="(mean confidence, acc.)")
    top.plot([0, 1], [0, 1], "--", color="#888888", lw=1, label="perfect calibration")
    top.set_ylabel("accuracy")
    top.set_ylim(0, 1)
    top.legend(fontsize=7, loc="upper left")
    top.set_title("reliability (held-out predictions)", fontsize=10)
    bottom.bar(centers, counts, width=width * 0.9, color="#999999")
    bottom.set_ylabel("samples")
    bottom.set_xlabel("confidence")
    bottom.set_xlim(0, 1)
    return _uri(fig)


def risk_coverage(correct: np.ndarray, scores: Mapping[str, np.ndarray]) -> str:
    """Selective risk (error rate of the accepted) vs coverage, accepting by decreasing score."""
    from ..metrics import aurc, risk_coverage_curve

    fig, ax = plt().subplots(figsize=(4.8, 3.8))
    for name, s in scores.items():
        cov, risk = risk_coverage_curve(correct, s)
        ax.plot(cov, risk, lw=1.4, label=f"{name} (AURC {1000 * aurc(correct, s):.1f}‰)")
    ax.axhline(1 - float(np.mean(correct)), color="#888888", ls="--", lw=1, label="accept all")
    ax.set_xlabel("coverage")
    ax.set_ylabel("risk (error rate of the accepted)")
    ax.set_xlim(0, 1)
    ax.legend(fontsize=7)
    ax.set_title("risk–coverage", fontsize=10)
    return _uri(fig)


def difficulty_by_class(
    values: np.ndarray, labels: np.ndarray, class_names: Sequence[str], name: str
) -> str:
    """One box per class of ``values`` (higher = harder)."""
    classes = np.unique(labels)
    fig, ax = plt().subplots(figsize=(max(4.8, 0.45 * len(classes) + 2), 3.6))
    data = [values[labels == c] for c in classes]
    ax.boxplot(data, showfliers=False)
    ax.set_xticks(range(1, len(classes) + 1))
    ax.set_xticklabels([str(class_names[c]) for c in classes], rotation=45, ha="right", fontsize=8)
    ax.set_ylabel(name)
    ax.set_title(f"{name} by class (higher = harder)", fontsize=10)
    return _uri(fig)


def thumbnail(image: np.ndarray, size: float = 0.9) -> str:
    """A ``size``-inch PNG of one image ``(C, H, W)``, ``(H, W)`` or a flat square vector."""
    from .grid import _img

    arr, cmap = _img(image)
    fig, ax = plt().subplots(figsize=(size, size))
    ax.imshow(arr, cmap=cmap)
    ax.axis("off")
    fig.subplots_adjust(0, 0, 1, 1)
    return _uri(fig, dpi=64)
