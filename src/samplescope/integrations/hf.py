"""Hugging Face ``Trainer``: record training dynamics from the model's forward pass.

Five lines (README "Where you already train")::

    from samplescope.data import with_ids
    from samplescope.integrations.hf import DynamicsCallback
    cb = DynamicsCallback()
    args = TrainingArguments("out", num_train_epochs=3, remove_unused_columns=False)
    Trainer(model, args, train_dataset=with_ids(train), callbacks=[cb]).train(); cb.table()

The ``Trainer`` hands callbacks neither the batch nor the logits, so at ``on_train_begin``
the callback registers two hooks on the model: a forward pre-hook that takes the
``"sample_id"`` entry out of the batch (the model never sees it) and a forward hook that
records, in training mode only, the ids, ``labels`` and ``outputs.logits`` of that forward
pass (before the optimiser step, as in :func:`samplescope.fit`). Per-sample losses are the
cross-entropy of those logits. Items of ``train`` are dicts (``input_ids``, ``labels``,
...); ``remove_unused_columns=False`` keeps their ``sample_id`` in the batch (with ``True``
the Trainer drops it and the callback says so). The hooks are removed at ``on_train_end``.
"""

from __future__ import annotations

from typing import Any

import torch

from ..data.ids import ID_KEY
from ..difficulty.recorder import DynamicsRecorder
from .batches import RecorderHolder
from .extras import require

transformers = require("transformers")

__all__ = ["DynamicsCallback"]


def _logits(output: Any) -> torch.Tensor:
    if hasattr(output, "logits"):
        return output.logits
    if isinstance(output, (tuple, list)):
        return output[1] if len(output) > 1 and output[0].ndim == 0 else output[0]
    return output


class DynamicsCallback(RecorderHolder, transformers.TrainerCallback):
    """Feeds a :class:`DynamicsRecorder` (``.recorder``) from the training forward passes.

    Args:
        recorder: the recorder to feed (default: a new one, ``history=history``).
        history: keep the ``(E, N)`` per-epoch traces (when no recorder is given).
        labels_key: the batch key of the labels.
    """

    def __init__(
        self,
        recorder: DynamicsRecorder | None = None,
        *,
        history: bool = False,
        labels_key: str = "labels",
    ) -> None:
        self._hold(recorder, history, labels_key)
        self.epoch = 0
        self._handles: list[Any] = []
        self._ids: Any = None

    # -- hooks on the model --------------------------------------------------------------------
    def _pre(self, module: Any, args: Any, kwargs: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        self._ids = kwargs.pop(ID_KEY, None)
        if self._ids is None and module.training:
            raise ValueError(
                f"train_dataset: expected a {ID_KEY!r} in every training batch: wrap it with "
                "samplescope.data.with_ids and set TrainingArguments(remove_unused_columns=False)"
            )
        return args, kwargs

    def _post(self, module: Any, args: Any, kwargs: dict[str, Any], output: Any) -> None:
        if not module.training:
            return
        labels = kwargs.get(self.labels_key)
        if labels is None:
            raise ValueError(f"labels_key: expected {self.labels_key!r} in the training batch")
        self.recorder.update(self._ids, _logits(output), labels, epoch=self.epoch)

    # -- Trainer events ------------------------------------------------------------------------
    def on_train_begin(
        self, args: Any, state: Any, control: Any, model: Any = None, **kw: Any
    ) -> None:
        if model is None:
            raise ValueError("model: the Trainer passed no model to the callback")
        self._remove()
        self._handles = [
            model.register_forward_pre_hook(self._pre, with_kwargs=True),
            model.register_forward_hook(self._post, with_kwargs=True),
        ]

    def on_epoch_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
        self.epoch = int(round(state.epoch or 0.0))

    def on_epoch_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
        self.recorder.end_epoch()

    def on_train_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
        self.recorder.end_epoch()
        self._remove()

    def _remove(self) -> None:
        for h in self._handles:
            h.remove()
        self._handles = []
