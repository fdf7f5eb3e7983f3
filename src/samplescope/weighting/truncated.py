"""Truncated loss: drop the ε(t) fraction of largest per-sample losses in every batch.

Small-loss selection for noisy labels (REFERENCE.md §2, "Wang 2021"; the same rule as
co-teaching's ``R(T)``). ``ε(e) = eps_max · min(1, e / ramp_epochs)`` ramps linearly from 0
at epoch 0 to ``eps_max``; per batch of size B the ``floor(ε B)`` largest losses get weight 0,
the rest 1 (divided by their mean when ``rescale=True``, i.e. the mean over the kept samples).
Easy-first: weights are non-increasing in the loss.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from .._validation import check_fraction, check_integer
from .base import DynamicScheme, rescale_mean_one

__all__ = ["TruncatedLoss"]


class TruncatedLoss(DynamicScheme):
    """Drop the largest losses of each batch (see the module docstring).

    Args:
        eps_max: final drop fraction in [0, 1); typically the (estimated) noise rate.
        ramp_epochs: epochs over which ε ramps up linearly (default 10, capped by the run).
        rescale: divide by the mean weight (mean over the kept samples).
    """

    name = "truncated"

    def __init__(
        self, eps_max: float = 0.4, *, ramp_epochs: int = 10, rescale: bool = True
    ) -> None:
        self.eps_max = check_fraction(eps_max, "eps_max", inclusive_high=False)
        self.ramp_epochs = check_integer(ramp_epochs, "ramp_epochs")
        self.rescale = bool(rescale)

    def eps(self, epoch: int, epochs: int | None = None) -> float:
        ramp = self.ramp_epochs if epochs is None else min(self.ramp_epochs, max(epochs, 1))
        return self.eps_max * min(1.0, epoch / ramp)

    def weights(
        self, losses: torch.Tensor, *, epoch: int = 0, epochs: int | None = None, **_: Any
    ) -> torch.Tensor:
        ell = losses.detach()
        B = ell.numel()
        k = min(B - 1, math.floor(self.eps(epoch, epochs) * B))
        w = torch.ones_like(ell, dtype=torch.float32)
        if k > 0:
            w[torch.topk(ell, k).indices] = 0.0
        return rescale_mean_one(w) if self.rescale else w
