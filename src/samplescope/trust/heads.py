"""Oracle heads mapping backbone features ``h`` ``(B, D)`` to one discriminative value ``z`` ``(B,)``.

- :class:`HyperplaneHead` (Luo et al. 2021, eq. 7): the signed distance to the hyperplane
  ``z = (wᵀh + b) / ‖w‖``; ``‖w‖`` is recomputed at every forward and gradients flow
  through it, so ``z`` is invariant to a common rescaling of ``(w, b)``.
- :class:`LinearHead`: the plain linear output ``z = wᵀh + b`` (Luo appendix F).
- :class:`MSPAnchoredHead`: ``z = a · logit(s_MSP(x)) + b + wᵀh`` with ``a = 1``, ``b = 0``,
  ``w = 0`` at initialisation, so the untrained oracle's trust ``σ(z)`` *is* the classifier's
  maximum softmax probability (MCP) and ranks samples exactly as MCP does; training moves it
  only where the correctness labels say. ``logit(s_MSP) = l_ĉ − logsumexp_{c≠ĉ} l_c``
  (:func:`msp_logit`, computed from the logits ``l`` without forming ``s_MSP``, so it does not
  saturate at ``s_MSP = 1``).

Every head maps ``(h, anchor)`` → ``z``; only the anchored head reads ``anchor`` (the
classifier's ``msp_logit`` ``(B,)``), the others ignore it (``needs_anchor = False``).
Trust is ``σ(z)`` (higher = more trustworthy).
"""

from __future__ import annotations

import torch
from torch import nn

from .._validation import check_choice, check_integer, check_positive

__all__ = ["HyperplaneHead", "LinearHead", "MSPAnchoredHead", "make_head", "msp_logit", "HEADS"]

HEADS = ("hyperplane", "linear", "msp")


def msp_logit(logits: torch.Tensor) -> torch.Tensor:
    """``logit(max_c softmax(l)_c) = l_ĉ − logsumexp_{c≠ĉ} l_c`` ``(B,)`` from logits ``(B, C)``.

    Strictly increasing in the maximum softmax probability; finite even where it rounds to 1.
    """
    if not isinstance(logits, torch.Tensor) or logits.ndim != 2 or logits.shape[1] < 2:
        got = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__
        raise ValueError(f"logits: expected a (B, C) tensor with C >= 2, got {got}")
    top, idx = logits.max(1)
    rest = logits.scatter(1, idx[:, None], float("-inf"))
    return top - torch.logsumexp(rest, 1)


class HyperplaneHead(nn.Module):
    """``z = (wᵀh + b)/‖w‖``; ``w`` ``(D,)``, ``b`` scalar; input ``(B, D)`` → ``(B,)``."""

    needs_anchor = False

    def __init__(self, in_features: int, eps: float = 1e-12) -> None:
        super().__init__()
        in_features = check_integer(in_features, "in_features")
        eps = check_positive(eps, "eps", strict=False)
        lin = nn.Linear(in_features, 1)  # same initialisation as a linear layer
        self.weight = nn.Parameter(lin.weight.detach().reshape(-1).clone())
        self.bias = nn.Parameter(lin.bias.detach().reshape(()).clone())
        self.eps = eps

    def forward(self, h: torch.Tensor, anchor: torch.Tensor | None = None) -> torch.Tensor:
        return (h @ self.weight + self.bias) / self.weight.norm().clamp_min(self.eps)


class LinearHead(nn.Module):
    """``z = wᵀh + b``; input ``(B, D)`` → ``(B,)``."""

    needs_anchor = False

    def __init__(self, in_features: int) -> None:
        super().__init__()
        self.linear = nn.Linear(check_integer(in_features, "in_features"), 1)

    def forward(self, h: torch.Tensor, anchor: torch.Tensor | None = None) -> torch.Tensor:
        return self.linear(h).squeeze(-1)


class MSPAnchoredHead(nn.Module):
    """``z = a · anchor + b + wᵀh`` with ``anchor = msp_logit(classifier logits)`` ``(B,)``.

    Initialised at ``a = 1``, ``b = 0``, ``w = 0``: then ``σ(z) = s_MSP`` exactly (the
    correction ``g(h) = wᵀh + b`` starts at zero). Input ``h`` ``(B, D)`` → ``(B,)``.
    """

    needs_anchor = True

    def __init__(self, in_features: int, scale: float = 1.0) -> None:
        super().__init__()
        in_features = check_integer(in_features, "in_features")
        scale = check_positive(scale, "scale")
        self.scale = nn.Parameter(torch.tensor(float(scale)))
        self.weight = nn.Parameter(torch.zeros(in_features))
        self.bias = nn.Parameter(torch.zeros(()))

    def forward(self, h: torch.Tensor, anchor: torch.Tensor | None = None) -> torch.Tensor:
        if anchor is None:
            raise ValueError("anchor: the MSP-anchored head needs the classifier's msp_logit")
        return self.scale * anchor.to(h.dtype) + self.bias + h @ self.weight


def make_head(kind: str, in_features: int) -> nn.Module:
    """``"hyperplane"`` → :class:`HyperplaneHead`, ``"linear"`` → :class:`LinearHead`,
    ``"msp"`` → :class:`MSPAnchoredHead`."""
    check_choice(kind, "head", HEADS)
    in_features = check_integer(in_features, "in_features")
    cls = {"hyperplane": HyperplaneHead, "linear": LinearHead, "msp": MSPAnchoredHead}[kind]
    return cls(in_features)
