"""Affine calibration maps fitted by penalised NLL: vector, matrix and Dirichlet calibration.

All three are ``q = softmax(A(x))`` with an affine ``A`` of an input row ``x`` ``(C,)``,
fitted on held-out data by minimising ``(1/N) Σ_i −log q_{i, y_i} + penalty`` with L-BFGS
(float64), starting from the identity map (``q = softmax(x)``):

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

from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from ...functional import softmax
from .base import Calibrator, check_int, check_nonneg, lbfgs

__all__ = ["VectorScaling", "MatrixScaling", "DirichletCalibration"]


def _fit_affine(
    x: np.ndarray,
    y: np.ndarray,
    *,
    full: bool,
    penalty: Any,
    max_iter: int,
) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Fit ``softmax(W x + b)`` (``full``) or ``softmax(w ⊙ x + b)``; return ``W|w, b, nll0, nll``."""
    xt, yt = torch.as_tensor(x), torch.as_tensor(y)
    c = x.shape[1]
    w = (torch.eye(c) if full else torch.ones(c)).to(torch.float64).requires_grad_(True)
    b = torch.zeros(c, dtype=torch.float64, requires_grad=True)

    def out() -> torch.Tensor:
        return xt @ w.T + b if full else xt * w + b

    def loss() -> torch.Tensor:
        return nn.functional.cross_entropy(out(), yt) + penalty(w, b)

    nll0 = float(nn.functional.cross_entropy(xt, yt))
    lbfgs([w, b], loss, max_iter)
    with torch.no_grad():
        nll = float(nn.functional.cross_entropy(out(), yt))
    return w.detach().numpy().copy(), b.detach().numpy().copy(), nll0, nll


def _no_penalty(w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.zeros((), dtype=torch.float64)


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
            z, y, full=False, penalty=_no_penalty, max_iter=int(self.max_iter)
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

    def _penalty(self, c: int) -> Any:  # pragma: no cover - abstract
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

    def _penalty(self, c: int) -> Any:
        lam = float(self.l2)
        eye = torch.eye(c, dtype=torch.float64)

        def penalty(w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
            return lam * (((w - eye) ** 2).sum() / c**2 + (b**2).sum() / c)

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

    def _penalty(self, c: int) -> Any:
        lam, mu = float(self.lam), float(self.mu)
        off = 1.0 - torch.eye(c, dtype=torch.float64)

        def penalty(w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
            return lam * ((w * off) ** 2).sum() / (c * (c - 1)) + mu * (b**2).sum() / c

        return penalty
