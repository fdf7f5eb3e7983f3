"""Where the sample ids, labels and logits of a batch come from (shared by the callbacks).

The documented convention (README "Where you already train"):

- **batch**: what the ``DataLoader`` over :func:`samplescope.data.with_ids` yields: a tuple
  ``(x, y, sample_id)`` or a dict with ``"labels"`` and ``"sample_id"``;
- **outputs** (Lightning: what ``training_step`` returns): a dict with ``"logits"``
  ``(B, C)`` and optionally ``"losses"`` (per-sample ``(B,)``; default cross-entropy) and
  ``"loss_terms"`` (``{name: (B,)}``); or the logits tensor itself.
"""

from __future__ import annotations

from typing import Any

from ..data.ids import ID_KEY
from ..difficulty.recorder import DynamicsRecorder
from ..io.scores import ScoreTable

__all__ = ["RecorderHolder", "ids_and_labels", "logits_and_losses"]


class RecorderHolder:
    """What both framework callbacks share: the recorder they feed and its table."""

    recorder: DynamicsRecorder
    labels_key: str

    def _hold(self, recorder: DynamicsRecorder | None, history: bool, labels_key: str) -> None:
        if recorder is not None and not isinstance(recorder, DynamicsRecorder):
            raise ValueError(
                f"recorder: expected a DynamicsRecorder, got {type(recorder).__name__}"
            )
        self.recorder = recorder if recorder is not None else DynamicsRecorder(history=history)
        self.labels_key = labels_key

    def table(self, columns: Any = None) -> ScoreTable:
        """The recorder's :class:`ScoreTable` (every column by default)."""
        return self.recorder.table(columns)


def ids_and_labels(batch: Any, labels_key: str = "labels") -> tuple[Any, Any]:
    """``(sample_ids (B,), labels (B,))`` of a batch of :func:`~samplescope.data.with_ids`."""
    if isinstance(batch, dict):
        if ID_KEY not in batch or labels_key not in batch:
            raise ValueError(
                f"batch: expected keys {ID_KEY!r} and {labels_key!r} (wrap the training set "
                f"with samplescope.data.with_ids), got {sorted(batch)}"
            )
        return batch[ID_KEY], batch[labels_key]
    if isinstance(batch, (tuple, list)) and len(batch) == 3:
        return batch[2], batch[1]
    raise ValueError(
        "batch: expected (x, y, sample_id) tuples or dicts with 'sample_id' (wrap the "
        f"training set with samplescope.data.with_ids), got {type(batch).__name__}"
    )


def logits_and_losses(outputs: Any) -> tuple[Any, Any, Any]:
    """``(logits, losses or None, loss_terms or None)`` of a training step's outputs."""
    if isinstance(outputs, dict):
        if "logits" not in outputs:
            raise ValueError(
                "outputs: expected training_step to return a dict with 'logits' (B, C) "
                f"(and 'loss'), got keys {sorted(outputs)}"
            )
        return outputs["logits"], outputs.get("losses"), outputs.get("loss_terms")
    if hasattr(outputs, "logits"):  # a model output object
        return outputs.logits, None, None
    if hasattr(outputs, "ndim") and outputs.ndim == 2:
        return outputs, None, None
    raise ValueError(
        "outputs: expected training_step to return {'loss': ..., 'logits': (B, C)}, got "
        f"{type(outputs).__name__}"
    )
