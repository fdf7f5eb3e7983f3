"""A lean retraining loop for active learning on a CPU: plain minibatch Adam, no callbacks.

Active learning retrains from scratch at every step, thousands of times per benchmark, on
small labelled sets; :func:`samplescope.training.fit` (per-sample losses, callbacks,
progress, data loaders) costs milliseconds per update there. This loop keeps the labelled
set as one tensor and runs ``updates`` steps of Adam on the mean cross-entropy over
reshuffled minibatches (sampling without replacement within each pass), with **early
stopping on the labelled set**: every ``check_every`` updates the mean training loss of the
pass is compared with ``early_stop_loss`` and training ends once it is below (the model then
fits its labels; Gal et al. 2017 train for a fixed 50 epochs instead, the GPU protocol).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .._validation import check_integer, check_positive
from ..data.split import as_input_array

__all__ = ["fast_fit"]


def fast_fit(
    model: nn.Module,
    x: np.ndarray,
    y: np.ndarray,
    *,
    updates: int,
    batch_size: int = 64,
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    early_stop_loss: float = 0.0,
    min_updates: int = 0,
    seed: int = 0,
    device: str | torch.device = "cpu",
) -> int:
    """Train ``model`` in place on ``x (N, ...)``, ``y (N,)``; return the updates run.

    Loss: ``mean_i CE(model(x_i), y_i)`` per minibatch; Adam(lr, coupled L2 ``weight_decay``).
    Stops after ``updates`` steps, or once the mean loss over the last pass (>= ``min_updates``
    steps done) is below ``early_stop_loss`` (0 = never).
    """
    updates = check_integer(updates, "updates")
    batch_size = check_integer(batch_size, "batch_size")
    check_positive(lr, "lr")
    check_positive(weight_decay, "weight_decay", strict=False)
    check_positive(early_stop_loss, "early_stop_loss", strict=False)
    if len(x) != len(y) or len(x) == 0:
        raise ValueError(f"y: expected {len(x)} labels for {len(x)} inputs (N >= 1), got {len(y)}")
    dev = torch.device(device)
    xt = torch.as_tensor(as_input_array(x, "x"), device=dev)
    yt = torch.as_tensor(np.asarray(y, dtype=np.int64), device=dev)
    n = len(xt)
    b = min(batch_size, n)
    per_pass = max(1, n // b)  # full batches per pass (a short tail would be a noisy step)
    gen = torch.Generator().manual_seed(int(seed))
    model.to(dev).train()
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    loss_fn = nn.CrossEntropyLoss()
    done, run_loss, run_n = 0, 0.0, 0
    while done < updates:
        order = torch.randperm(n, generator=gen).to(dev)
        for j in range(per_pass):
            idx = order[j * b : (j + 1) * b]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
            run_loss += float(loss.detach())
            run_n += 1
            done += 1
            if done >= updates:
                break
        if early_stop_loss > 0 and done >= min_updates and run_loss / run_n < early_stop_loss:
            break
        run_loss, run_n = 0.0, 0
    model.eval()
    return done
