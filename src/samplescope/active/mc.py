"""MC-dropout predictions for the active-learning loop.

``mc_probs(model, x, samples=T)`` returns probabilities ``(T, N, C)``. It uses
``samplescope.uncertainty.predict_stochastic`` when that is available and otherwise an
equivalent local implementation: the deterministic prefix before the first dropout runs
once per batch (eval mode), the stochastic rest runs T times with dropout active.
``consistent_masks=True`` draws one dropout mask per sample s shared by all inputs (needed
by BatchBALD, whose joint entropies assume one ω_s across the batch).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from ..models import split_at_first_dropout

__all__ = ["mc_probs", "deterministic_probs"]

_DROPOUT_TYPES = (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d)


def _predict_stochastic() -> Any:
    try:
        from ..uncertainty import predict_stochastic  # type: ignore[attr-defined]
    except ImportError:
        return None
    return predict_stochastic


def _run_rest(
    rest: nn.Sequential, h: torch.Tensor, gen: torch.Generator, consistent: bool
) -> torch.Tensor:
    for layer in rest:
        if isinstance(layer, _DROPOUT_TYPES) and layer.p > 0:
            shape = (1, *h.shape[1:]) if consistent else h.shape
            keep = torch.rand(shape, generator=gen) >= layer.p
            h = h * keep / (1.0 - layer.p)
        else:
            h = layer(h)
    return h


@torch.no_grad()
def _local_mc_probs(
    model: nn.Module, x: np.ndarray, samples: int, batch_size: int, seed: int, consistent: bool
) -> np.ndarray:
    prefix, rest = split_at_first_dropout(model)
    was = model.training
    model.eval()
    gen = torch.Generator().manual_seed(int(seed))
    n = len(x)
    chunks = []
    try:
        # consistent masks must be the same for every batch: draw them per sample, per batch
        # from a generator re-seeded identically for every batch
        for lo in range(0, n, batch_size):
            h = prefix(torch.as_tensor(x[lo : lo + batch_size]))
            if consistent:
                gen.manual_seed(int(seed))
            chunk = torch.stack(
                [torch.softmax(_run_rest(rest, h, gen, consistent), dim=1) for _ in range(samples)]
            )
            chunks.append(chunk.numpy())
    finally:
        model.train(was)
    return np.concatenate(chunks, axis=1).astype(np.float64)


def mc_probs(
    model: nn.Module,
    x: Any,
    *,
    samples: int = 20,
    batch_size: int = 1024,
    seed: int = 0,
    consistent_masks: bool = False,
) -> np.ndarray:
    """MC-dropout probabilities ``(samples, N, C)`` of ``model`` on inputs ``x (N, ...)``."""
    xa = x.x if hasattr(x, "x") else np.asarray(x, dtype=np.float32)
    ps = _predict_stochastic()
    if ps is not None:
        return np.asarray(
            ps(
                model,
                xa,
                method="mc_dropout",
                samples=samples,
                batch_size=batch_size,
                seed=seed,
                consistent_masks=consistent_masks,
            ),
            dtype=np.float64,
        )
    return _local_mc_probs(model, xa, int(samples), int(batch_size), int(seed), consistent_masks)


@torch.no_grad()
def deterministic_probs(model: nn.Module, x: Any, *, batch_size: int = 1024) -> np.ndarray:
    """Eval-mode (dropout off) probabilities ``(1, N, C)``."""
    from ..training import predict_logits

    xa = x.x if hasattr(x, "x") else np.asarray(x, dtype=np.float32)
    z = predict_logits(model, xa, batch_size=batch_size)
    z = z - z.max(axis=1, keepdims=True)
    p = np.exp(z)
    return (p / p.sum(axis=1, keepdims=True))[None]
