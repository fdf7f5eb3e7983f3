"""Registry of difficulty measures (timm-style ``register`` / ``list`` / ``get``).

Every measure returns per-sample scores ``(N,)`` with **higher = harder**. A measure's
``kind`` says what it needs:

- ``"logits"``: ``fn(logits (N, C), labels (N,)) -> (N,)`` from one trained model;
- ``"stochastic"``: ``fn(probs (S, N, C), labels (N,)) -> (N,)`` over MC-dropout/ensemble samples;
- ``"labels"``: ``fn(labels (N,)) -> (N,)`` from the labels alone;
- ``"dynamics"``: recorded by a training callback (action score, cartography, AUM, forgetting);
- ``"gradient"``: needs the model and the data (per-sample gradient norms);
- ``"kfold"``: needs re-training on folds (generalization error).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Measure", "MEASURE_KINDS", "register_measure", "list_measures", "get_measure"]

MEASURE_KINDS = ("logits", "stochastic", "labels", "dynamics", "gradient", "kfold")


@dataclass(frozen=True)
class Measure:
    """A registered difficulty measure; ``fn`` computes it (see the module docstring)."""

    name: str
    kind: str
    fn: Callable[..., Any]
    description: str

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)


_MEASURES: dict[str, Measure] = {}


def register_measure(
    name: str, kind: str, description: str
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator registering ``fn`` as measure ``name`` of ``kind`` (one-line ``description``)."""
    if kind not in MEASURE_KINDS:
        raise ValueError(f"kind: expected one of {list(MEASURE_KINDS)}, got {kind!r}")

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        if name in _MEASURES and _MEASURES[name].fn is not fn:
            raise ValueError(f"name: measure {name!r} is already registered")
        _MEASURES[name] = Measure(name, kind, fn, description)
        return fn

    return deco


def list_measures(kind: str | None = None) -> list[str]:
    """Names of the registered measures (optionally of one kind), sorted."""
    return sorted(n for n, m in _MEASURES.items() if kind is None or m.kind == kind)


def get_measure(name: str) -> Measure:
    """The measure called ``name`` (``ValueError`` listing the choices otherwise)."""
    if name not in _MEASURES:
        raise ValueError(f"measure: expected one of {list_measures()}, got {name!r}")
    return _MEASURES[name]
