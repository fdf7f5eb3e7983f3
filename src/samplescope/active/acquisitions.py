"""Acquisition functions over stochastic predictions, and their registry.

Every acquisition maps stacked probabilities ``probs (S, N, C)`` (S MC-dropout samples,
ensemble members, or S = 1 for a deterministic model) to per-sample scores ``(N,)``:
**higher = more worth labelling** (acquire the top-k). Definitions follow Gal, Islam &
Ghahramani (2017), "Deep Bayesian Active Learning with Image Data", §3, with p̄ = mean_s p_s;
the formulas live in :mod:`samplescope.functional` (one function per quantity). Registered
names are the canonical ones; old names are aliases that :func:`get_acquisition` resolves
(to the canonical :class:`Acquisition`, whose ``name`` is canonical):

- ``predictive_entropy``   H[p̄] = -Σ_c p̄_c log p̄_c  (aliases ``max_entropy``, ``entropy``;
                           with S = 1 the classic entropy sampling)
- ``mutual_information``   H[p̄] - mean_s H[p_s], BALD (aliases ``bald``, ``epistemic``)
- ``variation_ratio``      1 - (count of the modal argmax class over S)/S, Gal's mode count,
                           *not* 1 - max p̄ (alias ``variation_ratios``)
- ``mean_std``             mean_c std_s p_{s,c} (a standard deviation, Kampffmeyer 2016;
                           Baal's "mean std" is a variance)
- ``predictive_variance``  Σ_c Var_s[p_{s,c}], the trace of the covariance of the stochastic
                           output (alias ``predictive_trace``; report §4;
                           :class:`LastLayerLearner` replaces it by the trace of its analytic
                           predictive covariance)
- ``random``               uniform noise (needs ``rng``)
- ``least_confidence``     1 - max_c p̄_c;  ``margin``  -(p̄_(1) - p̄_(2))
                           (classic uncertainty sampling for deterministic models, S = 1).

The Python functions keep their historical names (``max_entropy``, ``bald``,
``variation_ratios``, ``predictive_trace``). Natural logarithms throughout. Register new
ones with :func:`register_acquisition`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import functional as F
from .._validation import check_name, check_stochastic_probs

__all__ = [
    "Acquisition",
    "register_acquisition",
    "list_acquisitions",
    "acquisition_aliases",
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


@dataclass(frozen=True)
class Acquisition:
    """A registered acquisition: ``fn(probs (S, N, C), rng) -> (N,)``, higher = acquire first.

    ``stochastic`` says whether the score needs several samples (S > 1) to be meaningful
    (BALD, variation ratio, mean STD and predictive variance are identically 0 for S = 1);
    ``needs_model`` is False for scores that ignore the predictions (random).
    """

    name: str
    fn: Callable[[np.ndarray, np.random.Generator | None], np.ndarray]
    stochastic: bool
    needs_model: bool
    description: str

    def __call__(self, probs: Any, rng: np.random.Generator | None = None) -> np.ndarray:
        return self.fn(check_stochastic_probs(probs, "probs"), rng)


_REGISTRY: dict[str, Acquisition] = {}
_ALIASES: dict[str, str] = {}


def register_acquisition(
    name: str,
    *,
    stochastic: bool = False,
    needs_model: bool = True,
    description: str = "",
    aliases: Iterable[str] = (),
) -> Callable[[Callable[..., np.ndarray]], Callable[..., np.ndarray]]:
    """Decorator registering ``fn(probs (S, N, C), rng) -> (N,)`` as acquisition ``name``.

    ``aliases``: other names :func:`get_acquisition` resolves to this one (not listed by
    :func:`list_acquisitions` unless ``include_aliases=True``).
    """
    check_name(name)
    if isinstance(aliases, (str, bytes)) or not hasattr(aliases, "__iter__"):
        raise ValueError(f"aliases: expected a sequence of names, got {aliases!r}")
    aliases = tuple(check_name(a, "aliases") for a in aliases)
    if not isinstance(description, str):
        raise ValueError(f"description: expected a string, got {description!r}")

    def deco(fn: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
        if not callable(fn):
            raise ValueError(f"fn: expected a callable acquisition, got {fn!r}")
        if name in _ALIASES or (name in _REGISTRY and _REGISTRY[name].fn is not fn):
            raise ValueError(f"name: acquisition {name!r} is already registered")
        for a in aliases:
            if a in _REGISTRY or _ALIASES.get(a, name) != name:
                raise ValueError(f"aliases: acquisition {a!r} is already registered")
        _REGISTRY[name] = Acquisition(name, fn, stochastic, needs_model, description)
        _ALIASES.update(dict.fromkeys(aliases, name))
        return fn

    return deco


def list_acquisitions(
    *, stochastic: bool | None = None, include_aliases: bool = False
) -> list[str]:
    """Canonical acquisition names, sorted (optionally only the (non-)stochastic ones).

    ``include_aliases=True`` adds the accepted old names (e.g. for CLI choices).
    """
    names = [n for n, a in _REGISTRY.items() if stochastic is None or a.stochastic == stochastic]
    if include_aliases:
        names += [a for a, n in _ALIASES.items() if n in names]
    return sorted(names)


def acquisition_aliases() -> dict[str, str]:
    """``{alias: canonical name}`` of the registered aliases."""
    return dict(sorted(_ALIASES.items()))


def get_acquisition(name: str) -> Acquisition:
    """The acquisition ``name`` or aliased ``name`` (``ValueError`` listing the choices otherwise)."""
    acq = _REGISTRY.get(_ALIASES.get(name, name))
    if acq is None:
        raise ValueError(f"acquisition: expected one of {list_acquisitions()}, got {name!r}")
    return acq


def acquisition_scores(name: str, probs: Any, *, seed: int | None = None) -> np.ndarray:
    """Scores ``(N,)`` of acquisition ``name`` on ``probs (S, N, C)``; higher = acquire first."""
    return get_acquisition(name)(probs, np.random.default_rng(seed))


# --- registered acquisitions (inputs validated by Acquisition.__call__) ----------------------


@register_acquisition("random", needs_model=False, description="uniform random scores (baseline)")
def _random_scores(probs: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
    """Uniform scores in [0, 1) from ``rng`` (required for reproducibility)."""
    if rng is None:
        raise ValueError("rng: random acquisition needs a numpy Generator, got None")
    return rng.random(probs.shape[1])


@register_acquisition(
    "predictive_entropy",
    description="predictive entropy H[mean_s p_s] (Gal 2017 max entropy)",
    aliases=("max_entropy", "entropy"),
)
def _max_entropy(probs: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
    """``H[p̄]`` (N,), in [0, log C]; higher = more uncertain."""
    return F.predictive_entropy(probs)


@register_acquisition(
    "mutual_information",
    stochastic=True,
    description="BALD: mutual information H[p̄] - E_s H[p_s] (Houlsby 2011)",
    aliases=("bald", "epistemic"),
)
def _bald(probs: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
    """BALD ``H[p̄] - mean_s H[p_s]`` (N,), in [0, H[p̄]]; 0 when all samples agree."""
    return F.mutual_information(probs)


@register_acquisition(
    "variation_ratio",
    stochastic=True,
    description="1 - modal-class count / S over the MC argmaxes (Gal 2017)",
    aliases=("variation_ratios",),
)
def _variation_ratios(probs: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
    """``1 - count(mode of argmax_c p_s)/S`` (N,), in [0, 1 - 1/C]; ties counted once."""
    return F.variation_ratio(probs)


@register_acquisition(
    "mean_std", stochastic=True, description="mean_c std_s p_{s,c} (Kampffmeyer 2016)"
)
def _mean_std(probs: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
    """``mean_c sqrt(E_s[(p - E_s p)²])`` (N,), >= 0."""
    return F.mean_std(probs)


@register_acquisition(
    "least_confidence", description="1 - max_c p̄_c (deterministic uncertainty sampling)"
)
def _least_confidence(probs: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
    """``1 - max_c p̄_c`` (N,), in [0, 1 - 1/C]."""
    return F.least_confidence(probs.mean(axis=0))


@register_acquisition("margin", description="-(p̄_top1 - p̄_top2): small margin = acquire first")
def _margin_scores(probs: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
    """``-(p̄_(1) - p̄_(2))`` (N,), in [-1, 0]."""
    return -F.prob_margin(probs.mean(axis=0))


@register_acquisition(
    "predictive_variance",
    stochastic=True,
    description="trace of the predictive covariance, sum_c Var_s p_{s,c} (Zhou 2022 eq. 7)",
    aliases=("predictive_trace",),
)
def _predictive_trace(probs: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
    """``Σ_c Var_s[p_{s,c}]`` (N,), >= 0 (population variance over the S samples)."""
    return F.predictive_variance(probs)


# --- the public functions: the same scores, validating ``probs`` (the registry entries above
# receive probabilities validated once by Acquisition.__call__) ----------------------------------


def _validated(raw: Callable[..., np.ndarray], name: str) -> Callable[..., np.ndarray]:
    def fn(probs: Any, rng: np.random.Generator | None = None) -> np.ndarray:
        return raw(check_stochastic_probs(probs, "probs"), rng)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (
        f"{raw.__doc__}\n\n    ``probs``: stochastic probabilities ``(S, N, C)``, validated "
        "(``ValueError`` naming ``probs`` otherwise); higher score = acquire first."
    )
    fn.__module__ = __name__
    return fn


random_scores = _validated(_random_scores, "random_scores")
max_entropy = _validated(_max_entropy, "max_entropy")
bald = _validated(_bald, "bald")
variation_ratios = _validated(_variation_ratios, "variation_ratios")
mean_std = _validated(_mean_std, "mean_std")
least_confidence = _validated(_least_confidence, "least_confidence")
margin_scores = _validated(_margin_scores, "margin_scores")
predictive_trace = _validated(_predictive_trace, "predictive_trace")
