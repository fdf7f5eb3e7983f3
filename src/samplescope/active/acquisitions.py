"""Acquisition functions over stochastic predictions, and their registry.

Every acquisition maps stacked probabilities ``probs (S, N, C)`` (S MC-dropout samples,
ensemble members, or S = 1 for a deterministic model) to per-sample scores ``(N,)``:
**higher = more worth labelling** (acquire the top-k). Definitions follow Gal, Islam &
Ghahramani (2017), "Deep Bayesian Active Learning with Image Data", §3, with p̄ = mean_s p_s:

- ``max_entropy``       H[p̄] = -Σ_c p̄_c log p̄_c                     (predictive entropy)
- ``bald``              H[p̄] - mean_s H[p_s]                          (mutual information)
- ``variation_ratios``  1 - (count of the modal argmax class over S)/S  (Gal's mode count,
                        *not* 1 - max p̄)
- ``mean_std``          mean_c sqrt(E_s[p_{s,c}²] - (E_s p_{s,c})²)     (a standard deviation,
                        Baal's "mean std" is a variance)
- ``predictive_trace``  Σ_c Var_s[p_{s,c}], the trace of the covariance of the stochastic
                        output (report §4; :class:`LastLayerLearner` replaces it by the trace
                        of its analytic predictive covariance)
- ``random``            uniform noise (needs ``rng``)
- ``least_confidence``  1 - max_c p̄_c;  ``margin``  -(p̄_(1) - p̄_(2));  ``entropy`` H[p̄]
                        (classic uncertainty sampling for deterministic models, S = 1).

Natural logarithms throughout. Register new ones with :func:`register_acquisition`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validation import check_stochastic_probs

__all__ = [
    "Acquisition",
    "register_acquisition",
    "list_acquisitions",
    "get_acquisition",
    "acquisition_scores",
    "max_entropy",
    "bald",
    "variation_ratios",
    "mean_std",
    "predictive_trace",
    "random_scores",
    "least_confidence",
    "margin_scores",
]

_EPS = 1e-12


@dataclass(frozen=True)
class Acquisition:
    """A registered acquisition: ``fn(probs (S, N, C), rng) -> (N,)``, higher = acquire first.

    ``stochastic`` says whether the score needs several samples (S > 1) to be meaningful
    (BALD, variation ratios and mean STD are identically 0 for S = 1); ``needs_model`` is
    False for scores that ignore the predictions (random).
    """

    name: str
    fn: Callable[[np.ndarray, np.random.Generator | None], np.ndarray]
    stochastic: bool
    needs_model: bool
    description: str

    def __call__(self, probs: Any, rng: np.random.Generator | None = None) -> np.ndarray:
        return self.fn(check_stochastic_probs(probs, "probs"), rng)


_REGISTRY: dict[str, Acquisition] = {}


def register_acquisition(
    name: str, *, stochastic: bool = False, needs_model: bool = True, description: str = ""
) -> Callable[[Callable[..., np.ndarray]], Callable[..., np.ndarray]]:
    """Decorator registering ``fn(probs (S, N, C), rng) -> (N,)`` as acquisition ``name``."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"name: expected a non-empty string, got {name!r}")

    def deco(fn: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
        if name in _REGISTRY and _REGISTRY[name].fn is not fn:
            raise ValueError(f"name: acquisition {name!r} is already registered")
        _REGISTRY[name] = Acquisition(name, fn, stochastic, needs_model, description)
        return fn

    return deco


def list_acquisitions(*, stochastic: bool | None = None) -> list[str]:
    """Registered acquisition names, sorted (optionally only the (non-)stochastic ones)."""
    return sorted(
        n for n, a in _REGISTRY.items() if stochastic is None or a.stochastic == stochastic
    )


def get_acquisition(name: str) -> Acquisition:
    """The acquisition ``name`` (``ValueError`` listing the choices otherwise)."""
    if name not in _REGISTRY:
        raise ValueError(f"acquisition: expected one of {list_acquisitions()}, got {name!r}")
    return _REGISTRY[name]


def acquisition_scores(name: str, probs: Any, *, seed: int | None = None) -> np.ndarray:
    """Scores ``(N,)`` of acquisition ``name`` on ``probs (S, N, C)``; higher = acquire first."""
    return get_acquisition(name)(probs, np.random.default_rng(seed))


# --- internal computations (no validation) -------------------------------------------------


def _entropy(p: np.ndarray) -> np.ndarray:
    """Entropy along the last axis (nats), 0·log 0 = 0."""
    return -np.sum(p * np.log(np.clip(p, _EPS, None)), axis=-1)


def _compute_max_entropy(probs: np.ndarray) -> np.ndarray:
    return _entropy(probs.mean(axis=0))


def _compute_bald(probs: np.ndarray) -> np.ndarray:
    mi = _entropy(probs.mean(axis=0)) - _entropy(probs).mean(axis=0)
    return np.maximum(mi, 0.0)  # clip tiny negative round-off; MI >= 0 exactly


def _compute_variation_ratios(probs: np.ndarray) -> np.ndarray:
    s, n, c = probs.shape
    votes = probs.argmax(axis=2)  # (S, N)
    counts = np.zeros((n, c), dtype=np.int64)
    np.add.at(counts, (np.broadcast_to(np.arange(n), (s, n)), votes), 1)
    return 1.0 - counts.max(axis=1) / s


def _compute_mean_std(probs: np.ndarray) -> np.ndarray:
    # E[p²] - E[p]² computed as E[(p - E p)²] (same value, no cancellation round-off)
    var = ((probs - probs.mean(axis=0)) ** 2).mean(axis=0)
    return np.sqrt(var).mean(axis=1)


# --- registered acquisitions -----------------------------------------------------------------


@register_acquisition("random", needs_model=False, description="uniform random scores (baseline)")
def random_scores(probs: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
    """Uniform scores in [0, 1) from ``rng`` (required for reproducibility)."""
    if rng is None:
        raise ValueError("rng: random acquisition needs a numpy Generator, got None")
    return rng.random(probs.shape[1])


@register_acquisition("max_entropy", description="predictive entropy H[mean_s p_s] (Gal 2017)")
def max_entropy(probs: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
    """``H[p̄]`` (N,), in [0, log C]; higher = more uncertain."""
    return _compute_max_entropy(probs)


@register_acquisition(
    "bald", stochastic=True, description="mutual information H[p̄] - E_s H[p_s] (Houlsby 2011)"
)
def bald(probs: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
    """BALD ``H[p̄] - mean_s H[p_s]`` (N,), in [0, H[p̄]]; 0 when all samples agree."""
    return _compute_bald(probs)


@register_acquisition(
    "variation_ratios",
    stochastic=True,
    description="1 - modal-class count / S over the MC argmaxes (Gal 2017)",
)
def variation_ratios(probs: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
    """``1 - count(mode of argmax_c p_s)/S`` (N,), in [0, 1 - 1/C]; ties counted once."""
    return _compute_variation_ratios(probs)


@register_acquisition(
    "mean_std", stochastic=True, description="mean_c std_s p_{s,c} (Kampffmeyer 2016)"
)
def mean_std(probs: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
    """``mean_c sqrt(E_s[p²] - E_s[p]²)`` (N,), >= 0."""
    return _compute_mean_std(probs)


@register_acquisition(
    "least_confidence", description="1 - max_c p̄_c (deterministic uncertainty sampling)"
)
def least_confidence(probs: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
    """``1 - max_c p̄_c`` (N,), in [0, 1 - 1/C]."""
    return 1.0 - probs.mean(axis=0).max(axis=1)


@register_acquisition("margin", description="-(p̄_top1 - p̄_top2): small margin = acquire first")
def margin_scores(probs: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
    """``-(p̄_(1) - p̄_(2))`` (N,), in [-1, 0]."""
    top2 = np.sort(probs.mean(axis=0), axis=1)[:, -2:]
    return -(top2[:, 1] - top2[:, 0])


@register_acquisition("entropy", description="H[p̄] of a deterministic model (alias of max_entropy)")
def entropy_scores(probs: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
    """``H[p̄]`` (N,); with S = 1 the classic entropy sampling."""
    return _compute_max_entropy(probs)


@register_acquisition(
    "predictive_trace",
    stochastic=True,
    description="trace of the predictive covariance, sum_c Var_s p_{s,c}",
)
def predictive_trace(probs: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
    """``Σ_c Var_s[p_{s,c}]`` (N,), >= 0 (population variance over the S samples)."""
    return ((probs - probs.mean(axis=0)) ** 2).mean(axis=0).sum(axis=1)
