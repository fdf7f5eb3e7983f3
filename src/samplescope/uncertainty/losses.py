"""Likelihood losses with a learned per-sample variance, and label smoothing.

All return **per-sample** losses ``(B,)`` (the trainer averages them), so they plug into
``samplescope.training.fit(loss_fn=...)`` through the callable classes at the bottom.

- Heteroscedastic Gaussian NLL (Kendall & Gal 2017; Kornaev lecture 6):
  ``ℓ_i = ½ Σ_d (exp(−s_id)(y_id − h_id)² + s_id)`` with ``s = log σ²`` predicted by the
  model (constant ½ log 2π dropped). Averaged over i it is REFERENCE §3's
  ``½ mean(exp(−s)(y − h)² + s)`` for 1-D targets.
- UANLL (uncertainty-aware NLL for classification, Kornaev lecture 6): a Gaussian
  likelihood on the one-hot target with one variance per sample,
  ``ℓ_i = ½ (exp(−s_i) Σ_k (y_ik − h_ik)² + C s_i)``, ``h_i = softmax(z_i)``, ``C`` classes;
  the batch mean is the lecture's ``L_C = 1/(2m) Σ_i (…)``. A large learned ``s_i`` means
  the model declares sample i uncertain (a noisy label candidate: higher s = harder).
- Label smoothing (Szegedy et al. 2016): cross-entropy against
  ``(1 − ε)·onehot + ε/C`` (``mode="uniform"``, as torch's ``label_smoothing``) or against
  ``1 − ε`` on the label and ``ε/(C − 1)`` elsewhere (``mode="others"``, the lecture's slide).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from .._validation import check_choice, check_fraction, check_number
from ..training.checks import check_batch_logits

__all__ = [
    "gaussian_nll",
    "uanll",
    "label_smoothing_cross_entropy",
    "HeteroscedasticLoss",
    "UANLLLoss",
    "LabelSmoothingLoss",
]


def gaussian_nll(mean: torch.Tensor, log_var: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-sample heteroscedastic Gaussian NLL ``½ Σ_d (exp(−s)(y − h)² + s)``, shape ``(B,)``.

    Args:
        mean: predicted means ``h`` ``(B,)`` or ``(B, D)``.
        log_var: predicted log-variances ``s = log σ²``, same shape as ``mean``.
        target: targets ``y``, same shape as ``mean``.
    """
    for name, t in (("mean", mean), ("log_var", log_var), ("target", target)):
        if not isinstance(t, torch.Tensor) or t.ndim == 0 or t.shape[0] == 0:
            got = tuple(t.shape) if isinstance(t, torch.Tensor) else type(t).__name__
            raise ValueError(f"{name}: expected a non-empty (B,) or (B, D) tensor, got {got}")
    if mean.shape != log_var.shape or mean.shape != target.shape:
        raise ValueError(
            "mean, log_var, target: expected equal shapes, got "
            f"{tuple(mean.shape)}, {tuple(log_var.shape)}, {tuple(target.shape)}"
        )
    per = 0.5 * (torch.exp(-log_var) * (target - mean) ** 2 + log_var)
    return per.reshape(per.shape[0], -1).sum(1)


def uanll(
    logits: torch.Tensor, s: torch.Tensor, labels: torch.Tensor, *, s_min: float | None = None
) -> torch.Tensor:
    """Per-sample UANLL ``½ (exp(−s_i) Σ_k (y_ik − softmax(z_i)_k)² + C s_i)``, shape ``(B,)``.

    Args:
        logits: ``(B, C)``.
        s: per-sample log-variance ``(B,)`` or ``(B, 1)`` (higher = more uncertain).
        labels: int64 ``(B,)``.
        s_min: optional lower clamp of ``s``; None = the lecture's unclamped loss.

    Stability: the optimum is ``s_i = log(Σ_k (y_ik − h_ik)² / C)``, which goes to −∞ as a
    sample is fitted, so the unclamped loss is unbounded below and the weight
    ``exp(−s_i)`` of easy samples explodes. In ``experiments/uanll_asymmetric_noise.py``
    (small CNN, Fashion-MNIST) the unclamped loss trained erratically and diverged to NaN
    within 15 epochs, while ``s_min=-3`` (weights ≤ e³) trained smoothly.
    """
    check_batch_logits(logits, labels)
    if not isinstance(s, torch.Tensor) or s.ndim not in (1, 2) or s.numel() != logits.shape[0]:
        got = tuple(s.shape) if isinstance(s, torch.Tensor) else type(s).__name__
        raise ValueError(
            f"s: expected {logits.shape[0]} values (one per sample), shape ({logits.shape[0]},) "
            f"or ({logits.shape[0]}, 1), got {got}"
        )
    s = s.reshape(-1)
    if s_min is not None:
        s_min = check_number(s_min, "s_min")
        s = s.clamp_min(s_min)
    c = logits.shape[1]
    sq = ((nn.functional.one_hot(labels, c).to(logits.dtype) - logits.softmax(1)) ** 2).sum(1)
    return 0.5 * (torch.exp(-s) * sq + c * s)


