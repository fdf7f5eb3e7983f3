"""Analyses of trust scores (Luo et al. 2021, §5): the metrics table, TP/FP/TN/FN histograms
(Fig. 3), risk–coverage curves (Fig. 4a), the α⁻ ablation plot (Fig. 4b/c) and separability.

Convention: ``correct`` ``(N,)`` is 1 where the classifier's prediction is right (the
positive class), ``trust`` ``(N,)`` is higher = more trustworthy. A prediction counts as
trusted when ``trust > pos_threshold`` (0.5) and as untrusted when
``trust ≤ neg_threshold`` (0.5; 1/K for TCP, Corbière 2019):

- TP: correct and trust > pos_threshold;  FN: correct and trust ≤ pos_threshold;
- TN: error and trust ≤ neg_threshold;    FP: error and trust > neg_threshold.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._validation import (
    check_fraction,
    check_integer,
    check_number,
    check_same_length,
    check_scores,
)
from ..metrics import (
    augrc,
    bhattacharyya,
    failure_report,
    gaussian_kl,
    risk_at_coverage,
    risk_coverage_curve,
    symmetric_gaussian_kl,
    tpr_tnr,
)
from ..metrics._common import check_outcome_and_score

__all__ = [
    "METRIC_COLUMNS",
    "trust_metrics",
    "confusion_masks",
    "separability",
    "summarize",
    "format_table",
    "plot_trust_histograms",
    "plot_risk_coverage",
    "plot_alpha_ablation",
]

#: (key, header, direction) of the table columns, in Luo's order plus AURC/E-AURC, AUGRC
#: (Traub et al. 2024) and the selective risk at 90% / 95% coverage.
METRIC_COLUMNS = (
    ("acc", "Acc", "↑"),
    ("fpr95", "FPR@95TPR", "↓"),
    ("aupr_error", "AUPR-Err", "↑"),
    ("aupr_success", "AUPR-Succ", "↑"),
    ("auroc", "AUROC", "↑"),
    ("tpr", "TPR", "↑"),
    ("tnr", "TNR", "↑"),
    ("aurc", "AURC", "↓"),
    ("eaurc", "E-AURC", "↓"),
    ("augrc", "AUGRC", "↓"),
    ("risk90", "Risk@90", "↓"),
    ("risk95", "Risk@95", "↓"),
)
#: columns printed in ‰ (the others in %)
PER_MILLE = ("aurc", "eaurc", "augrc")


def trust_metrics(
    correct: Any, trust: Any, *, pos_threshold: float = 0.5, neg_threshold: float = 0.5
) -> dict[str, float]:
    """Luo's table row as fractions: acc, fpr95, aupr_error, aupr_success, auroc, tpr, tnr,
    aurc, eaurc (see :func:`samplescope.metrics.failure_report`), augrc and the selective
    risk at 90% / 95% coverage ``risk90``, ``risk95`` (:mod:`samplescope.metrics.selective`).

    ``tpr = P(trust > pos_threshold | correct)``, ``tnr = P(trust ≤ neg_threshold | error)``.
    """
    pos_threshold = check_number(pos_threshold, "pos_threshold")
    neg_threshold = check_number(neg_threshold, "neg_threshold")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        rep = failure_report(correct, trust, threshold=pos_threshold)
        if neg_threshold != pos_threshold:
            rep["tnr"] = tpr_tnr(correct, trust, threshold=neg_threshold)[1]
    rep["augrc"] = augrc(correct, trust)
    rep["risk90"] = risk_at_coverage(correct, trust, 0.9)
    rep["risk95"] = risk_at_coverage(correct, trust, 0.95)
    return rep


def confusion_masks(
    correct: Any, trust: Any, *, pos_threshold: float = 0.5, neg_threshold: float = 0.5
) -> dict[str, np.ndarray]:
    """Boolean masks ``(N,)`` for TP, FN (correct predictions) and TN, FP (errors)."""
    c, s = check_outcome_and_score(correct, trust, "correct", "trust")
    pos_threshold = check_number(pos_threshold, "pos_threshold")
    neg_threshold = check_number(neg_threshold, "neg_threshold")
    return {
        "TP": c & (s > pos_threshold),
        "FN": c & (s <= pos_threshold),
        "TN": ~c & (s <= neg_threshold),
        "FP": ~c & (s > neg_threshold),
    }


def separability(correct: Any, trust: Any) -> dict[str, float]:
    """Gaussian-fit separability of trust on correct predictions (N₁) vs errors (N₂).

    Returns ``kl_c_e`` = KL(N₁‖N₂), ``kl_e_c`` = KL(N₂‖N₁), ``kl_avg`` (their mean) and
    ``bhattacharyya``; higher = better separated; NaN when a group has < 2 samples or is
    constant.
    """
    c, s = check_outcome_and_score(correct, trust, "correct", "trust")
    a, b = s[c], s[~c]
    nan = float("nan")
    try:
        return {
            "kl_c_e": gaussian_kl(a, b),
            "kl_e_c": gaussian_kl(b, a),
            "kl_avg": symmetric_gaussian_kl(a, b),
            "bhattacharyya": bhattacharyya(a, b),
        }
    except ValueError:
        return {"kl_c_e": nan, "kl_e_c": nan, "kl_avg": nan, "bhattacharyya": nan}


def _check_rows(rows: Any, name: str) -> list[Mapping[str, Any]]:
    if isinstance(rows, (str, bytes, Mapping)) or not isinstance(rows, Sequence):
        raise ValueError(f"{name}: expected a sequence of dicts, got {type(rows).__name__}")
    for i, r in enumerate(rows):
        if not isinstance(r, Mapping):
            raise ValueError(f"{name}: expected a sequence of dicts, got {type(r).__name__} at {i}")
    return list(rows)


def _check_names(names: Any, name: str) -> list[str]:
    if isinstance(names, (str, bytes)) or not isinstance(names, Sequence):
        raise ValueError(f"{name}: expected a sequence of column names, got {names!r}")
    return list(names)


def summarize(
    rows: Sequence[Mapping[str, Any]], keys: Sequence[str], by: Sequence[str]
) -> list[dict[str, Any]]:
    """Mean and sample std (ddof=1; 0 for one run) of ``keys`` grouped by the ``by`` columns.

    Returns one dict per group with the ``by`` values, ``n`` and ``{key}_mean``, ``{key}_std``;
    groups keep their first-seen order. NaNs are ignored (``nanmean``).
    """
    rows = _check_rows(rows, "rows")
    keys, by = _check_names(keys, "keys"), _check_names(by, "by")
    for b in by:
        if any(b not in r for r in rows):
            raise ValueError(f"by: expected a column of every row, got {b!r}")
    for k in keys:
        if not any(k in r for r in rows):
            raise ValueError(f"keys: expected a column of the rows, got {k!r}")
    groups: dict[tuple[Any, ...], list[Mapping[str, Any]]] = {}
    for r in rows:
        groups.setdefault(tuple(r[b] for b in by), []).append(r)
    out = []
    for g, rs in groups.items():
        rec: dict[str, Any] = dict(zip(by, g, strict=True))
        rec["n"] = len(rs)
        for k in keys:
            v = np.array([float(r.get(k, math.nan)) for r in rs], dtype=np.float64)
            ok = v[np.isfinite(v)]
            rec[f"{k}_mean"] = float(ok.mean()) if len(ok) else math.nan
            rec[f"{k}_std"] = float(ok.std(ddof=1)) if len(ok) > 1 else 0.0 if len(ok) else math.nan
        out.append(rec)
    return out


def format_table(
    summary: Sequence[Mapping[str, Any]],
    *,
    label: str = "method",
    columns: Sequence[tuple[str, str, str]] = METRIC_COLUMNS,
    percent: bool = True,
    paper: Mapping[str, Mapping[str, float]] | None = None,
) -> str:
    """Plain-text table of ``mean ± std`` (in % when ``percent``; AURC/E-AURC/AUGRC in ‰).

    A row summarising one run (``n == 1``) prints the value alone (no ``±0.00``).
    ``paper`` optionally maps a method name to Luo's numbers (already in %), printed on a
    ``paper`` row under ours (``-`` where the paper has none).
    """
    summary = _check_rows(summary, "summary")
    for rec in summary:
        if label not in rec:
            raise ValueError(f"label: expected a column of every summary row, got {label!r}")
    heads = [str(label)] + [f"{h}{d}" for _, h, d in columns]
    lines = []
    for rec in summary:
        cells = [str(rec[label])]
        for key, _, _ in columns:
            scale = (1000.0 if key in PER_MILLE else 100.0) if percent else 1.0
            m, s = rec.get(f"{key}_mean", math.nan), rec.get(f"{key}_std", math.nan)
            if not np.isfinite(m):
                cells.append("nan")
            elif rec.get("n") == 1 or not np.isfinite(s):
                cells.append(f"{m * scale:.2f}")
            else:
                cells.append(f"{m * scale:.2f}±{s * scale:.2f}")
        lines.append(cells)
        if paper is not None and rec[label] in paper:
            pp = paper[rec[label]]
            lines.append(
                ["  (paper)"] + [f"{pp[k]:.2f}" if k in pp else "-" for k, _, _ in columns]
            )
    widths = [max(len(r[i]) for r in [heads, *lines]) for i in range(len(heads))]
    fmt = "  ".join(f"{{:<{w}}}" if i == 0 else f"{{:>{w}}}" for i, w in enumerate(widths))
    return "\n".join([fmt.format(*heads)] + [fmt.format(*r) for r in lines])


def _grid(n: int, ncols: int) -> tuple[int, int]:
    return max(1, math.ceil(n / ncols)), min(n, ncols)


def _check_results(results: Any, width: int) -> dict[str, tuple[Any, ...]]:
    """``name -> (correct, trust[, neg_threshold])`` with each pair validated."""
    if not isinstance(results, Mapping) or not results:
        raise ValueError(f"results: expected a non-empty dict name -> tuple, got {results!r}")
    out = {}
    for name, r in results.items():
        if not isinstance(r, (tuple, list)) or len(r) != width:
            raise ValueError(f"results: expected {width}-tuples, got {r!r} for {name!r}")
        c, s = check_outcome_and_score(r[0], r[1], "correct", "trust")
        out[name] = (c, s, *([check_number(r[2], "neg_threshold")] if width == 3 else []))
    return out


def plot_trust_histograms(
    results: Mapping[str, tuple[Any, Any, float]],
    path: str | os.PathLike,
    *,
    bins: int = 40,
    title: str = "",
    ncols: int = 4,
) -> Path:
    """Luo Fig. 3: one panel per method, histograms of trust for TP/FN (correct) and TN/FP (errors).

    Args:
        results: ``name -> (correct (N,), trust (N,), neg_threshold)``.
        path: PNG path. Counts are on a log scale (errors are rare).
    """
    bins = check_integer(bins, "bins")
    ncols = check_integer(ncols, "ncols")
    results = _check_results(results, 3)
    from ..io.figures import plt, save_figure

    pyplot = plt()
    nr, nc = _grid(len(results), ncols)
    fig, axes = pyplot.subplots(nr, nc, figsize=(3.6 * nc, 2.8 * nr), squeeze=False)
    colors = {"TP": "tab:green", "FN": "tab:olive", "TN": "tab:blue", "FP": "tab:red"}
    edges = np.linspace(0, 1, bins + 1)
    for ax, (name, (corr, tr, neg_t)) in zip(axes.ravel(), results.items(), strict=False):
        masks = confusion_masks(corr, tr, neg_threshold=neg_t)
        s = np.asarray(tr, dtype=np.float64)
        for k, m in masks.items():
            if m.any():
                ax.hist(
                    s[m],
                    bins=edges,
                    histtype="stepfilled",
                    alpha=0.45,
                    color=colors[k],
                    label=f"{k} ({int(m.sum())})",
                )
        ax.set_yscale("log")
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("trust", fontsize=8)
        ax.legend(fontsize=6)
    for ax in axes.ravel()[len(results) :]:
        ax.axis("off")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path)


def plot_risk_coverage(
    results: Mapping[str, tuple[Any, Any]],
    path: str | os.PathLike,
    *,
    title: str = "",
    min_coverage: float = 0.05,
) -> Path:
    """Luo Fig. 4a: selective risk (error rate among accepted) vs coverage, one curve per method.

    Args:
        results: ``name -> (correct (N,), trust (N,))``.
    """
    results = _check_results(results, 2)
    check_fraction(min_coverage, "min_coverage")
    from ..io.figures import plt, save_figure

    pyplot = plt()
    fig, ax = pyplot.subplots(figsize=(5, 3.8))
    for name, (corr, tr) in results.items():
        cov, risk = risk_coverage_curve(corr, tr)
        keep = cov >= min_coverage
        ax.plot(cov[keep], 100 * risk[keep], label=name, lw=1.2)
    ax.set_xlabel("coverage")
    ax.set_ylabel("selective risk (%)")
    ax.legend(fontsize=7)
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return save_figure(fig, path)


def plot_alpha_ablation(
    alphas: Sequence[float],
    loss: Sequence[float],
    tpr: Sequence[float],
    tnr: Sequence[float],
    path: str | os.PathLike,
    *,
    title: str = "",
) -> Path:
    """Luo Fig. 4b/c: final training loss vs α⁻ (left), TPR and TNR (%) vs α⁻ (right).

    ``alphas``, ``loss``, ``tpr``, ``tnr``: finite ``(K,)`` arrays of one length.
    """
    from ..io.figures import plt, save_figure

    alphas, loss, tpr, tnr = (
        check_scores(v, n)
        for v, n in ((alphas, "alphas"), (loss, "loss"), (tpr, "tpr"), (tnr, "tnr"))
    )
    check_same_length(alphas=alphas, loss=loss, tpr=tpr, tnr=tnr)

    pyplot = plt()
    fig, (a1, a2) = pyplot.subplots(1, 2, figsize=(8, 3.2))
    a1.plot(alphas, loss, "o-")
    a1.set_xlabel("α⁻")
    a1.set_ylabel("training loss")
    a2.plot(alphas, 100 * np.asarray(tpr), "o-", label="TPR")
    a2.plot(alphas, 100 * np.asarray(tnr), "s-", label="TNR")
    a2.set_xlabel("α⁻")
    a2.set_ylabel("%")
    a2.legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path)
