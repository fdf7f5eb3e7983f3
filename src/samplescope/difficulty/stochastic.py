"""Epistemic-uncertainty difficulty over ``S`` stochastic predictions ``(S, N, C)``.

MC-dropout passes or ensemble members (or the K-fold repeats of
:func:`~samplescope.difficulty.generalization_error`); all higher = harder.

- ``predictive_variance`` (Zhou et al. 2022, eq. 7 without the precision constant):
  ``mean_s ‖p_s‖² - ‖mean_s p_s‖²`` (total variance of the probability vector).
- ``mutual_information`` (BALD): ``H[mean_s p_s] - mean_s H[p_s] ≥ 0``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_labels, check_stochastic_probs
from .registry import register_measure

__all__ = ["check_stochastic_inputs", "predictive_variance_score", "mutual_information_score"]


def check_stochastic_inputs(probs: Any, labels: Any) -> np.ndarray:
    """Validate ``probs (S, N, C)`` and, when given, ``labels (N,)``; return the probabilities."""
    p = check_stochastic_probs(probs)
    if labels is not None:
        check_labels(labels, num_classes=p.shape[2], n=p.shape[1])
    return p


@register_measure(
    "predictive_variance", "stochastic", "Zhou eq. 7: mean_s ||p_s||^2 - ||mean_s p_s||^2"
)
def predictive_variance_score(probs: Any, labels: Any = None) -> np.ndarray:
    """Predictive variance ``(N,)`` of ``probs (S, N, C)``; ``>= 0``, higher = harder. Labels unused."""
    p = check_stochastic_inputs(probs, labels)
    return np.maximum((p**2).sum(2).mean(0) - (p.mean(0) ** 2).sum(1), 0.0)


def _entropy(p: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return -np.where(p > 0, p * np.log(p), 0.0).sum(-1)


@register_measure(
    "mutual_information", "stochastic", "BALD: H[mean_s p_s] - mean_s H[p_s] (epistemic)"
)
def mutual_information_score(probs: Any, labels: Any = None) -> np.ndarray:
    """Mutual information ``(N,)`` of ``probs (S, N, C)`` in nats; ``>= 0``, higher = harder."""
    p = check_stochastic_inputs(probs, labels)
    return np.maximum(_entropy(p.mean(0)) - _entropy(p).mean(0), 0.0)
