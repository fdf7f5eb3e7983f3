"""Post-hoc calibration of logits: temperature scaling and vector scaling (Guo et al. 2017).

Both follow the scikit-learn estimator contract: hyper-parameters in ``__init__``,
``fit(logits, labels)`` returns ``self``, fitted attributes end in ``_``, and calling
``transform`` / ``predict_proba`` before ``fit`` raises ``NotFittedError`` (a
``ValueError``). Parameters are found by minimising the NLL on held-out logits with
L-BFGS (strong-Wolfe line search) in float64.

- Temperature scaling: ``z / T`` with one scalar ``T > 0`` (optimised as ``log T``); it
  never changes the argmax. ``T > 1`` softens over-confident models.
- Vector scaling: ``w ⊙ z + b`` with ``w, b ∈ R^C``.

:class:`CalibratedModel` applies a fitted scaler to a network's logits.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from torch import nn

from .._validation import check_labels, check_logits, check_positive
from ..functional import softmax

__all__ = ["TemperatureScaling", "VectorScaling", "CalibratedModel"]


def _validate(logits: Any, labels: Any) -> tuple[np.ndarray, np.ndarray]:
    z = check_logits(logits)
    y = check_labels(labels, num_classes=z.shape[1], n=z.shape[0])
    return z, y


def _lbfgs(params: list[torch.Tensor], loss_fn: Any, max_iter: int) -> float:
    opt = torch.optim.LBFGS(
        params,
        lr=1.0,
        max_iter=max_iter,
        line_search_fn="strong_wolfe",
        tolerance_grad=1e-10,
        tolerance_change=1e-12,
    )

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        return float(loss_fn())


class TemperatureScaling(BaseEstimator):
    """One temperature ``T`` for all logits: ``p = softmax(z / T)``.

    Args:
        max_iter: L-BFGS iterations.
        init_temperature: starting value of ``T``.

    Attributes:
        temperature_: the fitted ``T > 0``.
        nll_before_, nll_after_: validation NLL at ``T = 1`` and at ``temperature_``.
        n_classes_: ``C``.
    """

    def __init__(self, max_iter: int = 200, init_temperature: float = 1.0) -> None:
        self.max_iter = max_iter
        self.init_temperature = init_temperature

    def fit(self, logits: Any, labels: Any) -> TemperatureScaling:
        """Minimise ``NLL(softmax(z / T), y)`` over ``T`` on held-out ``logits`` ``(N, C)``."""
        z, y = _validate(logits, labels)
        check_positive(self.init_temperature, "init_temperature")
        if np.all(z.argmax(1) == y):
            warnings.warn(
                "TemperatureScaling: every validation prediction is correct, so the NLL keeps "
                "falling as T -> 0 and the fitted temperature is unreliable; use more or harder "
                "validation data",
                RuntimeWarning,
                stacklevel=2,
            )
        zt, yt = torch.as_tensor(z), torch.as_tensor(y)
        log_t = torch.tensor(np.log(self.init_temperature), dtype=torch.float64, requires_grad=True)

        def loss() -> torch.Tensor:
            return nn.functional.cross_entropy(zt / log_t.exp(), yt)

        self.nll_before_ = float(nn.functional.cross_entropy(zt, yt))
        self.nll_after_ = _lbfgs([log_t], loss, int(check_positive(self.max_iter, "max_iter")))
        self.temperature_ = float(log_t.detach().exp())
        self.n_classes_ = z.shape[1]
        return self

    def _require_fitted(self) -> None:
        if not hasattr(self, "temperature_"):
            raise NotFittedError(
                "This TemperatureScaling instance is not fitted yet: call fit(logits, labels) first"
            )

    def _check(self, logits: Any) -> np.ndarray:
        self._require_fitted()
        return check_logits(logits, num_classes=self.n_classes_)

    def transform(self, logits: Any) -> np.ndarray:
        """Calibrated logits ``z / T`` ``(N, C)``."""
        return self._check(logits) / self.temperature_

    def predict_proba(self, logits: Any) -> np.ndarray:
        """Calibrated probabilities ``softmax(z / T)`` ``(N, C)``."""
        return softmax(self.transform(logits), axis=1)

    def predict(self, logits: Any) -> np.ndarray:
        """Predicted classes ``(N,)`` (unchanged by a temperature)."""
        return self._check(logits).argmax(1)

    def torch_transform(self, logits: torch.Tensor) -> torch.Tensor:
        """``z / T`` on a tensor (used by :class:`CalibratedModel`)."""
        self._require_fitted()
        return logits / self.temperature_


class VectorScaling(BaseEstimator):
    """Per-class scale and bias: ``p = softmax(w ⊙ z + b)`` (Guo et al. 2017).

    Attributes:
        coef_: ``w`` ``(C,)``; intercept_: ``b`` ``(C,)``; nll_before_, nll_after_.
    """

    def __init__(self, max_iter: int = 500) -> None:
        self.max_iter = max_iter

    def fit(self, logits: Any, labels: Any) -> VectorScaling:
        """Minimise the NLL over ``w, b`` on held-out ``logits`` ``(N, C)``."""
        z, y = _validate(logits, labels)
        zt, yt = torch.as_tensor(z), torch.as_tensor(y)
        c = z.shape[1]
        w = torch.ones(c, dtype=torch.float64, requires_grad=True)
        b = torch.zeros(c, dtype=torch.float64, requires_grad=True)

        def loss() -> torch.Tensor:
            return nn.functional.cross_entropy(zt * w + b, yt)

        self.nll_before_ = float(nn.functional.cross_entropy(zt, yt))
        self.nll_after_ = _lbfgs([w, b], loss, int(check_positive(self.max_iter, "max_iter")))
        self.coef_ = w.detach().numpy().copy()
        self.intercept_ = b.detach().numpy().copy()
        self.n_classes_ = c
        return self

    def _require_fitted(self) -> None:
        if not hasattr(self, "coef_"):
            raise NotFittedError(
                "This VectorScaling instance is not fitted yet: call fit(logits, labels) first"
            )

    def _check(self, logits: Any) -> np.ndarray:
        self._require_fitted()
        return check_logits(logits, num_classes=self.n_classes_)

    def transform(self, logits: Any) -> np.ndarray:
        """Calibrated logits ``w ⊙ z + b`` ``(N, C)``."""
        return self._check(logits) * self.coef_ + self.intercept_

    def predict_proba(self, logits: Any) -> np.ndarray:
        """Calibrated probabilities ``(N, C)``."""
        return softmax(self.transform(logits), axis=1)

    def predict(self, logits: Any) -> np.ndarray:
        """Predicted classes ``(N,)`` after scaling."""
        return self.transform(logits).argmax(1)

    def torch_transform(self, logits: torch.Tensor) -> torch.Tensor:
        """``w ⊙ z + b`` on a tensor."""
        self._require_fitted()
        w = torch.as_tensor(self.coef_, dtype=logits.dtype, device=logits.device)
        b = torch.as_tensor(self.intercept_, dtype=logits.dtype, device=logits.device)
        return logits * w + b


class CalibratedModel(nn.Module):
    """``model`` followed by a fitted scaler: ``forward(x)`` returns calibrated logits.

    Tuple outputs ``(logits, ...)`` keep their extra elements. The scaler must be fitted.
    """

    def __init__(self, model: nn.Module, scaler: TemperatureScaling | VectorScaling) -> None:
        super().__init__()
        if not hasattr(scaler, "torch_transform"):
            raise ValueError(
                f"scaler: expected a fitted TemperatureScaling/VectorScaling, got "
                f"{type(scaler).__name__}"
            )
        scaler._require_fitted()
        self.model = model
        self.scaler = scaler

    def forward(self, x: torch.Tensor) -> Any:
        out = self.model(x)
        if isinstance(out, (tuple, list)):
            return (self.scaler.torch_transform(out[0]), *out[1:])
        return self.scaler.torch_transform(out)
