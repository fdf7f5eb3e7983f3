"""Trust losses for training an oracle on a frozen classifier's correctness (Luo et al. 2021).

Every loss maps the oracle's discriminative output ``z`` ``(B,)`` (a signed distance to the
hyperplane, or a plain linear output), the correctness labels ``o`` ``(B,)`` in {0, 1}
(``o = 1[argmax classifier(x) = y]``) and the classifier's true-class probability
``p_true`` ``(B,)`` (used by TCP only) to a per-sample loss ``(B,)``. The trust score of
every loss is ``σ(z)`` (higher = more trustworthy); ``neg_threshold(K)`` is the threshold
at or below which a score counts as "untrustworthy" for TNR (0.5, or 1/K for TCP).

Registry (timm-style): :func:`register_trust_loss`, :func:`list_trust_losses`,
:func:`get_trust_loss`. Built-ins:

- ``ce``: binary cross-entropy, Luo eq. (4): ``-o log σ(z) - (1-o) log(1-σ(z))``.
- ``focal``: Luo eq. (5) / Lin et al. 2017, ``γ = 2``:
  ``-o (1-σ)^γ log σ - (1-o) σ^γ log(1-σ)``.
- ``tcp``: Corbière et al. 2019 / Luo eq. (6): ``(σ(z) - p_classifier[y])²``; TNR threshold 1/K.
- ``ss``: steep slope loss in the form of Luo's reference code (the paper's printed eq. (8)
  has the exponent signs flipped, see REFERENCE.md §4), with ``s = z/(1+|z|)``::

      loss_pos = exp(-α⁺ (s - β⁺)) - exp(-α⁺)          (o = 1, falls as z grows)
      loss_neg = exp( α⁻ (s - β⁻)) - exp(-α⁻)          (o = 0, falls as z drops)
      L = o·loss_pos + (1-o)·loss_neg

  With the default shifts ``β⁺ = β⁻ = 0`` each branch lies in ``[0, e^α - e^-α]``
  (s ∈ (-1, 1)). The optional shifts ``β`` move a slide along the softsign axis
  (``s - β``); they are our documented extension, off by default.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch.nn import functional as F

from .._validation import check_name, check_number, check_positive

__all__ = [
    "TrustLoss",
    "CrossEntropyTrustLoss",
    "FocalTrustLoss",
    "TCPTrustLoss",
    "SteepSlopeLoss",
    "steep_slope_loss",
    "register_trust_loss",
    "list_trust_losses",
    "get_trust_loss",
    "describe_trust_loss",
    "check_trust_batch",
]


def check_trust_batch(z: Any, o: Any, p_true: Any = None) -> None:
    """Shapes of a trust loss's inputs: ``z`` ``(B,)``, ``o`` ``(B,)`` in [0, 1] and ``p_true``
    ``(B,)`` when given (``ValueError`` naming the argument otherwise)."""
    if not isinstance(z, torch.Tensor) or z.ndim != 1:
        got = tuple(z.shape) if isinstance(z, torch.Tensor) else type(z).__name__
        raise ValueError(f"z: expected a (B,) tensor of oracle outputs, got {got}")
    for name, t in (("o", o), ("p_true", p_true)):
        if t is None and name == "p_true":
            continue
        if not isinstance(t, torch.Tensor) or t.shape != z.shape:
            got = tuple(t.shape) if isinstance(t, torch.Tensor) else type(t).__name__
            raise ValueError(f"{name}: expected a ({z.shape[0]},) tensor like z, got {got}")
        if t.numel() and not bool(((t >= 0) & (t <= 1)).all()):
            raise ValueError(f"{name}: expected values in [0, 1], got values outside (or NaN)")


class TrustLoss:
    """Base class: ``loss(z, o, p_true=None) -> (B,)`` per-sample losses.

    Attributes:
        name: registry name.
        needs_p_true: whether the loss uses the classifier's true-class probability.
    """

    name = "base"
    needs_p_true = False

    def __call__(
        self, z: torch.Tensor, o: torch.Tensor, p_true: torch.Tensor | None = None
    ) -> torch.Tensor:
        raise NotImplementedError

    def neg_threshold(self, num_classes: int) -> float:
        """Trust at or below this counts as a predicted error (TNR); 0.5 by default."""
        return 0.5

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({params})"


class CrossEntropyTrustLoss(TrustLoss):
    """Binary cross-entropy on ``σ(z)`` vs ``o`` (Luo eq. 4)."""

    name = "ce"

    def __call__(
        self, z: torch.Tensor, o: torch.Tensor, p_true: torch.Tensor | None = None
    ) -> torch.Tensor:
        check_trust_batch(z, o, p_true)
        return F.binary_cross_entropy_with_logits(z, o.to(z.dtype), reduction="none")


class FocalTrustLoss(TrustLoss):
    """Binary focal loss (Lin et al. 2017; Luo eq. 5): ``-(1 - p_t)^γ log p_t``, ``γ = 2``."""

    name = "focal"

    def __init__(self, gamma: float = 2.0) -> None:
        self.gamma = check_positive(gamma, "gamma", strict=False)

    def __call__(
        self, z: torch.Tensor, o: torch.Tensor, p_true: torch.Tensor | None = None
    ) -> torch.Tensor:
        check_trust_batch(z, o, p_true)
        o = o.to(z.dtype)
        # log p_t computed stably: log σ(z) for o = 1, log σ(-z) for o = 0
        signed = torch.where(o > 0.5, z, -z)
        log_pt = F.logsigmoid(signed)
        return -((1 - log_pt.exp()) ** self.gamma) * log_pt


class TCPTrustLoss(TrustLoss):
    """True class probability regression (Corbière 2019): ``(σ(z) - p_classifier[y])²``."""

    name = "tcp"
    needs_p_true = True

    def __call__(
        self, z: torch.Tensor, o: torch.Tensor, p_true: torch.Tensor | None = None
    ) -> torch.Tensor:
        check_trust_batch(z, o, p_true)
        if p_true is None:
            raise ValueError(
                "p_true: the TCP loss needs the classifier's true-class probability, got None"
            )
        return (torch.sigmoid(z) - p_true.to(z.dtype)) ** 2

    def neg_threshold(self, num_classes: int) -> float:
        """1/K (Corbière 2019; Luo §2)."""
        return 1.0 / num_classes


def steep_slope_loss(
    z: torch.Tensor,
    o: torch.Tensor,
    alpha_pos: float = 1.0,
    alpha_neg: float = 1.0,
    beta_pos: float = 0.0,
    beta_neg: float = 0.0,
) -> torch.Tensor:
    """Per-sample steep slope loss ``(B,)`` (reference-code signs, see the module docstring).

    ``loss_pos = exp(-α⁺ (s-β⁺)) - exp(-α⁺)``, ``loss_neg = exp(α⁻ (s-β⁻)) - exp(-α⁻)``,
    ``s = z / (1 + |z|)``; ``L = o·loss_pos + (1-o)·loss_neg``.
    """
    check_trust_batch(z, o)
    o = o.to(z.dtype)
    s = z / (1 + z.abs())
    loss_pos = torch.exp(-alpha_pos * (s - beta_pos)) - math.exp(-alpha_pos)
    loss_neg = torch.exp(alpha_neg * (s - beta_neg)) - math.exp(-alpha_neg)
    return o * loss_pos + (1 - o) * loss_neg


class SteepSlopeLoss(TrustLoss):
    """Steep slope loss (Luo et al. 2021, §3.2, signs as in the reference code).

    Args:
        alpha_pos, alpha_neg: slide heights α⁺, α⁻ > 0 (paper: ViT 1/3, ResNet 2/5).
        beta_pos, beta_neg: optional shifts of the slides along ``s = z/(1+|z|)`` (default 0).
    """

    name = "ss"

    def __init__(
        self,
        alpha_pos: float = 1.0,
        alpha_neg: float = 1.0,
        beta_pos: float = 0.0,
        beta_neg: float = 0.0,
    ) -> None:
        self.alpha_pos = check_positive(alpha_pos, "alpha_pos")
        self.alpha_neg = check_positive(alpha_neg, "alpha_neg")
        self.beta_pos = check_number(beta_pos, "beta_pos")
        self.beta_neg = check_number(beta_neg, "beta_neg")

    def __call__(
        self, z: torch.Tensor, o: torch.Tensor, p_true: torch.Tensor | None = None
    ) -> torch.Tensor:
        return steep_slope_loss(z, o, self.alpha_pos, self.alpha_neg, self.beta_pos, self.beta_neg)

    @property
    def max_loss(self) -> float:
        """Upper bound ``max(e^α⁺ - e^-α⁺, e^α⁻ - e^-α⁻)`` when the shifts are 0 (Luo Thm 3.1)."""
        return max(2 * math.sinh(self.alpha_pos), 2 * math.sinh(self.alpha_neg))


_LOSSES: dict[str, tuple[Callable[..., TrustLoss], str]] = {}


def register_trust_loss(name: str, description: str = "") -> Callable[[Any], Any]:
    """Decorator registering a :class:`TrustLoss` factory (class or function) as ``name``."""
    check_name(name)
    if not isinstance(description, str):
        raise ValueError(f"description: expected a string, got {description!r}")

    def deco(factory: Any) -> Any:
        if not callable(factory):
            raise ValueError(f"factory: expected a TrustLoss class or factory, got {factory!r}")
        if name in _LOSSES and _LOSSES[name][0] is not factory:
            raise ValueError(f"name: trust loss {name!r} is already registered")
        _LOSSES[name] = (factory, description)
        return factory

    return deco


def list_trust_losses() -> list[str]:
    """Names of the registered trust losses, sorted."""
    return sorted(_LOSSES)


def get_trust_loss(name: str | TrustLoss, **params: Any) -> TrustLoss:
    """An instance of the trust loss ``name`` built with ``params`` (a TrustLoss passes through)."""
    if isinstance(name, TrustLoss):
        if params:
            raise ValueError(
                f"params: expected none with a TrustLoss instance, got {sorted(params)}"
            )
        return name
    if name not in _LOSSES:
        raise ValueError(f"loss: expected one of {list_trust_losses()}, got {name!r}")
    try:
        return _LOSSES[name][0](**params)
    except TypeError as exc:
        raise ValueError(
            f"params: invalid parameters {sorted(params)} for trust loss {name!r}: {exc}"
        ) from exc


def describe_trust_loss(name: str) -> str:
    """One-line description of a registered loss."""
    if name not in _LOSSES:
        raise ValueError(f"loss: expected one of {list_trust_losses()}, got {name!r}")
    return _LOSSES[name][1]


register_trust_loss("ce", "binary cross-entropy on sigmoid(z) (Luo eq. 4)")(CrossEntropyTrustLoss)
register_trust_loss("focal", "binary focal loss, gamma=2 (Lin 2017; Luo eq. 5)")(FocalTrustLoss)
register_trust_loss("tcp", "(sigmoid(z) - p_classifier[y])^2, TNR threshold 1/K (Corbiere 2019)")(
    TCPTrustLoss
)
register_trust_loss("ss", "steep slope loss, alpha+/alpha- (Luo 2021, reference-code signs)")(
    SteepSlopeLoss
)
