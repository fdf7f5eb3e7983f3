"""Self-paced learning (Kumar, Packer & Koller, NeurIPS 2010; linear variant Jiang et al. 2014).

Per-sample weight from the loss ``ℓ`` and the age parameter ``λ`` (easy-first):

- hard:   ``v = 1[ℓ < λ]``;
- linear: ``v = max(0, 1 - ℓ/λ)``.

Pacing: ``λ`` grows over training. With ``lam=None`` (default) ``λ`` is the loss quantile of
the batch at the pacing rate ``r(e) = start + (end - start) · min(1, e / ramp)``: the
``k = ceil(r·B)`` smallest losses fall under ``λ`` (``λ`` = the (k+1)-th smallest loss,
``+inf`` when ``k = B``). With ``lam=λ0`` it is the classic schedule ``λ_e = λ0 · growth^e``.
With ``rescale=True`` the batch weights are divided by their mean (the objective is the
mean loss over the selected samples); the selected set is unchanged.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from .._validation import (
    check_array,
    check_choice,
    check_fraction,
    check_integer,
    check_positive,
)
from .base import DynamicScheme, rescale_mean_one

__all__ = ["spl_weights", "spl_threshold", "SelfPaced"]


def spl_weights(losses: Any, lam: float, kind: str = "hard") -> np.ndarray:
    """SPL weights ``(N,)`` for losses ``(N,)`` at age ``λ`` (``+inf`` selects everything)."""
    ell = check_array(losses, "losses", ndim=1)
    check_choice(kind, "kind", ("hard", "linear"))
    try:
        lam = float(lam) if not isinstance(lam, (str, bytes)) else float("nan")
    except (TypeError, ValueError):
        lam = float("nan")
    if not lam > 0:  # NaN fails too
        raise ValueError(f"lam: expected a positive number (or inf), got {lam!r}")
    return _spl(torch.as_tensor(ell), lam, kind).numpy()


def _spl(ell: torch.Tensor, lam: float, kind: str) -> torch.Tensor:
    if math.isinf(lam):
        return torch.ones_like(ell)
    if kind == "hard":
        return (ell < lam).to(ell.dtype)
    return torch.clamp(1.0 - ell / lam, min=0.0)


def spl_threshold(losses: Any, rate: float) -> float:
    """``λ`` such that exactly ``k = ceil(rate·B)`` losses are ``< λ`` (ties aside): the (k+1)-th smallest.

    Args:
        losses: finite per-sample losses ``(B,)`` (a tensor or an array), ``B >= 1``.
        rate: the pacing rate, in (0, 1].
    """
    ell = torch.as_tensor(check_array(losses, "losses", ndim=1))
    rate = check_fraction(rate, "rate")
    if rate == 0:
        raise ValueError("rate: expected a pacing rate in (0, 1], got 0")
    return _spl_threshold(ell, rate)


def _spl_threshold(losses: torch.Tensor, rate: float) -> float:
    B = losses.numel()
    k = min(B, max(1, math.ceil(rate * B)))
    if k >= B:
        return math.inf
    return float(torch.sort(losses.flatten()).values[k])


class SelfPaced(DynamicScheme):
    """Self-paced learning as a dynamic weighting (see the module docstring).

    Args:
        kind: ``"hard"`` or ``"linear"``.
        start: pacing rate at epoch 0 (fraction of each batch under λ), in (0, 1].
        end: final pacing rate, in [start, 1] (e.g. ``1 - noise rate``).
        ramp_epochs: epochs to reach rate 1 (default: all epochs).
        lam: fixed initial age λ0 instead of the quantile pacing; growth: ``λ_e = λ0·growth^e``.
        rescale: divide the batch weights by their mean.
    """

    name = "spl"

    def __init__(
        self,
        kind: str = "hard",
        *,
        start: float = 0.5,
        end: float = 1.0,
        ramp_epochs: int | None = None,
        lam: float | None = None,
        growth: float = 1.1,
        rescale: bool = True,
    ) -> None:
        self.kind = check_choice(kind, "kind", ("hard", "linear"))
        self.start = check_fraction(start, "start")
        if self.start == 0:
            raise ValueError("start: expected a pacing rate in (0, 1], got 0")
        self.end = check_fraction(end, "end")
        if self.end < self.start:
            raise ValueError(
                f"end: expected a final rate >= start ({self.start:g}), got {self.end:g}"
            )
        self.ramp_epochs = (
            None if ramp_epochs is None else check_integer(ramp_epochs, "ramp_epochs")
        )
        self.lam = None if lam is None else check_positive(lam, "lam")
        self.growth = check_positive(growth, "growth")
        self.rescale = bool(rescale)

    def rate(self, epoch: int, epochs: int) -> float:
        ramp = self.ramp_epochs or max(epochs, 1)
        return self.start + (self.end - self.start) * min(1.0, epoch / ramp)

    def threshold(self, losses: torch.Tensor, epoch: int, epochs: int) -> float:
        if self.lam is not None:
            return self.lam * self.growth**epoch
        return _spl_threshold(losses, self.rate(epoch, epochs))

    def weights(
        self, losses: torch.Tensor, *, epoch: int = 0, epochs: int = 1, **_: Any
    ) -> torch.Tensor:
        v = _spl(losses.detach().float(), self.threshold(losses.detach(), epoch, epochs), self.kind)
        return rescale_mean_one(v) if self.rescale else v
