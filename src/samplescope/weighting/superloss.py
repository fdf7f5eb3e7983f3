"""SuperLoss (Castells, Weinzaepfel & Revaud, NeurIPS 2020): a closed-form confidence weight.

Per sample, ``L_λ(ℓ, σ) = (ℓ - τ) σ + λ (log σ)²`` is minimised over ``σ > 0`` in closed form::

    σ* = exp(-W₀(½ · max(-2/e, (ℓ - τ)/λ)))

(``W₀`` the principal branch of Lambert W, ``scipy.special.lambertw``): the unique minimiser
on ``(0, e]``, where ``log σ / σ`` is increasing (for ``ℓ < τ`` the objective also decreases
without bound as ``σ → ∞``; the ``W₀`` stationary point is the one SuperLoss uses). Easy samples
(``ℓ < τ``) get ``σ* > 1``, hard ones ``σ* < 1``; ``σ* ∈ (0, e]``. The clamp at ``-2/e`` is
where the objective stops having a minimiser (for ``(ℓ-τ)/λ < -2/e`` it decreases without
bound in σ). ``σ*`` is treated as a constant (no gradient through it), so
``∇_θ L = σ* ∇_θ ℓ``: the trainer's weighted loss ``σ* ℓ`` has exactly SuperLoss's gradient.
Threshold ``τ = log C`` (default) or an exponential moving average of the batch mean loss.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from .._validation import check_array, check_fraction, check_number, check_positive
from .base import DynamicScheme

__all__ = ["superloss_sigma", "superloss_objective", "SuperLoss"]


def _sigma(ell: np.ndarray, tau: float, lam: float) -> np.ndarray:
    from scipy.special import lambertw

    arg = 0.5 * np.maximum(-2.0 / math.e, (ell - tau) / lam)
    w = np.real(lambertw(np.maximum(arg, -1.0 / math.e + 1e-15), 0))
    w = np.where(
        arg <= -1.0 / math.e + 1e-15, -1.0, w
    )  # W0(-1/e) = -1 (branch point; lambertw may give nan)
    return np.exp(-w)


def superloss_sigma(losses: Any, tau: float, lam: float = 1.0) -> np.ndarray:
    """Optimal confidences ``σ* (N,)`` for losses ``(N,)`` (see the module docstring)."""
    ell = check_array(losses, "losses", ndim=1)
    tau = check_number(tau, "tau")
    lam = check_positive(lam, "lam")
    return _sigma(ell, tau, lam)


def superloss_objective(loss: float, sigma: float, tau: float, lam: float = 1.0) -> float:
    """``(ℓ - τ) σ + λ (log σ)²`` for one sample (the quantity σ* minimises); ``σ > 0``, ``λ > 0``."""
    loss = check_number(loss, "loss")
    sigma = check_positive(sigma, "sigma")
    tau = check_number(tau, "tau")
    lam = check_positive(lam, "lam")
    return (loss - tau) * sigma + lam * math.log(sigma) ** 2


class SuperLoss(DynamicScheme):
    """SuperLoss weights ``σ*`` per batch.

    Args:
        tau: ``"log"`` (``log C``, C read from the logits), ``"ema"`` (moving average of the
            batch mean loss, started at the first batch's mean) or a number.
        lam: regularisation λ > 0 (larger = weights closer to 1).
        ema_decay: ``τ ← decay·τ + (1 - decay)·mean(ℓ)`` for ``tau="ema"``.
    """

    name = "superloss"

    def __init__(
        self, tau: str | float = "log", *, lam: float = 1.0, ema_decay: float = 0.9
    ) -> None:
        if isinstance(tau, str):
            if tau not in ("log", "ema"):
                raise ValueError(f"tau: expected 'log', 'ema' or a number, got {tau!r}")
        else:
            tau = check_number(tau, "tau")
        self.tau = tau
        self.lam = check_positive(lam, "lam")
        self.ema_decay = check_fraction(ema_decay, "ema_decay")
        self._ema: float | None = None

    def reset(self) -> None:
        self._ema = None

    def current_tau(self, losses: torch.Tensor, logits: torch.Tensor | None) -> float:
        if self.tau == "log":
            if logits is None:
                raise ValueError("logits: SuperLoss with tau='log' needs the batch logits")
            return math.log(logits.shape[1])
        if self.tau == "ema":
            m = float(losses.mean())
            self._ema = (
                m if self._ema is None else self.ema_decay * self._ema + (1 - self.ema_decay) * m
            )
            return self._ema
        return float(self.tau)

    def weights(
        self, losses: torch.Tensor, *, logits: torch.Tensor | None = None, **_: Any
    ) -> torch.Tensor:
        ell = losses.detach().double().cpu().numpy()
        tau = self.current_tau(losses.detach(), logits)
        return torch.as_tensor(_sigma(ell, tau, self.lam), dtype=losses.dtype, device=losses.device)
