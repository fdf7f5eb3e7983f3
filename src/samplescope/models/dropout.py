"""Insert MC dropout into a network that has none (the idea of Baal's ``patch_module``).

``add_mc_dropout(model, p, where=...)`` attaches an ``nn.Dropout(p)`` to each chosen
sub-module (as its child ``mc_dropout``) and a forward pre-hook that applies it to the
sub-module's first input: the sub-module then computes ``m(dropout(x), ...)``. Nothing else
changes: the parameters, the ``state_dict`` keys (dropout has no state) and, because
``nn.Dropout`` is the identity in ``eval()`` mode, every output in eval mode. The inserted
layers are ordinary ``nn.Dropout`` modules, so :func:`samplescope.uncertainty.predict_stochastic`
(``method="mc_dropout"``) switches them on for its S passes (Gal & Ghahramani 2016) like any
built-in dropout. ``remove_mc_dropout`` undoes it.

``where``:

- ``"head"`` (default): before the last ``nn.Linear`` (dropout on the penultimate features,
  the usual choice for a pretrained network);
- ``"linear"``: before every ``nn.Linear``;
- a sub-module name or a list of names (``model.named_modules()``);
- a callable ``(name, module) -> bool``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

from torch import nn

from .._validation import check_number
from .features import last_linear, resolve_layer

__all__ = ["add_mc_dropout", "remove_mc_dropout", "MC_DROPOUT_NAME"]

MC_DROPOUT_NAME = "mc_dropout"


def _pre_hook(module: nn.Module, args: tuple[Any, ...]) -> tuple[Any, ...]:
    drop = getattr(module, MC_DROPOUT_NAME)
    return (drop(args[0]), *args[1:]) if args else args


def _targets(model: nn.Module, where: Any) -> list[tuple[str, nn.Module]]:
    if where == "head":
        return [last_linear(model)]
    if where == "linear":
        found = [(n, m) for n, m in model.named_modules() if isinstance(m, nn.Linear)]
        if not found:
            raise ValueError(f"where: 'linear' found no nn.Linear in {type(model).__name__}")
        return found
    if isinstance(where, str):
        name, mod, _ = resolve_layer(model, where)
        return [(name, mod)]
    if callable(where):
        found = [(n, m) for n, m in model.named_modules() if n and where(n, m)]
        if not found:
            raise ValueError("where: the callable selected no sub-module")
        return found
    if isinstance(where, Sequence) and where and all(isinstance(w, str) for w in where):
        return [resolve_layer(model, w)[:2] for w in where]
    raise ValueError(
        "where: expected 'head', 'linear', a sub-module name, a list of names or a callable "
        f"(name, module) -> bool, got {where!r}"
    )


def add_mc_dropout(
    model: nn.Module,
    p: float = 0.1,
    *,
    where: str | Sequence[str] | Callable[[str, nn.Module], bool] = "head",
    inplace: bool = True,
) -> nn.Module:
    """Insert ``nn.Dropout(p)`` before the chosen sub-modules (see the module docstring).

    Args:
        model: any ``nn.Module``.
        p: drop probability in ``(0, 1)``.
        where: which sub-modules get dropout on their input.
        inplace: patch ``model`` itself (default) or a deep copy.

    Returns:
        The patched model (``model`` itself when ``inplace``). Eval-mode outputs are unchanged.
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model: expected an nn.Module, got {type(model).__name__}")
    p = check_number(p, "p")
    if not 0.0 < p < 1.0:
        raise ValueError(f"p: expected a drop probability in (0, 1), got {p}")
    if not isinstance(inplace, bool):
        raise ValueError(f"inplace: expected True or False, got {inplace!r}")
    if not inplace:
        model = copy.deepcopy(model)
    targets = _targets(model, where)
    for name, mod in targets:
        if hasattr(mod, MC_DROPOUT_NAME):
            raise ValueError(f"where: {name!r} already has MC dropout (remove_mc_dropout first)")
    for _name, mod in targets:
        drop = nn.Dropout(p)
        drop.train(model.training)
        mod.add_module(MC_DROPOUT_NAME, drop)
        mod.register_forward_pre_hook(_pre_hook)
    return model


def remove_mc_dropout(model: nn.Module) -> nn.Module:
    """Remove every dropout inserted by :func:`add_mc_dropout` (in place); returns ``model``."""
    if not isinstance(model, nn.Module):
        raise ValueError(f"model: expected an nn.Module, got {type(model).__name__}")
    for mod in list(model.modules()):
        hooks = [k for k, h in mod._forward_pre_hooks.items() if h is _pre_hook]
        for k in hooks:
            del mod._forward_pre_hooks[k]
        if hooks and hasattr(mod, MC_DROPOUT_NAME):
            delattr(mod, MC_DROPOUT_NAME)
    return model
