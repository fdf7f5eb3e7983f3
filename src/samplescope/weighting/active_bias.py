"""Active Bias (Chang, Learned-Miller & McCallum, NeurIPS 2017): emphasise uncertain samples.

Every time sample ``i`` is in a batch, ``p_t = softmax(z)[y_i]`` (before the update) joins its
history ``H_i``. Its weight is ``w_i ∝ std(H_i) + ε`` (population std; with
``correction=True`` Chang's estimate ``sqrt(var + var²/(|H|-1))``), divided by the batch mean
so the batch mean weight is one. Samples that are always right or always wrong (low
variance of ``p[y]``) get low weight; those the model keeps changing its mind on get
more. During the first ``warmup_epochs`` (and for samples with fewer than 2 records) the
weight is uniform.
"""

from __future__ import annotations

from typing import Any

import torch

from .._validation import check_integer, check_positive
from .base import DynamicScheme, label_prob, rescale_mean_one

__all__ = ["ActiveBias"]


class ActiveBias(DynamicScheme):
    """Active Bias weights from the per-sample history of ``p[y]`` (keyed by training position)."""

    name = "active_bias"

    def __init__(
        self, eps: float = 0.05, *, warmup_epochs: int = 2, correction: bool = False
    ) -> None:
        self.eps = check_positive(eps, "eps")
        self.warmup_epochs = check_integer(warmup_epochs, "warmup_epochs", minimum=0)
        self.correction = bool(correction)
        self.reset()

    def reset(self) -> None:
        self._n = torch.zeros(0, dtype=torch.float64)
        self._s = torch.zeros(0, dtype=torch.float64)
        self._s2 = torch.zeros(0, dtype=torch.float64)

    def _grow(self, size: int) -> None:
        if size > len(self._n):
            pad = size - len(self._n)
            self._n = torch.cat([self._n, torch.zeros(pad, dtype=torch.float64)])
            self._s = torch.cat([self._s, torch.zeros(pad, dtype=torch.float64)])
            self._s2 = torch.cat([self._s2, torch.zeros(pad, dtype=torch.float64)])

    def std(self, positions: torch.Tensor) -> torch.Tensor:
        """Std of the recorded ``p[y]`` for ``positions`` (0 with fewer than 2 records)."""
        pos = positions.cpu().long()
        n = self._n[pos]
        mean = self._s[pos] / n.clamp(min=1)
        var = (self._s2[pos] / n.clamp(min=1) - mean**2).clamp(min=0)
        if self.correction:
            var = var + var**2 / (n - 1).clamp(min=1)
        return torch.where(n >= 2, var.sqrt(), torch.zeros_like(var))

    def weights(
        self,
        losses: torch.Tensor,
        *,
        positions: torch.Tensor,
        labels: torch.Tensor,
        logits: torch.Tensor,
        epoch: int = 0,
        **_: Any,
    ) -> torch.Tensor:
        pos = positions.cpu().long()
        self._grow(int(pos.max()) + 1)
        if epoch < self.warmup_epochs:
            w = torch.ones(len(pos), dtype=torch.float64)
        else:
            n = self._n[pos]
            w = torch.where(n >= 2, self.std(pos) + self.eps, torch.full_like(n, float("nan")))
            fill = (
                w[~torch.isnan(w)].mean()
                if (~torch.isnan(w)).any()
                else torch.tensor(1.0, dtype=torch.float64)
            )
            w = torch.where(torch.isnan(w), fill, w)
        p = label_prob(logits.detach(), labels).double().cpu()
        self._n.index_add_(0, pos, torch.ones_like(p))
        self._s.index_add_(0, pos, p)
        self._s2.index_add_(0, pos, p * p)
        return rescale_mean_one(w).to(dtype=losses.dtype, device=losses.device)
