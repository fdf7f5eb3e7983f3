"""Callback protocol of the trainer.

For every batch a callback sees a :class:`BatchResult` (sample ids, logits, labels and
per-sample losses, detached). At every epoch end it may call
``state.evaluate(split)`` to get an :class:`EvalResult` over any split (evaluation runs in
eval mode without gradients and is cached per epoch and split, so several callbacks share
one pass). This is how action scores, cartography, AUM and forgetting events are recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ..functional import softmax

if TYPE_CHECKING:
    from .trainer import TrainerState

__all__ = ["BatchResult", "EvalResult", "Callback", "LambdaCallback"]


@dataclass
class BatchResult:
    """One training batch, as seen by callbacks (all tensors detached, on the training device).

    Attributes:
        epoch: 0-based epoch; step: global optimisation step (0-based).
        sample_ids: ``(B,)`` int64; positions: ``(B,)`` int64 positions in the training split.
        logits: ``(B, C)``; labels: ``(B,)`` the training labels.
        losses: ``(B,)`` unweighted per-sample loss (sum of the terms).
        terms: named per-sample loss components ``{name: (B,)}`` when the loss is a sum of terms.
        weights: ``(B,)`` the weights applied to the losses (None = uniform).
    """

    epoch: int
    step: int
    sample_ids: torch.Tensor
    positions: torch.Tensor
    logits: torch.Tensor
    labels: torch.Tensor
    losses: torch.Tensor
    terms: dict[str, torch.Tensor] = field(default_factory=dict)
    weights: torch.Tensor | None = None


@dataclass
class EvalResult:
    """Model outputs over a whole split in eval mode (numpy, in the split's order).

    ``sample_ids (N,)``, ``logits (N, C)``, ``labels (N,)``, ``losses (N,)`` (unweighted
    per-sample loss), ``terms {name: (N,)}``.
    """

    sample_ids: np.ndarray
    logits: np.ndarray
    labels: np.ndarray
    losses: np.ndarray
    terms: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def probs(self) -> np.ndarray:
        """Softmax of :attr:`logits` ``(N, C)``."""
        return softmax(self.logits, axis=1)

    @property
    def correct(self) -> np.ndarray:
        return self.logits.argmax(axis=1) == self.labels


class Callback:
    """Base class: override any hook. ``state`` is the :class:`TrainerState`."""

    def on_fit_start(self, state: TrainerState) -> None:  # noqa: B027
        pass

    def on_epoch_start(self, state: TrainerState) -> None:  # noqa: B027
        pass

    def on_batch_end(self, state: TrainerState, batch: BatchResult) -> None:  # noqa: B027
        pass

    def on_epoch_end(self, state: TrainerState) -> None:  # noqa: B027
        pass

    def on_fit_end(self, state: TrainerState) -> None:  # noqa: B027
        pass


class LambdaCallback(Callback):
    """A callback from plain functions: ``LambdaCallback(on_batch_end=lambda state, batch: ...)``."""

    def __init__(self, **hooks: Any) -> None:
        allowed = {"on_fit_start", "on_epoch_start", "on_batch_end", "on_epoch_end", "on_fit_end"}
        unknown = set(hooks) - allowed
        if unknown:
            raise ValueError(
                f"hooks: expected names among {sorted(allowed)}, got {sorted(unknown)}"
            )
        for k, v in hooks.items():
            setattr(self, k, v)
