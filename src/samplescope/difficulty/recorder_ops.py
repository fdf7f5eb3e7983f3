"""The per-batch arithmetic of :class:`samplescope.difficulty.DynamicsRecorder` (numpy).

``batch_stats``: ``p[y]``, the margin, correctness and cross-entropy of a batch of logits;
``forgetting_update``: Toneva et al. (2019)'s forgetting counters after one batch in which
positions may repeat. A batch is small (``B × C``), so numpy on the CPU is the cheapest
place for this work whatever device trains (a few microseconds per operation, against
several for a torch dispatch).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["as_array", "batch_stats", "forgetting_update"]


def as_array(x: Any, name: str) -> np.ndarray:
    """``x`` as a numpy array (tensors detached and copied to the CPU; half-precision floats,
    e.g. the logits of mixed-precision training, become float32)."""
    if hasattr(x, "detach") and hasattr(x, "cpu"):
        t = x.detach().cpu()
        if t.is_floating_point() and t.element_size() < 4:  # float16 / bfloat16
            t = t.float()
        return t.numpy()
    try:
        a = np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: expected an array or a tensor, got {type(x).__name__}") from exc
    if a.dtype == np.float16:
        a = a.astype(np.float32)
    if a.dtype == object:
        raise ValueError(f"{name}: expected a numeric array, got {type(x).__name__} of objects")
    return a


def batch_stats(logits: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, ...]:
    """``(p_y, margin, correct, ce)`` ``(B,)``, in ``logits``' float dtype (``correct`` bool):
    ``softmax(z)[y]``, ``z_y - max_{j≠y} z_j``, ``argmax z == y``, ``-log softmax(z)[y]``."""
    rows = np.arange(len(labels))
    zy = logits[rows, labels]
    top = logits.max(1)
    other = logits.copy()
    other[rows, labels] = -np.inf
    correct = logits.argmax(1) == labels
    margin = zy - other.max(1)
    lse = top + np.log(np.exp(logits - top[:, None]).sum(1))
    ce = lse - zy
    return np.exp(-ce), margin, correct, ce


def forgetting_update(
    prev: np.ndarray,
    ever: np.ndarray,
    forget: np.ndarray,
    pos: np.ndarray,
    correct: np.ndarray,
) -> None:
    """Update ``prev`` / ``ever`` (bool) and ``forget`` (float64 counts) ``(N,)`` in place
    after one batch at row positions ``pos`` with correctness ``correct`` ``(B,)``.

    A position drawn k times in the batch is k successive observations in batch order
    ``prev -> c_1 -> ... -> c_k``: the occurrences are grouped by a stable sort, each one's
    predecessor is the previous occurrence (or the state before the batch), transitions are
    summed with ``np.add.at`` and only the last occurrence writes ``prev``.
    """
    order = np.argsort(pos, kind="stable")
    sp, sc = pos[order], correct[order]
    first = np.ones(len(sp), dtype=bool)
    first[1:] = sp[1:] != sp[:-1]
    last = np.ones(len(sp), dtype=bool)
    last[:-1] = first[1:]
    before = np.empty_like(sc)
    before[1:] = sc[:-1]
    before = np.where(first, prev[sp], before)
    np.add.at(forget, sp, before & ~sc)
    prev[sp[last]] = sc[last]
    ever[sp[sc]] = True
