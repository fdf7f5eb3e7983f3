"""The M trained models of the stacked trainer (or the list of modules of its fallback)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from ...data.split import as_split
from ..trainer import predict_logits
from .plan import linear_layers

__all__ = ["ManyModels", "pad_index_sets"]


@dataclass
class ManyModels:
    """M trained models: stacked MLP weights (vectorised) or a list of modules (fallback).

    ``weights[k]`` ``(M, D_in, D_out)`` and ``biases[k]`` ``(M, 1, D_out)`` (or None) for the
    k-th Linear; ``history[m]`` is model m's per-epoch ``{"epoch", "train_loss", "train_acc"}``.
    ``margin_sum`` / ``margin_count`` ``(M, N)``: with ``fit_many(record_margins=True)``, the
    summed training-batch margins of model m on row i and their count (else None).
    """

    model_fn: Callable[..., nn.Module]
    plan: list[tuple[str, Any]] | None = None
    seeded: bool = False
    weights: list[torch.Tensor] = field(default_factory=list)
    biases: list[torch.Tensor | None] = field(default_factory=list)
    module_list: list[nn.Module] = field(default_factory=list)
    history: list[list[dict[str, float]]] = field(default_factory=list)
    margin_sum: np.ndarray | None = None
    margin_count: np.ndarray | None = None

    @property
    def vectorized(self) -> bool:
        return self.plan is not None

    def __len__(self) -> int:
        return self.weights[0].shape[0] if self.vectorized else len(self.module_list)

    def modules(self) -> list[nn.Module]:
        """The M models as ordinary ``nn.Module`` s (built by ``model_fn``, eval mode)."""
        if not self.vectorized:
            return list(self.module_list)
        out = []
        for m in range(len(self)):
            net = self.model_fn(0) if self.seeded else self.model_fn()
            with torch.no_grad():
                for k, lin in enumerate(linear_layers(net)):
                    lin.weight.copy_(self.weights[k][m].T)
                    b = self.biases[k]
                    if b is not None:
                        lin.bias.copy_(b[m, 0])
            out.append(net.eval())
        return out

    @torch.no_grad()
    def _forward(self, h: torch.Tensor) -> torch.Tensor:
        """Eval-mode forward; ``h`` ``(N, D)`` shared or ``(M, N, D)`` per model → ``(M, N, C)``."""
        assert self.plan is not None
        for kind, arg in self.plan:
            if kind == "linear":
                b = self.biases[arg]
                h = torch.matmul(h, self.weights[arg])
                if b is not None:
                    h = h + b
            elif kind == "act":
                h = arg(h)
        return h

    def predict_logits(self, x: Any, *, batch_size: int = 4096) -> np.ndarray:
        """Logits ``(M, N, C)`` float64 of every model on the same inputs ``x`` ``(N, ...)``."""
        xs = as_split(x).x if not isinstance(x, (np.ndarray, torch.Tensor)) else x
        xt = torch.as_tensor(np.asarray(xs, dtype=np.float32))
        if not self.vectorized:
            return np.stack([predict_logits(net, xt.numpy()) for net in self.module_list])
        xt = xt.reshape(len(xt), -1)
        out = [self._forward(xt[lo : lo + batch_size]) for lo in range(0, len(xt), batch_size)]
        return torch.cat(out, dim=1).numpy().astype(np.float64)

    def predict_logits_at(
        self, x: Any, index_sets: Sequence[Any], *, batch_size: int = 4096
    ) -> list[np.ndarray]:
        """Model m's logits ``(len(index_sets[m]), C)`` on rows ``index_sets[m]`` of ``x``."""
        xs = as_split(x).x if not isinstance(x, (np.ndarray, torch.Tensor)) else x
        idx = [np.asarray(i, dtype=np.int64) for i in index_sets]
        if len(idx) != len(self):
            raise ValueError(f"index_sets: expected {len(self)} index arrays, got {len(idx)}")
        if not self.vectorized:
            arr = np.asarray(xs)
            return [
                predict_logits(net, arr[i]) for net, i in zip(self.module_list, idx, strict=True)
            ]
        xt = torch.as_tensor(np.asarray(xs, dtype=np.float32))
        xt = xt.reshape(len(xt), -1)
        longest = max(len(i) for i in idx)
        pieces: list[list[torch.Tensor]] = [[] for _ in idx]
        for lo in range(0, longest, batch_size):
            pos, valid = pad_index_sets([i[lo : lo + batch_size] for i in idx])
            logits = self._forward(xt[pos])
            for m, n in enumerate(valid.sum(1).tolist()):
                pieces[m].append(logits[m, :n])
        return [torch.cat(p).numpy().astype(np.float64) for p in pieces]


def pad_index_sets(index_lists: Sequence[Any]) -> tuple[torch.Tensor, torch.Tensor]:
    """Pad M index arrays to ``(M, B_max)`` (pad value 0) with a validity mask ``(M, B_max)``."""
    lens = [len(i) for i in index_lists]
    width = max(max(lens), 1)
    pos = torch.zeros((len(index_lists), width), dtype=torch.int64)
    valid = torch.zeros((len(index_lists), width), dtype=torch.bool)
    for m, i in enumerate(index_lists):
        if lens[m]:
            pos[m, : lens[m]] = torch.as_tensor(i)
            valid[m, : lens[m]] = True
    return pos, valid
