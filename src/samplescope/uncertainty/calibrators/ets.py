"""Ensemble temperature scaling (Zhang, Kailkhura & Han, ICML 2020, "Mix-n-Match").

``q = w₁ softmax(z / T) + w₂ softmax(z) + w₃ · 1/C`` with ``w ≥ 0``, ``w₁ + w₂ + w₃ = 1``
(their eq. for ETS): a convex mix of the temperature-scaled prediction, the uncalibrated one
and the uniform distribution. As in the paper, ``T`` is fitted first (temperature scaling by
NLL) and the weights then minimise the validation NLL ``−(1/N) Σ_i log q_{i, y_i}``, which is
convex in ``w`` (solved on the simplex with SLSQP; the paper's code starts at ``w = (1, 0, 0)``
too). Shapes: logits ``(N, C)``, labels ``(N,)``, output ``(N, C)``.

Accuracy-preserving: the two softmax terms have the argmax of ``z`` and the uniform term adds
the same amount to every class, so the argmax never changes (unless ``w₃ = 1``, where every
class ties).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from scipy.optimize import minimize

from ...functional import softmax
from .base import Calibrator, check_int
from .temperature import TemperatureScaling

__all__ = ["EnsembleTemperatureScaling"]


class EnsembleTemperatureScaling(Calibrator):
    """ETS: ``q = w₁ softmax(z/T) + w₂ softmax(z) + w₃/C`` (Zhang et al. 2020).

    Args:
        max_iter: iterations of the temperature fit (L-BFGS) and of the weight fit (SLSQP).

    Attributes:
        temperature_: ``T``; weights_: ``(w₁, w₂, w₃)`` ``(3,)``; nll_before_, nll_after_
        (validation NLL of ``softmax(z)`` and of ``q``); n_classes_.
    """

    space: ClassVar[str] = "logits"
    accuracy_preserving: ClassVar[bool] = True
    argmax_effect: ClassVar[str] = (
        "keeps the argmax (both softmax terms share it; the uniform term adds a constant)"
    )

    def __init__(self, max_iter: int = 200) -> None:
        self.max_iter = max_iter

    def _check_params(self) -> None:
        check_int(self.max_iter, "max_iter")

    def _components(self, z: np.ndarray) -> list[np.ndarray]:
        c = z.shape[1]
        return [
            softmax(z / self.temperature_, axis=1),
            softmax(z, axis=1),
            np.full(z.shape, 1.0 / c),
        ]

    def _fit(self, z: np.ndarray, y: np.ndarray) -> None:
        ts = TemperatureScaling(max_iter=int(self.max_iter)).fit(z, y)
        self.temperature_ = ts.temperature_
        rows = np.arange(len(y))
        py = np.stack([comp[rows, y] for comp in self._components(z)])  # (3, N)

        def nll(w: np.ndarray) -> float:
            return float(-np.mean(np.log(np.maximum(w @ py, 1e-300))))

        def grad(w: np.ndarray) -> np.ndarray:
            return -np.mean(py / np.maximum(w @ py, 1e-300), axis=1)

        res = minimize(
            nll,
            np.array([1.0, 0.0, 0.0]),
            jac=grad,
            method="SLSQP",
            bounds=[(0.0, 1.0)] * 3,
            constraints=[
                {"type": "eq", "fun": lambda w: w.sum() - 1.0, "jac": lambda w: np.ones(3)}
            ],
            options={"ftol": 1e-12, "maxiter": int(self.max_iter)},
        )
        w = np.clip(res.x, 0.0, 1.0)
        w = w / w.sum()
        if nll(w) > nll(np.array([1.0, 0.0, 0.0])):  # never worse than plain TS on validation
            w = np.array([1.0, 0.0, 0.0])
        self.weights_ = w
        self.nll_before_ = nll(np.array([0.0, 1.0, 0.0]))
        self.nll_after_ = nll(w)

    def _predict_proba(self, z: np.ndarray) -> np.ndarray:
        comps = self._components(z)
        return sum(w * comp for w, comp in zip(self.weights_, comps, strict=True))
