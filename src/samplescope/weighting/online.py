"""Online difficulty weighting: apply any static :class:`~.transforms.Transform` per batch.

The difficulty of every sample of the batch is computed from the current model's detached
outputs (higher = harder, REFERENCE.md §1):

- ``"loss"``: the per-sample training loss ``ℓ_i``;
- ``"margin"``: ``-(z_y - max_{j≠y} z_j)`` (so ``inverse_margin`` and ``hard_first`` apply);
- ``"confidence"``: ``1 - p[y]``.

and mapped to weights by the transform within the batch (e.g. ``hard_first`` by loss, the
dynamic inverse-margin weights of Zhou Fig. 4).
"""

from __future__ import annotations

from typing import Any

import torch

from .._validation import check_choice
from .base import DynamicScheme, batch_margin, label_prob
from .transforms import Transform, WeightContext

__all__ = ["OnlineWeighting", "ONLINE_MEASURES"]

ONLINE_MEASURES = ("loss", "margin", "confidence")


class OnlineWeighting(DynamicScheme):
    """Per-batch ``transform(difficulty(batch))``; see the module docstring."""

    name = "online"

    def __init__(self, transform: Transform, measure: str = "loss") -> None:
        if not isinstance(transform, Transform):
            raise ValueError(f"transform: expected a Transform, got {type(transform).__name__}")
        self.transform = transform
        self.measure = check_choice(measure, "measure", ONLINE_MEASURES)

    def difficulty(
        self, losses: torch.Tensor, logits: torch.Tensor, labels: torch.Tensor
    ) -> torch.Tensor:
        if self.measure == "loss":
            return losses.detach()
        if self.measure == "margin":
            return -batch_margin(logits.detach(), labels)
        return 1.0 - label_prob(logits.detach(), labels)

    def weights(
        self, losses: torch.Tensor, *, labels: torch.Tensor, logits: torch.Tensor, **_: Any
    ) -> torch.Tensor:
        d = self.difficulty(losses, logits, labels).double().cpu().numpy()
        w = self.transform.apply(d, WeightContext(labels.cpu().numpy(), logits.shape[1]))
        return torch.as_tensor(w, dtype=losses.dtype, device=losses.device)
