"""PyTorch Lightning: record training dynamics from ``on_train_batch_end``.

Five lines (README "Where you already train")::

    from samplescope.data import with_ids
    from samplescope.integrations.lightning import DynamicsCallback
    cb = DynamicsCallback()
    L.Trainer(max_epochs=5, callbacks=[cb]).fit(module, DataLoader(with_ids(ds), batch_size=64))
    table = cb.table()  # aum, forgetting, cartography_*, action_score, loss_* per sample

Convention: the loader yields ``(x, y, sample_id)`` (:func:`samplescope.data.with_ids`) and
``training_step`` returns ``{"loss": loss, "logits": logits}`` (optionally ``"losses"``, the
per-sample losses, and ``"loss_terms"``); see :mod:`samplescope.integrations.batches`. The
logits are those of the step's forward pass, before the optimiser step, as in
:func:`samplescope.fit`: with the same initial weights, optimiser and batches
(:class:`samplescope.training.FitBatchSampler`) the table equals the one of ``fit`` with
:class:`samplescope.difficulty.TrainingDynamics`.
"""

from __future__ import annotations

from typing import Any

from ..difficulty.recorder import DynamicsRecorder
from .batches import RecorderHolder, ids_and_labels, logits_and_losses
from .extras import require

pl = require("lightning.pytorch")

__all__ = ["DynamicsCallback"]


class DynamicsCallback(RecorderHolder, pl.Callback):
    """Feeds a :class:`DynamicsRecorder` (``.recorder``) with every training batch.

    Args:
        recorder: the recorder to feed (default: a new one, ``history=history``).
        history: keep the ``(E, N)`` per-epoch traces (when no recorder is given).
        labels_key: the label key of dict batches.
    """

    def __init__(
        self,
        recorder: DynamicsRecorder | None = None,
        *,
        history: bool = False,
        labels_key: str = "labels",
    ) -> None:
        self._hold(recorder, history, labels_key)

    def on_train_batch_end(
        self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        ids, labels = ids_and_labels(batch, self.labels_key)
        logits, losses, terms = logits_and_losses(outputs)
        self.recorder.update(
            ids, logits, labels, epoch=int(trainer.current_epoch), losses=losses, loss_terms=terms
        )

    def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        self.recorder.end_epoch()
