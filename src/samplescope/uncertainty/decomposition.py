"""Uncertainty decomposition of stochastic predictions ``probs`` ``(S, N, C)``.

``S`` stochastic outputs (MC-dropout passes, ensemble members, TTA views) of ``N`` samples
over ``C`` classes. All scores are per sample ``(N,)``, in nats, **higher = more uncertain**
(= harder). With ``p̄ = mean_s p_s``:

- total (predictive entropy): ``H[p̄] = −Σ_c p̄_c log p̄_c``;
- aleatoric (expected entropy): ``mean_s H[p_s]``;
- epistemic (mutual information / BALD, Houlsby et al. 2011; Gal et al. 2017):
  ``I = H[p̄] − mean_s H[p_s]`` — ≥ 0 by Jensen, ≤ total, 0 when all S outputs agree;
- predictive variance (Zhou et al. 2022 eq. 7): ``mean_s ‖p_s‖² − ‖p̄‖²`` (the trace of the
  covariance of the S probability vectors, ≥ 0).

Convention ``0 log 0 = 0``. Tiny negative values from rounding are clipped to 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_stochastic_probs

__all__ = [
    "entropy",
    "predictive_entropy",
    "expected_entropy",
    "mutual_information",
    "predictive_variance",
    "decompose",
]


def entropy(p: np.ndarray, axis: int = -1) -> np.ndarray:
    """Shannon entropy ``−Σ p log p`` (nats) along ``axis``, with ``0 log 0 = 0`` (no validation)."""
    p = np.asarray(p, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    return np.maximum(-terms.sum(axis=axis), 0.0)


def _decompose(p: np.ndarray) -> dict[str, np.ndarray]:
    total = entropy(p.mean(axis=0))
    aleatoric = entropy(p).mean(axis=0)
    epistemic = np.clip(total - aleatoric, 0.0, None)
    return {"total": total, "aleatoric": np.minimum(aleatoric, total), "epistemic": epistemic}


def decompose(probs: Any) -> dict[str, np.ndarray]:
    """Split predictive uncertainty into total = aleatoric + epistemic.

    Args:
        probs: stochastic probabilities ``(S, N, C)``.

    Returns:
        dict of ``(N,)`` float64 arrays: ``total`` (predictive entropy ``H[p̄]``),
        ``aleatoric`` (expected entropy ``mean_s H[p_s]``) and ``epistemic`` (mutual
        information ``total − aleatoric``); all higher = more uncertain.
    """
    return _decompose(check_stochastic_probs(probs))


def predictive_entropy(probs: Any) -> np.ndarray:
    """Total uncertainty ``H[mean_s p_s]`` ``(N,)`` of ``probs`` ``(S, N, C)``; higher = more uncertain."""
    return entropy(check_stochastic_probs(probs).mean(axis=0))


def expected_entropy(probs: Any) -> np.ndarray:
    """Aleatoric uncertainty ``mean_s H[p_s]`` ``(N,)`` of ``probs`` ``(S, N, C)``; higher = more uncertain."""
    return entropy(check_stochastic_probs(probs)).mean(axis=0)


def mutual_information(probs: Any) -> np.ndarray:
    """Epistemic uncertainty (BALD) ``H[p̄] − mean_s H[p_s]`` ``(N,)`` ≥ 0; higher = more uncertain."""
    return _decompose(check_stochastic_probs(probs))["epistemic"]


def predictive_variance(probs: Any) -> np.ndarray:
    """Zhou et al. (2022) eq. 7: ``mean_s ‖p_s‖² − ‖mean_s p_s‖²`` ``(N,)`` ≥ 0; higher = more uncertain.

    Args:
        probs: stochastic outputs ``(S, N, C)`` (probabilities; the formula is the trace of
            the sample covariance of the S output vectors, with the 1/S normalisation).
    """
    p = check_stochastic_probs(probs)
    return np.clip((p**2).sum(-1).mean(0) - (p.mean(0) ** 2).sum(-1), 0.0, None)
