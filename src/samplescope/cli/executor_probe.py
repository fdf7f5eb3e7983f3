"""A tiny seeded task for checking that an executor runs and reproduces in-process results."""

from __future__ import annotations

import os
import socket

__all__ = ["probe_task"]


def probe_task(seed: int) -> tuple[float, str]:
    """Train a 2-layer MLP on 256 random points for 20 Adam steps; return (final loss, host:pid).

    Deterministic in ``seed`` on any machine with the same torch build.
    """
    import torch

    g = torch.Generator().manual_seed(seed)
    x = torch.randn(256, 8, generator=g)
    y = (x[:, 0] + x[:, 1] > 0).long()
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    loss = torch.tensor(0.0)
    for _ in range(20):
        loss = torch.nn.functional.cross_entropy(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return float(loss.detach()), f"{socket.gethostname()}:{os.getpid()}"


def warm_up_task(seconds: float = 0.3) -> str:
    """Import torch and samplescope's trainer and build an optimizer once (the first
    ``torch.optim`` construction in a process costs seconds), then hold the worker for
    ``seconds`` so that a batch of these tasks reaches every worker. Returns ``host:pid``."""
    import time

    from ..training import trainer  # noqa: F401

    _, where = probe_task(0)
    time.sleep(seconds)
    return where
