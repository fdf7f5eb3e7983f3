"""The active-learning pool: which sample ids are labelled, unlabelled or rejected.

Bookkeeping is by stable sample id (never by position), so a scored pool *subset* maps
back to the pool without the index confusion of Baal's experiment helper. Each labelled
or rejected id records the step at which it was acquired and the label received.
Invariant: every id of the universe is in exactly one of unlabelled / labelled / rejected.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from .._validation import check_ids, check_integer, check_labels
from ..io import atomic_path

__all__ = ["Pool"]


class Pool:
    """Labelled / unlabelled / rejected sample ids.

    Args:
        sample_ids: the universe of pool ids ``(N,)`` int64, unique.

    Attributes (read-only views): ``labelled_ids``, ``unlabelled_ids``, ``rejected_ids``
    (sorted by acquisition order for labelled/rejected, ascending for unlabelled),
    ``labels`` (labels received, aligned with ``labelled_ids``), ``acquired_step``.
    """

    def __init__(self, sample_ids: Any) -> None:
        ids = check_ids(sample_ids, "sample_ids")
        self._universe = np.sort(ids)
        # status: -1 unlabelled, 0 labelled, 1 rejected; per universe position
        self._status = np.full(len(ids), -1, dtype=np.int8)
        self._label = np.full(len(ids), -1, dtype=np.int64)
        self._step = np.full(len(ids), -1, dtype=np.int64)
        self._order = np.full(len(ids), -1, dtype=np.int64)  # acquisition order
        self._counter = 0

    # --- queries ---------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._universe)

    @property
    def universe(self) -> np.ndarray:
        return self._universe.copy()

    def _ids_with(self, status: int) -> np.ndarray:
        pos = np.flatnonzero(self._status == status)
        return self._universe[pos[np.argsort(self._order[pos], kind="stable")]]

    @property
    def labelled_ids(self) -> np.ndarray:
        return self._ids_with(0)

    @property
    def rejected_ids(self) -> np.ndarray:
        return self._ids_with(1)

    @property
    def unlabelled_ids(self) -> np.ndarray:
        return self._universe[self._status == -1]

    @property
    def labels(self) -> np.ndarray:
        """Labels received for ``labelled_ids`` (same order)."""
        return self._label[self._pos(self.labelled_ids)]

    @property
    def acquired_step(self) -> np.ndarray:
        """Step at which each of ``labelled_ids`` was acquired (same order)."""
        return self._step[self._pos(self.labelled_ids)]

    @property
    def n_labelled(self) -> int:
        return int((self._status == 0).sum())

    @property
    def n_unlabelled(self) -> int:
        return int((self._status == -1).sum())

    @property
    def n_rejected(self) -> int:
        return int((self._status == 1).sum())

    def label_of(self, ids: Any) -> np.ndarray:
        """Received labels of labelled or rejected ``ids`` (-1 for unlabelled)."""
        return self._label[self._pos(ids)].copy()

    def step_of(self, ids: Any) -> np.ndarray:
        return self._step[self._pos(ids)].copy()

    def _pos(self, ids: Any) -> np.ndarray:
        ids = check_ids(ids, "ids", unique=False, allow_empty=True)
        pos = np.searchsorted(self._universe, ids)
        pos = np.clip(pos, 0, len(self._universe) - 1)
        bad = self._universe[pos] != ids
        if bad.any():
            raise ValueError(
                f"ids: expected ids of this pool, got unknown ids {ids[bad][:5].tolist()}"
            )
        return pos

    # --- updates ---------------------------------------------------------------------------

    def _move(self, ids: Any, labels: Any, step: int, status: int) -> None:
        ids = check_ids(ids, "ids", allow_empty=True)
        labels = check_labels(labels, "labels", n=len(ids), allow_empty=True)
        step = check_integer(step, "step", minimum=-1)  # -1: the initial labelled set
        pos = self._pos(ids)
        taken = self._status[pos] != -1
        if taken.any():
            raise ValueError(
                f"ids: expected unlabelled ids, got already labelled/rejected {ids[taken][:5].tolist()}"
            )
        self._status[pos] = status
        self._label[pos] = labels
        self._step[pos] = int(step)
        self._order[pos] = self._counter + np.arange(len(ids))
        self._counter += len(ids)

    def acquire(self, ids: Any, labels: Any, step: int) -> None:
        """Move unlabelled ``ids`` to the labelled set with their received ``labels``."""
        self._move(ids, labels, step, 0)

    def reject(self, ids: Any, labels: Any, step: int) -> None:
        """Move unlabelled ``ids`` to the rejected set (queried, label distrusted, never reused)."""
        self._move(ids, labels, step, 1)

    def undo(self, ids: Any) -> None:
        """Return labelled or rejected ``ids`` to the unlabelled set (forgetting their labels)."""
        ids = check_ids(ids, "ids", allow_empty=True)
        pos = self._pos(ids)
        if (self._status[pos] == -1).any():
            raise ValueError("ids: expected labelled or rejected ids to undo, got unlabelled ones")
        self._status[pos] = -1
        self._label[pos] = -1
        self._step[pos] = -1
        self._order[pos] = -1

    def undo_step(self, step: int) -> np.ndarray:
        """Undo everything acquired or rejected at ``step``; return those ids."""
        ids = self._universe[(self._status != -1) & (self._step == int(step))]
        if len(ids):
            self.undo(ids)
        return ids

    # --- persistence -----------------------------------------------------------------------

    def state_dict(self) -> dict[str, np.ndarray]:
        return {
            "universe": self._universe.copy(),
            "status": self._status.copy(),
            "label": self._label.copy(),
            "step": self._step.copy(),
            "order": self._order.copy(),
            "counter": np.asarray(self._counter, dtype=np.int64),
        }

    @classmethod
    def from_state_dict(cls, state: dict[str, Any]) -> Pool:
        keys = ("universe", "status", "label", "step", "order", "counter")
        if not isinstance(state, dict) or any(k not in state for k in keys):
            got = sorted(state) if isinstance(state, dict) else type(state).__name__
            raise ValueError(
                f"state: expected a Pool.state_dict() with keys {list(keys)}, got {got}"
            )
        pool = cls(state["universe"])
        status = np.asarray(state["status"], dtype=np.int8)
        if status.shape != pool._status.shape or not np.isin(status, (-1, 0, 1)).all():
            raise ValueError("state: expected a status array of -1/0/1 matching the universe")
        for k in ("label", "step", "order"):
            if np.shape(state[k]) != pool._status.shape:
                raise ValueError(f"state: expected {k!r} of shape {pool._status.shape}")
        pool._status = status
        pool._label = np.asarray(state["label"], dtype=np.int64)
        pool._step = np.asarray(state["step"], dtype=np.int64)
        pool._order = np.asarray(state["order"], dtype=np.int64)
        pool._counter = int(state["counter"])
        return pool

    def save(self, path: str | os.PathLike) -> None:
        """Write the pool to ``path`` (.npz) atomically."""
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.savez_compressed(fh, **self.state_dict())

    @classmethod
    def load(cls, path: str | os.PathLike) -> Pool:
        with np.load(Path(path), allow_pickle=False) as z:
            return cls.from_state_dict({k: z[k] for k in z.files})

    def __repr__(self) -> str:
        return f"Pool(labelled={self.n_labelled}, unlabelled={self.n_unlabelled}, rejected={self.n_rejected})"
