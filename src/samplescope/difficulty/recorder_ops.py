"""The per-batch arithmetic of :class:`samplescope.difficulty.DynamicsRecorder`.

``batch_stats``: ``p[y]``, the margin and correctness of a batch of logits;
``forgetting_update``: Toneva et al. (2019)'s forgetting counters after one batch.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

__all__ = ["as_tensor", "batch_stats", "forgetting_update"]


def as_tensor(x: Any, name: str, device: torch.device | None) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        t = x.detach()
    else:
        try:
            t = torch.as_tensor(np.asarray(x))
        except (TypeError, ValueError, RuntimeError) as exc:
            raise ValueError(
                f"{name}: expected an array or a tensor, got {type(x).__name__}"
            ) from exc
    return t if device is None else t.to(device)


def batch_stats(logits: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """``(p_y, margin, correct)`` ``(B,)`` in ``logits``' dtype: ``softmax(z)[y]``,
    ``z_y - max_{j≠y} z_j`` and ``argmax z == y`` (bool)."""
    rows = torch.arange(len(labels), device=logits.device)
    zy = logits[rows, labels]
    top2 = logits.topk(2, dim=1)
    correct = top2.indices[:, 0] == labels
    margin = zy - torch.where(correct, top2.values[:, 1], top2.values[:, 0])
    p_y = torch.log_softmax(logits, dim=1)[rows, labels].exp()
    return p_y, margin, correct


def forgetting_update(
    prev: torch.Tensor,
    ever: torch.Tensor,
    forget: torch.Tensor,
    pos: torch.Tensor,
    correct: torch.Tensor,
) -> None:
    """Update ``prev`` / ``ever`` (bool) and ``forget`` (float64 counts) ``(N,)`` in place
    after one batch at row positions ``pos`` with correctness ``correct`` ``(B,)``.

    A position drawn k times in the batch is k successive observations in batch order
    ``prev -> c_1 -> ... -> c_k``: the occurrences are grouped by a stable sort, each one's
    predecessor is the previous occurrence (or the state before the batch), transitions are
    summed with ``index_add_`` and only the last occurrence writes ``prev`` (no repeated
    index is ever written with different values).
    """
    sp, order = torch.sort(pos, stable=True)
    sc = correct[order]
    first = torch.ones_like(sc)
    first[1:] = sp[1:] != sp[:-1]
    last = torch.ones_like(sc)
    last[:-1] = first[1:]
    before = torch.empty_like(sc)
    before[1:] = sc[:-1]
    before = torch.where(first, prev[sp], before)
    forget.index_add_(0, sp, (before & ~sc).double())
    prev[sp[last]] = sc[last]
    ever[sp[sc]] = True