def label_smoothing_cross_entropy(
    logits: torch.Tensor, labels: torch.Tensor, epsilon: float = 0.1, mode: str = "uniform"
) -> torch.Tensor:
    """Per-sample cross-entropy with smoothed targets, shape ``(B,)`` (see the module doc)."""
    eps = check_fraction(epsilon, "epsilon")
    check_choice(mode, "mode", ("uniform", "others"))
    check_batch_logits(logits, labels)
    c = logits.shape[1]
    logp = logits.log_softmax(1)
    onehot = nn.functional.one_hot(labels, c).to(logp.dtype)
    if mode == "uniform":
        target = (1 - eps) * onehot + eps / c
    else:
        target = (1 - eps) * onehot + eps / (c - 1) * (1 - onehot)
    return -(target * logp).sum(1)


def _pair(outputs: Any, what: str) -> tuple[torch.Tensor, torch.Tensor]:
    if not isinstance(outputs, (tuple, list)) or len(outputs) < 2:
        raise ValueError(
            f"outputs: expected a tuple ({what}) from the model, got {type(outputs).__name__}"
        )
    return outputs[0], outputs[1]


class HeteroscedasticLoss:
    """``loss_fn(outputs=(mean, log_var), target) -> (B,)`` Gaussian NLL (picklable)."""

    def __call__(self, outputs: Any, target: torch.Tensor) -> torch.Tensor:
        mean, log_var = _pair(outputs, "mean, log_var")
        if not isinstance(mean, torch.Tensor) or mean.ndim == 0:
            raise ValueError(f"outputs: expected a (B, ...) mean tensor, got {type(mean).__name__}")
        if not isinstance(target, torch.Tensor) or target.numel() != mean.numel():
            got = tuple(target.shape) if isinstance(target, torch.Tensor) else type(target).__name__
            raise ValueError(
                f"target: expected {tuple(mean.shape)} values like the mean, got {got}"
            )
        return gaussian_nll(mean, log_var, target.reshape(mean.shape).to(mean.dtype))


class UANLLLoss:
    """``loss_fn(outputs=(logits, s), labels) -> (B,)`` UANLL for :func:`samplescope.training.fit`.

    ``s_min``: lower clamp of ``s`` (see :func:`uanll`; ``-3`` is a stable choice, None is
    the lecture's unclamped loss, which can diverge).
    """

    def __init__(self, s_min: float | None = None) -> None:
        self.s_min = None if s_min is None else check_number(s_min, "s_min")

    def __call__(self, outputs: Any, labels: torch.Tensor) -> torch.Tensor:
        logits, s = _pair(outputs, "logits, s")
        return uanll(logits, s, labels, s_min=self.s_min)


class LabelSmoothingLoss:
    """``loss_fn(logits, labels) -> (B,)`` label-smoothed cross-entropy (picklable)."""

    def __init__(self, epsilon: float = 0.1, mode: str = "uniform") -> None:
        self.epsilon = check_fraction(epsilon, "epsilon")
        self.mode = check_choice(mode, "mode", ("uniform", "others"))

    def __call__(self, outputs: Any, labels: torch.Tensor) -> torch.Tensor:
        logits = outputs[0] if isinstance(outputs, (tuple, list)) else outputs
        return label_smoothing_cross_entropy(logits, labels, self.epsilon, self.mode)
