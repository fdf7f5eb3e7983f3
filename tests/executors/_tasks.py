"""Top-level seeded tasks used by the executor tests (importable by worker processes)."""

from __future__ import annotations

import numpy as np


def seeded_fit(shared: np.ndarray, seed: int) -> np.ndarray:
    """Train a tiny MLP for a few Adam steps on ``shared`` data; return its final weights."""
    import torch

    x = torch.as_tensor(shared)
    y = (x[:, 0] > 0).long()
    torch.manual_seed(seed)
    net = torch.nn.Sequential(
        torch.nn.Linear(x.shape[1], 8), torch.nn.Tanh(), torch.nn.Linear(8, 2)
    )
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    g = torch.Generator().manual_seed(seed)
    for _ in range(5):
        idx = torch.randperm(len(x), generator=g)[:32]
        loss = torch.nn.functional.cross_entropy(net(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return torch.cat([p.detach().flatten() for p in net.parameters()]).numpy()


def fail_on(seed: int, bad: int) -> int:
    if seed == bad:
        raise RuntimeError(f"task {seed} failed")
    return seed
