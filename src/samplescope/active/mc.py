"""MC-dropout predictions for the active-learning loop.

``mc_probs(model, x, samples=T)`` returns probabilities ``(T, N, C)`` through
:func:`samplescope.uncertainty.predict_stochastic`: the deterministic prefix before the
first dropout runs once per batch (eval mode), the stochastic rest runs T times with
chunk-invariant dropout masks. ``consistent_masks=True`` draws one dropout mask per sample
s shared by all inputs (needed by BatchBALD, whose joint entropies assume one ω_s across
the batch).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from ..data.split import as_input_array
from ..functional import softmax
from ..training import predict_logits
from ..training.checks import check_module, renamed_argument
from ..uncertainty import predict_stochastic

__all__ = ["mc_probs", "deterministic_probs"]


def mc_probs(
    model: nn.Module,
    x: Any,
    *,
    samples: int = 20,
    batch_size: int = 1024,
    seed: int = 0,
    consistent_masks: bool = False,
    device: str | torch.device = "cpu",
) -> np.ndarray:
    """MC-dropout probabilities ``(samples, N, C)`` float64 of ``model`` on inputs ``x (N, ...)``."""
    check_module(model)
    xa = x.x if hasattr(x, "x") else as_input_array(x, "x")
    with renamed_argument("data", "x"):
        p = predict_stochastic(
            model,
            xa,
            method="mc_dropout",
            samples=samples,
            batch_size=batch_size,
            seed=seed,
            consistent_masks=consistent_masks,
            device=device,
        )
    return np.asarray(p, dtype=np.float64)


@torch.no_grad()
def deterministic_probs(
    model: nn.Module, x: Any, *, batch_size: int = 1024, device: str | torch.device = "cpu"
) -> np.ndarray:
    """Eval-mode (dropout off) probabilities ``(1, N, C)``."""
    check_module(model)
    xa = x.x if hasattr(x, "x") else as_input_array(x, "x")
    with renamed_argument("data", "x"):
        z = predict_logits(model, xa, batch_size=batch_size, device=device)
    return softmax(z, axis=1)[None]
