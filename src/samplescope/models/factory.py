"""One ``model_fn`` convention: ``seed -> nn.Module``, zero-argument factories accepted.

Every API that builds fresh models (``crossfit``, ``compute_measures``, ``train_ensemble``,
``fit_many``, ...) takes a ``model_fn``. It may be written either way:

- ``model_fn(seed) -> nn.Module`` (``lambda s: MyNet()``, ``functools.partial(mlp, ...)``
  with one free positional argument, a function with a ``seed`` parameter);
- ``model_fn() -> nn.Module`` (``MyNet``, ``lambda: MyNet()``).

:func:`seeded_model_fn` turns either into the seeded form, so the libraries call
``fn(seed)`` only. The wrapper is a picklable top-level class (process and Dask executors
ship it). Which form a callable has is read from its signature: a required positional
parameter, ``*args`` or a parameter named ``seed`` means it takes the seed. The caller still
seeds torch (``torch.manual_seed(seed)``) before building, so both forms get the same
initialisation for the same seed.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from torch import nn

__all__ = ["seeded_model_fn", "takes_seed", "build_from"]


def takes_seed(model_fn: Callable[..., Any]) -> bool:
    """Whether ``model_fn`` is called with a seed (see the module docstring)."""
    if not callable(model_fn):
        raise ValueError(
            f"model_fn: expected a callable seed -> nn.Module (or a zero-argument factory), "
            f"got {type(model_fn).__name__}"
        )
    if isinstance(model_fn, _ZeroArg):
        return True
    try:
        sig = inspect.signature(model_fn)
    except (TypeError, ValueError):  # builtins without a signature: assume the seeded form
        return True
    for p in sig.parameters.values():
        if p.kind is p.VAR_POSITIONAL or p.name == "seed":
            return True
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty:
            return True
    return False


class _ZeroArg:
    """``seed -> fn()``: a zero-argument factory in the seeded form (picklable)."""

    def __init__(self, fn: Callable[[], nn.Module]) -> None:
        self.fn = fn

    def __call__(self, seed: int) -> nn.Module:
        return self.fn()

    def __repr__(self) -> str:
        return f"seeded_model_fn({self.fn!r})"


def seeded_model_fn(model_fn: Callable[..., nn.Module]) -> Callable[[int], nn.Module]:
    """``model_fn`` in the ``seed -> nn.Module`` form (unchanged when it already takes a seed)."""
    return model_fn if takes_seed(model_fn) else _ZeroArg(model_fn)


def build_from(model_fn: Callable[..., nn.Module], seed: int, name: str = "model_fn") -> nn.Module:
    """``model_fn(seed)`` or ``model_fn()``; a ``ValueError`` naming ``name`` unless it is a module."""
    model = seeded_model_fn(model_fn)(int(seed))
    if not isinstance(model, nn.Module):
        raise ValueError(f"{name}: expected it to return an nn.Module, got {type(model).__name__}")
    return model
