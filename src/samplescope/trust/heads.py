"""Oracle heads mapping backbone features ``h`` ``(B, D)`` to one discriminative value ``z`` ``(B,)``.

- :class:`HyperplaneHead` (Luo et al. 2021, eq. 7): the signed distance to the hyperplane
  ``z = (wᵀh + b) / ‖w‖``; ``‖w‖`` is recomputed at every forward and gradients flow
  through it, so ``z`` is invariant to a common rescaling of ``(w, b)``.
- :class:`LinearHead`: the plain linear output ``z = wᵀh + b`` (Luo appendix F).

Trust is ``σ(z)`` (higher = more trustworthy).
"""

from __future__ import annotations

import torch
from torch import nn

from .._validation import check_choice, check_integer, check_positive

__all__ = ["HyperplaneHead", "LinearHead", "make_head", "HEADS"]

HEADS = ("hyperplane", "linear")


class HyperplaneHead(nn.Module):
    """``z = (wᵀh + b)/‖w‖``; ``w`` ``(D,)``, ``b`` scalar; input ``(B, D)`` → ``(B,)``."""

    def __init__(self, in_features: int, eps: float = 1e-12) -> None:
        super().__init__()
        in_features = check_integer(in_features, "in_features")
        eps = check_positive(eps, "eps", strict=False)
        lin = nn.Linear(in_features, 1)  # same initialisation as a linear layer
        self.weight = nn.Parameter(lin.weight.detach().reshape(-1).clone())
        self.bias = nn.Parameter(lin.bias.detach().reshape(()).clone())
        self.eps = eps

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return (h @ self.weight + self.bias) / self.weight.norm().clamp_min(self.eps)


class LinearHead(nn.Module):
    """``z = wᵀh + b``; input ``(B, D)`` → ``(B,)``."""

    def __init__(self, in_features: int) -> None:
        super().__init__()
        self.linear = nn.Linear(check_integer(in_features, "in_features"), 1)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.linear(h).squeeze(-1)


def make_head(kind: str, in_features: int) -> nn.Module:
    """``"hyperplane"`` → :class:`HyperplaneHead`, ``"linear"`` → :class:`LinearHead`."""
    check_choice(kind, "head", HEADS)
    in_features = check_integer(in_features, "in_features")
    return HyperplaneHead(in_features) if kind == "hyperplane" else LinearHead(in_features)
