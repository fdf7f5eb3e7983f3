"""Platt scaling for binary classifiers (Platt 1999, "Probabilistic outputs for support vector
machines and comparisons to regularized likelihood methods").

For ``C = 2`` with the score ``s = z₁ − z₀`` (the log-odds of class 1; for ``probs=`` it is
``log p₁ − log p₀``): ``q₁ = σ(a s + b)``, ``q₀ = 1 − q₁``, with ``a, b`` minimising the
cross-entropy against the targets ``t_i``. Platt's targets are smoothed,
``t = (N₊ + 1)/(N₊ + 2)`` for positives and ``1/(N₋ + 2)`` for negatives (what scikit-learn's
``CalibratedClassifierCV(method="sigmoid")`` fits); ``smoothed_targets=False`` uses
``t = y`` (plain logistic regression on ``s``, as netcal's ``LogisticCalibration``).
Shapes: ``(N, 2)`` in, labels ``(N,)`` in {0, 1}, ``(N, 2)`` out.

Not accuracy-preserving: the intercept ``b`` moves the decision threshold away from
``s = 0`` (and ``a < 0`` would reverse it); for ``a > 0`` the ranking of samples by ``q₁`` is
that of ``s``.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import torch
from scipy.special import expit
from torch import nn

from .base import Calibrator, check_int, lbfgs

__all__ = ["PlattScaling"]


class PlattScaling(Calibrator):
    """``q₁ = σ(a (z₁ − z₀) + b)`` for two classes (Platt 1999).

    Args:
        smoothed_targets: Platt's smoothed targets (default) or the 0/1 labels.
        max_iter: L-BFGS iterations.

    Attributes:
        coef_: ``a``; intercept_: ``b``; n_classes_ (= 2).
    """

    space: ClassVar[str] = "logits"
    min_classes: ClassVar[int] = 2
    max_classes: ClassVar[int | None] = 2
    argmax_effect: ClassVar[str] = "may change the argmax (the intercept moves the threshold)"

    def __init__(self, smoothed_targets: bool = True, max_iter: int = 200) -> None:
        self.smoothed_targets = smoothed_targets
        self.max_iter = max_iter

    def _check_params(self) -> None:
        if not isinstance(self.smoothed_targets, (bool, np.bool_)):
            raise ValueError(f"smoothed_targets: expected a bool, got {self.smoothed_targets!r}")
        check_int(self.max_iter, "max_iter")

    def _fit(self, z: np.ndarray, y: np.ndarray) -> None:
        s = torch.as_tensor(z[:, 1] - z[:, 0])
        t = y.astype(np.float64)
        if self.smoothed_targets:
            n1 = float(t.sum())
            n0 = len(t) - n1
            t = np.where(y == 1, (n1 + 1.0) / (n1 + 2.0), 1.0 / (n0 + 2.0))
        tt = torch.as_tensor(t)
        a = torch.ones((), dtype=torch.float64, requires_grad=True)
        b = torch.zeros((), dtype=torch.float64, requires_grad=True)

        def loss() -> torch.Tensor:
            return nn.functional.binary_cross_entropy_with_logits(a * s + b, tt)

        lbfgs([a, b], loss, int(self.max_iter))
        self.coef_ = float(a.detach())
        self.intercept_ = float(b.detach())

    def _predict_proba(self, z: np.ndarray) -> np.ndarray:
        u = self.coef_ * (z[:, 1] - z[:, 0]) + self.intercept_
        return np.stack([expit(-u), expit(u)], axis=1)
