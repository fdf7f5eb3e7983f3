"""Models with a learned variance: a classifier with a per-sample ``s`` head (for UANLL) and
a mean/log-variance regressor (for the heteroscedastic NLL)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from .._validation import check_array, check_fraction, check_integer, check_number
from ..data.split import as_split
from ..models import split_head
from ..training.checks import check_module, forward_checked

__all__ = ["UncertaintyAwareClassifier", "MeanVarianceRegressor", "predict_log_variance"]


class UncertaintyAwareClassifier(nn.Module):
    """Wraps a Sequential classifier: ``forward(x) -> (logits (B, C), s (B,))``.

    The classifier is cut at its last Linear (``split_head``); a second linear head on the
    same penultimate features predicts ``s = log σ²`` per sample (Kornaev lecture 6,
    UANLL). ``s`` is higher = more uncertain. The trainer reads the logits from the first
    element of the tuple, so ``fit(UncertaintyAwareClassifier(m), data, loss_fn=UANLLLoss())``
    works as is.
    """

    def __init__(self, model: nn.Module, s_init: float = 0.0) -> None:
        super().__init__()
        s_init = check_number(s_init, "s_init")
        self.trunk, self.head = split_head(check_module(model))
        self.s_head = nn.Linear(self.head.in_features, 1)
        nn.init.zeros_(self.s_head.weight)
        nn.init.constant_(self.s_head.bias, float(s_init))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.trunk(x)
        return self.head(h), self.s_head(h).squeeze(1)


class MeanVarianceRegressor(nn.Module):
    """MLP regressor ``forward(x) -> (mean (B, D), log_var (B, D))``.

    Flatten → [Linear → ReLU → Dropout(p)]* → two linear heads (mean, ``s = log σ²``).
    With ``dropout > 0`` MC dropout gives the epistemic part (see
    :func:`samplescope.uncertainty.regression.predict_regression`).
    """

    def __init__(
        self,
        in_features: int | Sequence[int],
        out_features: int = 1,
        hidden: Sequence[int] = (64, 64),
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if isinstance(in_features, Sequence) and not isinstance(in_features, (str, bytes)):
            if not in_features:
                raise ValueError(
                    "in_features: expected a feature size or a non-empty shape, got ()"
                )
            d = math.prod(check_integer(s, "in_features") for s in in_features)
        else:
            d = check_integer(in_features, "in_features")
        out_features = check_integer(out_features, "out_features")
        if isinstance(hidden, (str, bytes)) or not isinstance(hidden, Sequence):
            raise ValueError(f"hidden: expected a sequence of layer widths, got {hidden!r}")
        hidden = [check_integer(w, "hidden") for w in hidden]
        dropout = check_fraction(dropout, "dropout", inclusive_high=False)
        layers: list[nn.Module] = [nn.Flatten()]
        for w in hidden:
            layers += [nn.Linear(d, w), nn.ReLU()]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            d = w
        self.body = nn.Sequential(*layers)
        self.mean = nn.Linear(d, out_features)
        self.log_var = nn.Linear(d, out_features)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.body(x)
        return self.mean(h), self.log_var(h)


@torch.no_grad()
def predict_log_variance(model: nn.Module, data: Any, *, batch_size: int = 1024) -> np.ndarray:
    """The ``s`` output ``(N,)`` of a model returning ``(logits, s)`` (eval mode); higher = more
    uncertain."""
    check_module(model)
    if isinstance(data, (np.ndarray, torch.Tensor)):
        x = check_array(data, "data", ndim=tuple(range(2, 6)), dtype=np.float32)
    else:
        x = as_split(data).x
    if len(x) == 0:
        raise ValueError("data: expected at least one sample, got 0")
    batch_size = check_integer(batch_size, "batch_size")
    flags = [m.training for m in model.modules()]
    model.eval()
    out = []
    try:
        for lo in range(0, len(x), batch_size):
            xb = torch.as_tensor(x[lo : lo + batch_size])
            res = forward_checked(model, xb) if lo == 0 else model(xb)
            if not isinstance(res, (tuple, list)) or len(res) < 2:
                raise ValueError("model: expected outputs (logits, s), got a single tensor")
            out.append(res[1].reshape(-1).float())
    finally:
        for m, f in zip(model.modules(), flags, strict=True):
            m.training = f
    return torch.cat(out).numpy().astype(np.float64)
