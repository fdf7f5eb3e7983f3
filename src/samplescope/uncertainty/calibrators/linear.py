"""Affine calibration maps fitted by penalised NLL: vector, matrix and Dirichlet calibration.

All three are ``q = softmax(A(x))`` with an affine ``A`` of an input row ``x`` ``(C,)``,
fitted on held-out data by minimising the convex ``(1/N) Σ_i −log q_{i, y_i} + penalty`` with
L-BFGS-B and the analytic gradient (float64), starting from the identity map
(``q = softmax(x)``):

- **vector scaling** (Guo et al., ICML 2017): ``A(z) = w ⊙ z + b``, ``w, b ∈ R^C``, on logits;
  no penalty.
- **matrix scaling** (Guo et al. 2017): ``A(z) = W z + b``, ``W ∈ R^{C×C}``, on logits, with
  the L2 penalty ``l2 · (‖W − I‖²_F / C² + ‖b‖² / C)``: it shrinks towards the identity map
  (so a large ``l2`` gives back the uncalibrated model, not a constant prediction).
- **Dirichlet calibration** (Kull et al., NeurIPS 2019, "Beyond temperature scaling:
  Obtaining well-calibrated multiclass probabilities with Dirichlet calibration"):
  ``A(p) = W log p + b`` on log-probabilities, with ODIR (off-diagonal and intercept
  regularisation) ``λ · Σ_{i≠j} W_ij² / (C(C − 1)) + μ · Σ_j b_j² / C`` (their eq. for
  ODIR; ``lam = λ``, ``mu = μ``). The diagonal is free, so ``λ, μ → ∞`` leaves a per-class
  power of ``p`` (vector scaling on log-probabilities).

None of them is accuracy-preserving: per-class scales, biases and cross-class weights can
move the argmax (a planted bias does, see the tests). Shapes: input ``(N, C)``, labels
``(N,)``, output ``(N, C)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
import torch
from scipy.optimize import minimize

from ...functional import log_softmax, softmax
from .base import Calibrator, check_int, check_nonneg

__all__ = ["VectorScaling", "MatrixScaling", "DirichletCalibration"]


Penalty = Callable[[np.ndarray, np.ndarray], tuple[float, np.ndarray, np.ndarray]]


def _fit_affine(
    x: np.ndarray,
    y: np.ndarray,
    *,
    full: bool,
    penalty: Penalty | None,
    max_iter: int,
) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Fit ``softmax(W x + b)`` (``full``) or ``softmax(w ⊙ x + b)``; return ``W|w, b, nll0, nll``.

    The mean NLL plus ``penalty(W, b) -> (value, dW, db)`` is convex in ``(W, b)``; it is
    minimised by L-BFGS-B with the analytic gradient ``∂/∂logits = (softmax − onehot)/N``.
    """
    n, c = x.shape
    onehot = np.zeros((n, c))
    onehot[np.arange(n), y] = 1.0
    w_shape = (c, c) if full else (c,)
    w0 = np.eye(c) if full else np.ones(c)

    def unpack(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return theta[:-c].reshape(w_shape), theta[-c:]

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = unpack(theta)
        out = (x @ w.T if full else x * w) + b
        logp = log_softmax(out, axis=1)
        g = (np.exp(logp) - onehot) / n  # d mean-NLL / d out
        gw = g.T @ x if full else np.sum(g * x, axis=0)
        value = float(-np.sum(logp * onehot) / n)
        gb = g.sum(axis=0)
        if penalty is not None:
            pv, pw, pb = penalty(w, b)
            value, gw, gb = value + pv, gw + pw, gb + pb
        return value, np.concatenate([gw.ravel(), gb])

    res = minimize(
        objective,
        np.concatenate([w0.ravel(), np.zeros(c)]),
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": max_iter, "ftol": 1e-13, "gtol": 1e-9},
    )
    w, b = unpack(res.x)
    nll0 = float(-np.mean(log_softmax(x, axis=1)[np.arange(n), y]))
    out = (x @ w.T if full else x * w) + b
    nll = float(-np.mean(log_softmax(out, axis=1)[np.arange(n), y]))
    return w.copy(), b.copy(), nll0, nll


class VectorScaling(Calibrator):
    """Per-class scale and bias on logits: ``p = softmax(w ⊙ z + b)`` (Guo et al. 2017).

    ``fit(z, y)`` / ``transform(z)`` / ``predict_proba(z)`` also take the logits positionally
    (the original API). May change the argmax.

    Args:
        max_iter: L-BFGS iterations.

    Attributes:
        coef_: ``w`` ``(C,)``; intercept_: ``b`` ``(C,)``; nll_before_, nll_after_ (validation
        NLL without the penalty, before and after); n_classes_.
    """

    space: ClassVar[str] = "logits"
    argmax_effect: ClassVar[str] = "may change the argmax (per-class scales and biases)"

    def __init__(self, max_iter: int = 500) -> None:
        self.max_iter = max_iter

    def fit(  # type: ignore[override]
        self, logits: Any = None, labels: Any = None, *, probs: Any = None
    ) -> VectorScaling:
        """Minimise the NLL over ``w, b`` on held-out ``logits`` ``(N, C)``."""
        if labels is None:
            raise ValueError("labels: expected integer labels (N,), got None")
        return self._fit_validated(logits, probs, labels)  # type: ignore[return-value]

    def _check_params(self) -> None:
        check_int(self.max_iter, "max_iter")

    def _fit(self, z: np.ndarray, y: np.ndarray) -> None:
        self.coef_, self.intercept_, self.nll_before_, self.nll_after_ = _fit_affine(
            z, y, full=False, penalty=None, max_iter=int(self.max_iter)
        )

    def transform(self, logits: Any = None, *, probs: Any = None) -> np.ndarray:
        """Calibrated logits ``w ⊙ z + b`` ``(N, C)``."""
        return self._input(logits, probs) * self.coef_ + self.intercept_

    def predict_proba(self, logits: Any = None, *, probs: Any = None) -> np.ndarray:  # type: ignore[override]
        """Calibrated probabilities ``(N, C)``."""
        return softmax(self.transform(logits, probs=probs), axis=1)

    def _predict_proba(self, z: np.ndarray) -> np.ndarray:
        return softmax(z * self.coef_ + self.intercept_, axis=1)

    def predict(self, logits: Any = None, *, probs: Any = None) -> np.ndarray:  # type: ignore[override]
        """Predicted classes ``(N,)`` after scaling."""
        return self.transform(logits, probs=probs).argmax(1)

    def torch_transform(self, logits: torch.Tensor) -> torch.Tensor:
        """``w ⊙ z + b`` on a tensor."""
        self._require_fitted()
        w = torch.as_tensor(self.coef_, dtype=logits.dtype, device=logits.device)
        b = torch.as_tensor(self.intercept_, dtype=logits.dtype, device=logits.device)
        return logits * w + b


class _FullAffine(Calibrator):
    """``softmax(W x + b)`` with a penalty; subclasses define the space and the penalty."""

    argmax_effect: ClassVar[str] = "may change the argmax (a full linear map of the classes)"

    def _penalty(self, c: int) -> Penalty:  # pragma: no cover - abstract
        raise NotImplementedError

    def _fit(self, x: np.ndarray, y: np.ndarray) -> None:
        self.coef_, self.intercept_, self.nll_before_, self.nll_after_ = _fit_affine(
            x, y, full=True, penalty=self._penalty(x.shape[1]), max_iter=int(self.max_iter)
        )

    def _predict_proba(self, x: np.ndarray) -> np.ndarray:
        return softmax(x @ self.coef_.T + self.intercept_, axis=1)


class MatrixScaling(_FullAffine):
    """Matrix scaling on logits: ``p = softmax(W z + b)`` (Guo et al. 2017), L2 towards ``I``.

    Penalty ``l2 · (‖W − I‖²_F / C² + ‖b‖² / C)`` added to the mean NLL. With few validation
    samples per parameter (``C² + C`` of them) and ``l2 = 0`` it overfits; use
    :func:`~samplescope.uncertainty.fit_calibrator` (cross-validated, falls back to the
    identity) when the validation set is small. May change the argmax.

    Args:
        l2: penalty weight ``≥ 0``.
        max_iter: L-BFGS iterations.

    Attributes:
        coef_: ``W`` ``(C, C)``; intercept_: ``b`` ``(C,)``; nll_before_, nll_after_
        (validation NLL without the penalty); n_classes_.
    """

    space: ClassVar[str] = "logits"

    def __init__(self, l2: float = 1e-3, max_iter: int = 500) -> None:
        self.l2 = l2
        self.max_iter = max_iter

    def _check_params(self) -> None:
        check_nonneg(self.l2, "l2")
        check_int(self.max_iter, "max_iter")

    def _penalty(self, c: int) -> Penalty:
        lam = float(self.l2)
        eye = np.eye(c)

        def penalty(w: np.ndarray, b: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
            d = w - eye
            value = lam * (np.sum(d**2) / c**2 + np.sum(b**2) / c)
            return value, 2 * lam * d / c**2, 2 * lam * b / c

        return penalty


class DirichletCalibration(_FullAffine):
    """Dirichlet calibration (Kull et al., NeurIPS 2019): ``q = softmax(W log p + b)``, ODIR.

    Penalty ``λ · Σ_{i≠j} W_ij² / (C(C − 1)) + μ · Σ_j b_j² / C`` added to the mean NLL; the
    diagonal of ``W`` is not penalised. Kull et al. pick ``λ, μ`` by cross-validation (see
    :func:`~samplescope.uncertainty.select_calibrator`). May change the argmax.

    Args:
        lam: off-diagonal weight ``λ ≥ 0``.
        mu: intercept weight ``μ ≥ 0``.
        max_iter: L-BFGS iterations.

    Attributes:
        coef_: ``W`` ``(C, C)``; intercept_: ``b`` ``(C,)``; nll_before_, nll_after_; n_classes_.
    """

    space: ClassVar[str] = "log_probs"

    def __init__(self, lam: float = 1e-3, mu: float = 1e-3, max_iter: int = 500) -> None:
        self.lam = lam
        self.mu = mu
        self.max_iter = max_iter

    def _check_params(self) -> None:
        check_nonneg(self.lam, "lam")
        check_nonneg(self.mu, "mu")
        check_int(self.max_iter, "max_iter")

    def _penalty(self, c: int) -> Penalty:
        lam, mu = float(self.lam), float(self.mu)
        off = 1.0 - np.eye(c)
        k = c * (c - 1)

        def penalty(w: np.ndarray, b: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
            wo = w * off
            value = lam * np.sum(wo**2) / k + mu * np.sum(b**2) / c
            return value, 2 * lam * wo / k, 2 * mu * b / c

        return penalty
