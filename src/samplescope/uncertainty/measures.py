"""Stochastic difficulty measures registered in :mod:`samplescope.difficulty` (kind ``"stochastic"``).

Registered here: ``predictive_entropy`` (total) and ``expected_entropy`` (aleatoric).
``mutual_information`` (epistemic, BALD) and ``predictive_variance`` (Zhou eq. 7) are
registered by :mod:`samplescope.difficulty.stochastic` with the same formulas as
:mod:`samplescope.uncertainty.decomposition`. Each is ``fn(probs (S, N, C), labels (N,) or None) -> (N,)``, higher = harder (more
uncertain); the labels are only validated (these measures are label-free).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..difficulty.registry import register_measure
from ..difficulty.stochastic import check_stochastic_inputs
from .decomposition import entropy

__all__ = ["predictive_entropy_score", "expected_entropy_score"]


@register_measure(
    "predictive_entropy", "stochastic", "total uncertainty: entropy of the mean prediction"
)
def predictive_entropy_score(probs: Any, labels: Any = None) -> np.ndarray:
    """Predictive entropy ``H[mean_s p_s]`` ``(N,)``; higher = harder."""
    return entropy(check_stochastic_inputs(probs, labels).mean(0))


@register_measure(
    "expected_entropy", "stochastic", "aleatoric uncertainty: mean entropy of the S predictions"
)
def expected_entropy_score(probs: Any, labels: Any = None) -> np.ndarray:
    """Expected entropy ``mean_s H[p_s]`` ``(N,)``; higher = harder."""
    return entropy(check_stochastic_inputs(probs, labels)).mean(0)
