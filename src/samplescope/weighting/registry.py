"""Registry of weighting schemes (timm-style ``register`` / ``list`` / ``get``).

Each entry is a factory ``factory(**params)`` returning one of three kinds of scheme:

- ``"static"``: a :class:`~.transforms.Transform` ``difficulty (N,) -> weights (N,)`` computed
  once before training (``needs_difficulty``: whether it reads a difficulty column, e.g.
  ``gen_error``, or only the labels);
- ``"dynamic"``: an object with ``.weights(losses, *, sample_ids, positions, labels, logits,
  epoch, epochs)`` (the trainer's ``DynamicWeighting`` protocol), recomputed every batch;
- ``"loss"``: a per-sample loss function ``(outputs, labels) -> (B,)`` replacing cross-entropy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .._validation import check_choice, check_name

__all__ = [
    "WEIGHTING_KINDS",
    "WeightingSpec",
    "register_weighting",
    "list_weightings",
    "get_weighting",
]

WEIGHTING_KINDS = ("static", "dynamic", "loss")


@dataclass(frozen=True)
class WeightingSpec:
    """A registered scheme; ``spec(**params)`` builds it."""

    name: str
    kind: str
    factory: Callable[..., Any]
    description: str
    needs_difficulty: bool = False

    def parameters(self) -> dict[str, Any] | None:
        """``{name: default}`` of the factory's keyword parameters (``None``: takes any ``**kw``)."""
        import inspect

        out: dict[str, Any] = {}
        for p in inspect.signature(self.factory).parameters.values():
            if p.kind is inspect.Parameter.VAR_KEYWORD:
                return None
            if p.kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD):
                out[p.name] = None if p.default is inspect.Parameter.empty else p.default
        return out

    def check_params(self, params: dict[str, Any], argument: str = "params") -> None:
        """``ValueError`` naming ``argument`` when ``params`` has names the scheme does not take."""
        allowed = self.parameters()
        if allowed is None:
            return
        unknown = sorted(set(params) - set(allowed))
        if unknown:
            raise ValueError(
                f"{argument}: weighting {self.name!r} takes "
                f"{sorted(allowed) or 'no parameters'}, got unknown {unknown}"
            )

    def __call__(self, **params: Any) -> Any:
        self.check_params(params)
        try:
            return self.factory(**params)
        except TypeError as exc:  # unknown parameter names
            raise ValueError(f"params: bad parameters for weighting {self.name!r}: {exc}") from exc


_SCHEMES: dict[str, WeightingSpec] = {}


def register_weighting(
    name: str, kind: str, description: str, *, needs_difficulty: bool = False
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator registering ``factory`` as weighting ``name`` of ``kind`` (one-line ``description``)."""
    check_name(name)
    check_choice(kind, "kind", WEIGHTING_KINDS)
    if not isinstance(description, str):
        raise ValueError(f"description: expected a string, got {description!r}")

    def deco(factory: Callable[..., Any]) -> Callable[..., Any]:
        if not callable(factory):
            raise ValueError(f"factory: expected a callable, got {factory!r}")
        if name in _SCHEMES and _SCHEMES[name].factory is not factory:
            raise ValueError(f"name: weighting {name!r} is already registered")
        _SCHEMES[name] = WeightingSpec(name, kind, factory, description, needs_difficulty)
        return factory

    return deco


def list_weightings(kind: str | None = None) -> list[str]:
    """Names of the registered schemes (optionally of one kind), sorted."""
    if kind is not None:
        check_choice(kind, "kind", WEIGHTING_KINDS)
    return sorted(n for n, s in _SCHEMES.items() if kind is None or s.kind == kind)


def get_weighting(name: str) -> WeightingSpec:
    """The scheme called ``name`` (``ValueError`` listing the choices otherwise)."""
    if name not in _SCHEMES:
        raise ValueError(f"weighting: expected one of {list_weightings()}, got {name!r}")
    return _SCHEMES[name]
