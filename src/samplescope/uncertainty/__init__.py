"""Uncertainty: MC dropout, ensembles, TTA, decomposition, likelihood losses, temperature scaling.

Every uncertainty score is per sample ``(N,)`` and **higher = more uncertain**.
Importing this package registers the stochastic difficulty measures
(``mutual_information``, ``predictive_variance``, ``predictive_entropy``,
``expected_entropy``; kind ``"stochastic"``).
"""

from . import measures as _measures  # noqa: F401  (registers the stochastic measures)
from .decomposition import (
    decompose,
    entropy,
    expected_entropy,
    mutual_information,
    predictive_entropy,
    predictive_variance,
)
from .stochastic import METHODS, iter_stochastic, predict_stochastic

__all__ = [
    "METHODS",
    "decompose",
    "entropy",
    "expected_entropy",
    "iter_stochastic",
    "mutual_information",
    "predict_stochastic",
    "predictive_entropy",
    "predictive_variance",
]
