"""Registry of calibrators: ``register_calibrator``, ``list_calibrators``, ``get_calibrator``.

Built-in names (aliases in brackets) and what each does to the argmax:

==============  ==============================  =========================================
name            class                           argmax
==============  ==============================  =========================================
``identity``    :class:`IdentityCalibrator`     kept (the baseline: nothing learned)
``ts``          :class:`TemperatureScaling`     kept (``z / T``) [``temperature``]
``ets``         :class:`EnsembleTemperatureScaling`  kept (convex mix of TS, softmax, uniform)
``vector``      :class:`VectorScaling`          may change (per-class scale and bias)
``matrix``      :class:`MatrixScaling`          may change (full linear map, L2 towards I)
``dirichlet``   :class:`DirichletCalibration`   may change (linear map of log p, ODIR)
``dirichlet_cv``  :class:`DirichletCV`          may change (Dirichlet, λ = μ chosen by CV NLL)
``histogram``   :class:`HistogramBinning`       may change (per-class steps; ties)
``isotonic``    :class:`IsotonicCalibration`    may change (per-class monotone maps; ties)
``platt``       :class:`PlattScaling`           may change (threshold moves; C = 2 only)
==============  ==============================  =========================================

``get_calibrator(name, **params)`` returns a new, unfitted instance; an unknown name or
parameter is a ``ValueError`` that lists the allowed ones. Extend with
``@register_calibrator("name")`` on a :class:`Calibrator` subclass.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .base import Calibrator, IdentityCalibrator
from .binning import HistogramBinning
from .ets import EnsembleTemperatureScaling
from .isotonic import IsotonicCalibration
from .linear import DirichletCalibration, MatrixScaling, VectorScaling
from .platt import PlattScaling
from .temperature import TemperatureScaling

__all__ = [
    "register_calibrator",
    "list_calibrators",
    "get_calibrator",
    "calibrator_name",
    "make_calibrator",
]

_REGISTRY: dict[str, type[Calibrator]] = {}
_ALIASES: dict[str, str] = {}


def register_calibrator(
    name: str,
    cls: type[Calibrator] | None = None,
    *,
    aliases: Sequence[str] = (),
    overwrite: bool = False,
) -> Any:
    """Register a :class:`Calibrator` subclass under ``name`` (usable as a decorator)."""

    for what, n in [("name", name), *(("aliases", a) for a in aliases)]:
        if not isinstance(n, str) or not n.strip():
            raise ValueError(f"{what}: expected a non-empty string, got {n!r}")

    def deco(c: type[Calibrator]) -> type[Calibrator]:
        if not (isinstance(c, type) and issubclass(c, Calibrator)):
            raise ValueError(f"cls: expected a Calibrator subclass, got {c!r}")
        key = name.lower()
        taken = [k for k in (key, *(a.lower() for a in aliases)) if k in _REGISTRY or k in _ALIASES]
        if taken and not overwrite:
            raise ValueError(f"name: {taken[0]!r} is already registered (pass overwrite=True)")
        _REGISTRY[key] = c
        for a in aliases:
            _ALIASES[a.lower()] = key
        return c

    return deco if cls is None else deco(cls)


def list_calibrators(*, accuracy_preserving: bool | None = None) -> list[str]:
    """Canonical names, sorted; ``accuracy_preserving=True/False`` filters by that property."""
    return sorted(
        k
        for k, c in _REGISTRY.items()
        if accuracy_preserving is None or c.accuracy_preserving == accuracy_preserving
    )


def _resolve(name: str) -> str:
    if not isinstance(name, str):
        raise ValueError(f"name: expected a calibrator name (str), got {type(name).__name__}")
    key = _ALIASES.get(name.lower(), name.lower())
    if key not in _REGISTRY:
        aliases = ", ".join(f"{a}->{k}" for a, k in sorted(_ALIASES.items()))
        raise ValueError(
            f"name: unknown calibrator {name!r}; expected one of {list_calibrators()}"
            + (f" (aliases: {aliases})" if aliases else "")
        )
    return key


def get_calibrator(name: str, **params: Any) -> Calibrator:
    """A new, unfitted calibrator ``name`` with hyper-parameters ``params``."""
    key = _resolve(name)
    cls = _REGISTRY[key]
    allowed = sorted(cls._get_param_names())
    bad = sorted(set(params) - set(allowed))
    if bad:
        raise ValueError(
            f"{bad[0]}: not a parameter of calibrator {key!r}; allowed parameters: {allowed}"
        )
    return cls(**params)


def calibrator_name(cal: Calibrator) -> str:
    """Registered name of a calibrator's class (else the class name)."""
    for k, c in _REGISTRY.items():
        if type(cal) is c:
            return k
    return type(cal).__name__


def make_calibrator(spec: str | Calibrator, name: str = "calibrator") -> Calibrator:
    """A fresh unfitted calibrator from a name or a (cloned) :class:`Calibrator` instance.

    Errors name the argument ``name`` (e.g. ``methods[2]``).
    """
    from sklearn.base import clone

    if isinstance(spec, Calibrator):
        return clone(spec)
    if isinstance(spec, str):
        try:
            return get_calibrator(spec)
        except ValueError as exc:
            if name == "calibrator":
                raise
            raise ValueError(f"{name}: {str(exc).removeprefix('name: ')}") from None
    raise ValueError(
        f"{name}: expected a name from {list_calibrators()} or a Calibrator, got "
        f"{type(spec).__name__}"
    )


_BUILTIN: dict[str, tuple[type[Calibrator], tuple[str, ...]]] = {
    "identity": (IdentityCalibrator, ("none",)),
    "ts": (TemperatureScaling, ("temperature",)),
    "ets": (EnsembleTemperatureScaling, ()),
    "vector": (VectorScaling, ()),
    "matrix": (MatrixScaling, ()),
    "dirichlet": (DirichletCalibration, ()),
    "histogram": (HistogramBinning, ("binning",)),
    "isotonic": (IsotonicCalibration, ()),
    "platt": (PlattScaling, ()),
}
for _name, (_cls, _aliases) in _BUILTIN.items():
    register_calibrator(_name, _cls, aliases=_aliases)
