"""Post-hoc calibration of logits: temperature scaling and vector scaling (Guo et al. 2017).

Both follow the scikit-learn estimator contract: hyper-parameters in ``__init__``,
``fit(logits, labels)`` returns ``self``, fitted attributes end in ``_``, and calling
``transform`` / ``predict_proba`` before ``fit`` raises ``NotFittedError`` (a
``ValueError``). Parameters are found by minimising the NLL on held-out logits with
L-BFGS (strong-Wolfe line search) in float64.

- Temperature scaling: ``z / T`` with one scalar ``T > 0`` (optimised as ``log T``); it
  never changes the argmax. ``T > 1`` softens over-confident models.
- Vector scaling: ``w ⊙ z + b`` with ``w, b ∈ R^C``.

The two live in :mod:`samplescope.uncertainty.calibrators` with the other calibrators
(matrix, Dirichlet, ETS, histogram binning, isotonic, Platt) and are re-exported here; they
also take ``probs=`` and the keyword ``logits=``.

:class:`CalibratedModel` applies a fitted scaler to a network's logits.
"""

from __future__ import annotations

from typing import Any

import torch
from sklearn.exceptions import NotFittedError
from torch import nn

from .calibrators.linear import VectorScaling
from .calibrators.temperature import TemperatureScaling

__all__ = ["TemperatureScaling", "VectorScaling", "CalibratedModel"]


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
        if not hasattr(scaler, "n_classes_"):
            raise NotFittedError(
                f"scaler: the {type(scaler).__name__} is not fitted yet: call "
                "scaler.fit(logits, labels) on held-out data first"
            )
        self.model = model
        self.scaler = scaler

    def forward(self, x: torch.Tensor) -> Any:
        out = self.model(x)
        if isinstance(out, (tuple, list)):
            return (self.scaler.torch_transform(out[0]), *out[1:])
        return self.scaler.torch_transform(out)
