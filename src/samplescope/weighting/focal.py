"""Focal loss (Lin et al., ICCV 2017) as a per-sample ``loss_fn`` for the trainer.

``FL_i = -α_{y_i} (1 - p_t)^γ log p_t`` with ``p_t = softmax(z_i)[y_i]``. γ = 0 and α = 1 give
cross-entropy; larger γ down-weights well-classified (easy) samples, i.e. the implicit
weight ``(1 - p_t)^γ`` is hard-first. ``alpha``: None (1), a scalar, or per-class weights
``(C,)`` (e.g. :func:`.class_weights.class_balanced_weights`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from .._validation import check_array, check_positive
from .base import check_batch_logits

__all__ = ["FocalLoss", "focal_loss"]


class FocalLoss:
    """Callable ``(outputs, labels) -> (B,)`` per-sample focal loss."""

    def __init__(self, gamma: float = 2.0, alpha: float | Sequence[float] | None = None) -> None:
        self.gamma = check_positive(gamma, "gamma", strict=False)
        if alpha is None:
            self.alpha = None
        elif np.ndim(alpha) == 0 and not isinstance(alpha, (str, bytes)):
            self.alpha = torch.tensor(check_positive(alpha, "alpha"), dtype=torch.float32)
        else:
            a = check_array(alpha, "alpha", ndim=1)
            if a.min() < 0:
                raise ValueError("alpha: expected non-negative per-class weights")
            self.alpha = torch.as_tensor(a, dtype=torch.float32)

    def __call__(self, outputs: Any, labels: torch.Tensor) -> torch.Tensor:
        logits = outputs[0] if isinstance(outputs, (tuple, list)) else outputs
        check_batch_logits(logits, labels)
        if self.alpha is not None and self.alpha.ndim and len(self.alpha) != logits.shape[1]:
            raise ValueError(
                f"alpha: expected {logits.shape[1]} per-class weights, got {len(self.alpha)}"
            )
        logp = torch.log_softmax(logits.float(), dim=1).gather(1, labels.view(-1, 1)).squeeze(1)
        pt = logp.exp()
        loss = -((1.0 - pt).clamp(min=0) ** self.gamma) * logp
        if self.alpha is not None:
            a = self.alpha.to(loss.device)
            loss = loss * (a if a.ndim == 0 else a[labels])
        return loss

    def __repr__(self) -> str:
        return f"FocalLoss(gamma={self.gamma:g}, alpha={self.alpha})"


def focal_loss(gamma: float = 2.0, alpha: float | Sequence[float] | None = None) -> FocalLoss:
    """The focal loss as a trainer ``loss_fn`` (see the module docstring)."""
    return FocalLoss(gamma, alpha)
