"""Shared pieces of the dynamic schemes: the base class and batch-level helpers.

A dynamic scheme implements the trainer's ``DynamicWeighting`` protocol
(:mod:`samplescope.training.trainer`): ``weights(losses (B,), *, sample_ids, positions,
labels, logits (B, C), epoch, epochs) -> (B,)`` non-negative tensor, called once per batch
with detached per-sample losses; the trainer minimises ``mean_i w_i ℓ_i``. No gradient
flows through the weights.
"""

from __future__ import annotations

from typing import Any

import torch

from ..training.checks import check_batch_logits

__all__ = ["DynamicScheme", "check_batch_logits", "rescale_mean_one", "label_prob", "batch_margin"]


class DynamicScheme:
    """Base class of the stateful per-batch schemes. ``reset()`` clears any state."""

    name = "dynamic"

    def weights(self, losses: torch.Tensor, **context: Any) -> torch.Tensor:  # pragma: no cover
        raise NotImplementedError

    def reset(self) -> None:
        """Forget any state (histories, EMAs) before a new training run."""

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({params})"


def rescale_mean_one(w: torch.Tensor) -> torch.Tensor:
    """``w / mean(w)`` when ``mean(w) > 0`` (else unchanged zeros)."""
    m = w.mean()
    return w / m if float(m) > 0 else w


def label_prob(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """``softmax(z)[y]``, shape ``(B,)``."""
    return torch.softmax(logits.float(), dim=1).gather(1, labels.view(-1, 1)).squeeze(1)


def batch_margin(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Logit margin ``z_y - max_{j≠y} z_j``, shape ``(B,)`` (higher = easier)."""
    z = logits.float()
    zy = z.gather(1, labels.view(-1, 1)).squeeze(1)
    other = z.scatter(1, labels.view(-1, 1), float("-inf")).max(dim=1).values
    return zy - other
