"""Uncertainty decomposition of stochastic predictions ``probs`` ``(S, N, C)``: validated wrappers.

``S`` stochastic outputs (MC-dropout passes, ensemble members, TTA views) of ``N`` samples
over ``C`` classes. All scores are per sample ``(N,)``, in nats, **higher = more uncertain**
(= harder). With ``p̄ = mean_s p_s``:

- ``predictive_entropy`` (total): ``H[p̄] = −Σ_c p̄_c log p̄_c``;
- ``expected_entropy`` (aleatoric): ``mean_s H[p_s]``;
- ``mutual_information`` (epistemic, BALD; Houlsby et al. 2011, Gal et al. 2017):
  ``I = H[p̄] − mean_s H[p_s]`` — ≥ 0 by Jensen, ≤ total, 0 when all S outputs agree;
- ``predictive_variance`` (Zhou et al. 2022 eq. 7): ``mean_s ‖p_s‖² − ‖p̄‖²`` (the trace
  of the covariance of the S probability vectors, ≥ 0).

Each function validates ``probs`` once and calls :mod:`samplescope.functional` (which holds
the formulas and the table of canonical names). Convention ``0 log 0 = 0``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import functional as F
from .._validation import check_array, check_simplex, check_stochastic_probs

__all__ = [
    "entropy",
    "predictive_entropy",
    "expected_entropy",
    "mutual_information",
    "predictive_variance",
    "decompose",
]


def entropy(p: Any, axis: int = -1) -> np.ndarray:
    """Shannon entropy ``-Σ_c p_c log p_c`` in nats along the class ``axis`` (``(N, C)`` → ``(N,)``).

    Validated form of :func:`samplescope.functional.entropy`: ``p`` must be finite
    probabilities (entries in [0, 1], summing to 1 along ``axis``, at least 2 classes).
    Higher = more uncertain; in ``[0, log C]``.
    """
    a = check_array(p, "p", ndim=None)
    if a.ndim == 0:
        raise ValueError(f"p: expected probabilities with a class axis, got a scalar {a!r}")
    try:
        cls = a.shape[axis]
    except (IndexError, TypeError) as exc:
        raise ValueError(f"axis: expected an axis of p (shape {a.shape}), got {axis!r}") from exc
    if cls < 2:
        raise ValueError(f"p: expected at least 2 classes on axis {axis}, got shape {a.shape}")
    return F.entropy(check_simplex(a, "p", axis=axis), axis=axis)


def decompose(probs: Any) -> dict[str, np.ndarray]:
    """Split predictive uncertainty into predictive = expected + mutual information.

    Args:
        probs: stochastic probabilities ``(S, N, C)``.

    Returns:
        dict of ``(N,)`` float64 arrays: ``predictive_entropy`` (total, ``H[p̄]``),
        ``expected_entropy`` (aleatoric, ``mean_s H[p_s]``) and ``mutual_information``
        (epistemic, their difference); all higher = more uncertain.
    """
    return F.decompose(check_stochastic_probs(probs))


def predictive_entropy(probs: Any) -> np.ndarray:
    """Total uncertainty ``H[mean_s p_s]`` ``(N,)`` of ``probs`` ``(S, N, C)``; higher = more uncertain."""
    return F.predictive_entropy(check_stochastic_probs(probs))


def expected_entropy(probs: Any) -> np.ndarray:
    """Aleatoric uncertainty ``mean_s H[p_s]`` ``(N,)`` of ``probs`` ``(S, N, C)``; higher = more uncertain."""
    return F.expected_entropy(check_stochastic_probs(probs))


def mutual_information(probs: Any) -> np.ndarray:
    """Epistemic uncertainty (BALD) ``H[p̄] − mean_s H[p_s]`` ``(N,)`` ≥ 0; higher = more uncertain."""
    return F.mutual_information(check_stochastic_probs(probs))


def predictive_variance(probs: Any) -> np.ndarray:
    """Zhou et al. (2022) eq. 7: ``mean_s ‖p_s‖² − ‖mean_s p_s‖²`` ``(N,)`` ≥ 0; higher = more uncertain.

    Args:
        probs: stochastic outputs ``(S, N, C)`` (probabilities; the formula is the trace of
            the sample covariance of the S output vectors, with the 1/S normalisation).
    """
    return F.predictive_variance(check_stochastic_probs(probs))
