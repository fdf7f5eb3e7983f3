"""Histogram binning, one-vs-rest (Zadrozny & Elkan, ICML 2001; KDD 2002 for multiclass).

For each class ``k`` the validation probabilities ``p_ik`` are put into ``n_bins`` bins
``(lo, hi]`` (a probability of exactly 0 goes to the first bin, the convention of
:func:`~samplescope.metrics.ece`) and bin ``b`` is mapped to the frequency of ``y = k`` among
its samples, ``θ_kb = mean_{i ∈ b} 1[y_i = k]``; an empty bin keeps its centre (as netcal).
Bins are equal-width on [0, 1] (``strategy="uniform"``) or hold equal numbers of validation
samples (``"quantile"``: edges at the quantiles of ``p_·k``, first 0 and last 1, duplicates
merged). A new row gets ``q_k = θ_k,bin(p_k)`` for every class and is renormalised,
``q / Σ_k q_k`` (an all-zero row becomes uniform, as scikit-learn does).

Shapes: probabilities ``(N, C)`` (logits are passed through softmax), labels ``(N,)``,
output ``(N, C)``.

Not accuracy-preserving: each class has its own step map, so the order of two classes in a
row can flip, and equal steps create ties (the argmax is then the lowest tied class). The
output takes at most ``n_bins`` values per class, so the max-probability confidence has many
ties, which costs failure-prediction AUROC / AURC.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from ..._validation import check_choice
from .base import Calibrator, check_int, renormalise

__all__ = ["HistogramBinning"]


def _bin_of(x: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin of each value for bins ``(lo, hi]`` with the given edges; 0.0 goes to the first."""
    return np.clip(np.searchsorted(edges, x, side="left") - 1, 0, len(edges) - 2)


class HistogramBinning(Calibrator):
    """One-vs-rest histogram binning with renormalisation.

    Args:
        n_bins: bins per class.
        strategy: ``"uniform"`` (equal width) or ``"quantile"`` (equal mass).

    Attributes:
        edges_: list of ``C`` edge arrays (``(n_bins_k + 1,)``); values_: list of ``C``
        per-bin frequencies ``(n_bins_k,)``; n_classes_.
    """

    space: ClassVar[str] = "probs"
    argmax_effect: ClassVar[str] = (
        "may change the argmax (a step map per class; equal steps tie, lowest class wins)"
    )

    def __init__(self, n_bins: int = 15, strategy: str = "uniform") -> None:
        self.n_bins = n_bins
        self.strategy = strategy

    def _check_params(self) -> None:
        check_int(self.n_bins, "n_bins")
        check_choice(self.strategy, "strategy", ("uniform", "quantile"))

    def _edges(self, x: np.ndarray) -> np.ndarray:
        grid = np.linspace(0.0, 1.0, int(self.n_bins) + 1)
        if self.strategy == "uniform":
            return grid
        e = np.quantile(x, grid)
        e[0], e[-1] = 0.0, 1.0
        return np.unique(e)

    def _fit(self, p: np.ndarray, y: np.ndarray) -> None:
        self.edges_, self.values_ = [], []
        for k in range(p.shape[1]):
            edges = self._edges(p[:, k])
            nb = len(edges) - 1
            idx = _bin_of(p[:, k], edges)
            count = np.bincount(idx, minlength=nb).astype(np.float64)
            hits = np.bincount(idx, weights=(y == k).astype(np.float64), minlength=nb)
            centre = 0.5 * (edges[:-1] + edges[1:])
            with np.errstate(invalid="ignore", divide="ignore"):
                self.values_.append(np.where(count > 0, hits / count, centre))
            self.edges_.append(edges)

    def _predict_proba(self, p: np.ndarray) -> np.ndarray:
        q = np.empty_like(p)
        for k, (edges, values) in enumerate(zip(self.edges_, self.values_, strict=True)):
            q[:, k] = values[_bin_of(p[:, k], edges)]
        return renormalise(q)
