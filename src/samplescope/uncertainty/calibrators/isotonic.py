"""Isotonic regression calibration, one-vs-rest (Zadrozny & Elkan, KDD 2002).

For each class ``k``: the non-decreasing map ``g_k`` minimising ``Σ_i (1[y_i = k] − g_k(p_ik))²``
over the validation set, found by the pool-adjacent-violators algorithm (Ayer et al. 1955;
Barlow et al. 1972) on the distinct values of ``p_·k`` (tied values pooled first, weighted by
their counts), and evaluated between those values by linear interpolation, clamped outside
them (the behaviour of scikit-learn's ``IsotonicRegression(out_of_bounds="clip")``). A new row
gets ``q_k = g_k(p_k)`` and is renormalised, ``q / Σ_k q_k``; a row where every ``g_k`` is 0
becomes uniform (as scikit-learn's ``CalibratedClassifierCV``).

Shapes: probabilities ``(N, C)`` (logits are passed through softmax), labels ``(N,)``,
output ``(N, C)``.

Not accuracy-preserving: every ``g_k`` is monotone but they differ between classes, so the
order of two classes in a row can flip, and the flat pieces of ``g_k`` create ties (the
argmax is then the lowest tied class).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from .base import Calibrator, renormalise

__all__ = ["IsotonicCalibration", "pav"]


def pav(y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted least-squares non-decreasing fit of ``y`` ``(M,)`` (already ordered by x).

    Pool adjacent violators: scan left to right keeping blocks with their weighted means;
    while the last block's mean exceeds the new one, merge them. ``O(M)`` amortised.
    """
    means: list[float] = []
    weights: list[float] = []
    sizes: list[int] = []
    for yi, wi in zip(y.tolist(), w.tolist(), strict=True):
        m, ww, sz = yi, wi, 1
        while means and means[-1] > m:
            pm, pw, ps = means.pop(), weights.pop(), sizes.pop()
            m = (pm * pw + m * ww) / (pw + ww)
            ww += pw
            sz += ps
        means.append(m)
        weights.append(ww)
        sizes.append(sz)
    return np.repeat(np.asarray(means), sizes)


def _fit_one(x: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct ``x`` (sorted) and the isotonic fit of the 0/1 targets ``t`` at them."""
    ux, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    mean_t = np.bincount(inverse, weights=t, minlength=len(ux)) / counts
    return ux, pav(mean_t, counts.astype(np.float64))


class IsotonicCalibration(Calibrator):
    """One-vs-rest isotonic regression with renormalisation (own PAV; no hyper-parameters).

    Attributes:
        thresholds_: list of ``C`` arrays of the distinct validation probabilities of class k;
        values_: list of ``C`` arrays, the fitted ``g_k`` there; n_classes_.
    """

    space: ClassVar[str] = "probs"
    argmax_effect: ClassVar[str] = (
        "may change the argmax (a monotone map per class; flat pieces tie, lowest class wins)"
    )

    def _fit(self, p: np.ndarray, y: np.ndarray) -> None:
        self.thresholds_, self.values_ = [], []
        for k in range(p.shape[1]):
            ux, g = _fit_one(p[:, k], (y == k).astype(np.float64))
            self.thresholds_.append(ux)
            self.values_.append(g)

    def _predict_proba(self, p: np.ndarray) -> np.ndarray:
        q = np.empty_like(p)
        for k, (ux, g) in enumerate(zip(self.thresholds_, self.values_, strict=True)):
            q[:, k] = np.interp(p[:, k], ux, g)
        return renormalise(q)
