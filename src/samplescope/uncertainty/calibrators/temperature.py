"""Temperature scaling (Guo et al., ICML 2017, "On Calibration of Modern Neural Networks").

``q = softmax(z / T)`` with one scalar ``T > 0`` fitted by minimising the validation NLL
``−(1/N) Σ_i log softmax(z_i / T)_{y_i}`` with L-BFGS on ``log T`` (float64). ``T > 1``
softens an over-confident model, ``T < 1`` sharpens an under-confident one. Shapes: logits
``(N, C)``, labels ``(N,)``, output ``(N, C)``.

Accuracy-preserving: dividing every logit of a row by the same ``T > 0`` keeps their order,
so the argmax never changes.
"""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from ..._validation import check_positive
from ...functional import softmax
from .base import Calibrator, check_int, lbfgs

__all__ = ["TemperatureScaling"]


class TemperatureScaling(Calibrator):
    """One temperature ``T`` for all logits: ``p = softmax(z / T)``.

    ``fit`` / ``transform`` / ``predict_proba`` also take the logits positionally
    (``fit(z, y)``, the original API); ``probs=`` works too (``z = log p``).

    Args:
        max_iter: L-BFGS iterations.
        init_temperature: starting value of ``T``.

    Attributes:
        temperature_: the fitted ``T > 0``.
        nll_before_, nll_after_: validation NLL at ``T = 1`` and at ``temperature_``.
        n_classes_: ``C``.
    """

    space: ClassVar[str] = "logits"
    accuracy_preserving: ClassVar[bool] = True
    argmax_effect: ClassVar[str] = "keeps the argmax (z / T keeps the order of each row)"

    def __init__(self, max_iter: int = 200, init_temperature: float = 1.0) -> None:
        self.max_iter = max_iter
        self.init_temperature = init_temperature

    def fit(  # type: ignore[override]
        self, logits: Any = None, labels: Any = None, *, probs: Any = None
    ) -> TemperatureScaling:
        """Minimise ``NLL(softmax(z / T), y)`` over ``T`` on held-out ``logits`` ``(N, C)``."""
        if labels is None:
            raise ValueError("labels: expected integer labels (N,), got None")
        return self._fit_validated(logits, probs, labels)  # type: ignore[return-value]

    def _check_params(self) -> None:
        check_positive(self.init_temperature, "init_temperature")
        check_int(self.max_iter, "max_iter")

    def _fit(self, z: np.ndarray, y: np.ndarray) -> None:
        if np.all(z.argmax(1) == y):
            warnings.warn(
                "TemperatureScaling: every validation prediction is correct, so the NLL keeps "
                "falling as T -> 0 and the fitted temperature is unreliable; use more or harder "
                "validation data",
                RuntimeWarning,
                stacklevel=4,
            )
        zt, yt = torch.as_tensor(z), torch.as_tensor(y)
        log_t = torch.tensor(np.log(self.init_temperature), dtype=torch.float64, requires_grad=True)

        def loss() -> torch.Tensor:
            return nn.functional.cross_entropy(zt / log_t.exp(), yt)

        self.nll_before_ = float(nn.functional.cross_entropy(zt, yt))
        self.nll_after_ = lbfgs([log_t], loss, int(self.max_iter))
        self.temperature_ = float(log_t.detach().exp())

    def transform(self, logits: Any = None, *, probs: Any = None) -> np.ndarray:
        """Calibrated logits ``z / T`` ``(N, C)``."""
        return self._input(logits, probs) / self.temperature_

    def predict_proba(self, logits: Any = None, *, probs: Any = None) -> np.ndarray:  # type: ignore[override]
        """Calibrated probabilities ``softmax(z / T)`` ``(N, C)``."""
        return softmax(self.transform(logits, probs=probs), axis=1)

    def _predict_proba(self, z: np.ndarray) -> np.ndarray:
        return softmax(z / self.temperature_, axis=1)

    def predict(self, logits: Any = None, *, probs: Any = None) -> np.ndarray:  # type: ignore[override]
        """Predicted classes ``(N,)`` (unchanged by a temperature)."""
        return self._input(logits, probs).argmax(1)

    def torch_transform(self, logits: torch.Tensor) -> torch.Tensor:
        """``z / T`` on a tensor (used by :class:`~samplescope.uncertainty.CalibratedModel`)."""
        self._require_fitted()
        return logits / self.temperature_
