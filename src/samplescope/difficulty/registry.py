"""Registry of difficulty measures (timm-style ``register`` / ``list`` / ``get``).

Every measure returns per-sample scores ``(N,)`` with **higher = harder**. A measure's
``kind`` says what it needs:

- ``"logits"``: ``fn(logits (N, C), labels (N,)) -> (N,)`` from one trained model;
- ``"stochastic"``: ``fn(probs (S, N, C), labels (N,)) -> (N,)`` over MC-dropout/ensemble samples;
- ``"labels"``: ``fn(labels (N,)) -> (N,)`` from the labels alone;
- ``"dynamics"``: recorded by a training callback (action score, cartography, AUM, forgetting);
- ``"gradient"``: needs the model and the data (per-sample gradient norms);
- ``"kfold"``: needs re-training on folds (generalization error).

Measures are registered under their canonical names (see :mod:`samplescope.functional`);
:func:`register_measure_alias` adds old names (e.g. ``bald`` → ``mutual_information``)
that :func:`get_measure` resolves to the canonical :class:`Measure` and that
:func:`list_measures` does not list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .._validation import check_choice, check_name

__all__ = [
    "Measure",
    "MEASURE_KINDS",
    "register_measure",
    "register_measure_alias",
    "measure_aliases",
    "list_measures",
    "get_measure",
]

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
_ALIASES: dict[str, str] = {}


def register_measure(
    name: str, kind: str, description: str
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator registering ``fn`` as measure ``name`` of ``kind`` (one-line ``description``)."""
    check_name(name)
    check_choice(kind, "kind", MEASURE_KINDS)
    if not isinstance(description, str):
        raise ValueError(f"description: expected a string, got {description!r}")

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        if not callable(fn):
            raise ValueError(f"fn: expected a callable measure, got {fn!r}")
        if name in _ALIASES:
            raise ValueError(f"name: {name!r} is already an alias of {_ALIASES[name]!r}")
        if name in _MEASURES and _MEASURES[name].fn is not fn:
            raise ValueError(f"name: measure {name!r} is already registered")
        _MEASURES[name] = Measure(name, kind, fn, description)
        return fn

    return deco


def register_measure_alias(alias: str, name: str) -> None:
    """Make ``alias`` resolve to the registered measure ``name`` in :func:`get_measure`."""
    check_name(alias, "alias")
    if not isinstance(name, str) or name not in _MEASURES:
        raise ValueError(f"name: expected a registered measure, got {name!r}")
    if alias in _MEASURES or _ALIASES.get(alias, name) != name:
        raise ValueError(f"alias: {alias!r} is already registered")
    _ALIASES[alias] = name


def measure_aliases() -> dict[str, str]:
    """``{alias: canonical name}`` of the registered aliases."""
    return dict(sorted(_ALIASES.items()))


def list_measures(kind: str | None = None) -> list[str]:
    """Canonical names of the registered measures (optionally of one kind), sorted."""
    if kind is not None:
        check_choice(kind, "kind", MEASURE_KINDS)
    return sorted(n for n, m in _MEASURES.items() if kind is None or m.kind == kind)


def get_measure(name: str) -> Measure:
    """The measure called ``name`` or aliased ``name`` (``ValueError`` listing the choices otherwise)."""
    m = _MEASURES.get(_ALIASES.get(name, name))
    if m is None:
        raise ValueError(f"measure: expected one of {list_measures()}, got {name!r}")
    return m
