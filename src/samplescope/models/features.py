"""Features from a named layer of any ``nn.Module``, by forward hooks.

The trust oracles, TrustScore, the diversity penalty and BADGE need the penultimate feature
vector ``h(x)`` ``(N, D)`` of a classifier. ``split_head`` gives it only for an
``nn.Sequential``; this module gives it for any module:

- ``layer=None``: the **input of the last** ``nn.Linear`` **module** (in ``named_modules``
  order), i.e. the penultimate features when the classifier ends with a linear head;
- ``layer="name"``: the **output** of the sub-module of that name (``model.named_modules()``),
  flattened to ``(N, D)``.

The model runs in ``eval()`` mode under ``torch.no_grad()`` (its train/eval state is restored
afterwards); the logits come from the same forward pass, so ``features_and_logits`` costs one
pass per batch.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

__all__ = ["features_and_logits", "last_linear", "layer_features", "resolve_layer"]


def _check_model(model: Any) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise ValueError(f"model: expected an nn.Module, got {type(model).__name__}")
    return model


def last_linear(model: nn.Module) -> tuple[str, nn.Linear]:
    """``(name, module)`` of the last ``nn.Linear`` in ``model.named_modules()`` order.

    For a classifier ending in a linear head this is the head: ``logits = W h + b``.
    """
    found = [(n, m) for n, m in _check_model(model).named_modules() if isinstance(m, nn.Linear)]
    if not found:
        raise ValueError(
            f"model: expected an nn.Linear layer to take the features before, found none in "
            f"{type(model).__name__}; pass layer= naming the feature layer"
        )
    return found[-1]


def resolve_layer(model: nn.Module, layer: str | None) -> tuple[str, nn.Module, bool]:
    """``(name, module, use_input)``: where the features are read.

    ``use_input`` is True for the default (the input of the last Linear), False for a named
    layer (its output). An unknown name raises a ``ValueError`` listing the valid ones.
    """
    _check_model(model)
    if layer is None:
        name, mod = last_linear(model)
        return name, mod, True
    if not isinstance(layer, str) or not layer:
        raise ValueError(f"layer: expected a sub-module name or None, got {layer!r}")
    modules = dict(model.named_modules())
    if layer not in modules:
        names = [n for n in modules if n]
        shown = ", ".join(names[:20]) + (" ..." if len(names) > 20 else "")
        raise ValueError(f"layer: expected one of the model's sub-modules ({shown}), got {layer!r}")
    return layer, modules[layer], False


def _as_input(x: Any) -> torch.Tensor:
    if isinstance(x, np.ndarray):
        x = torch.from_numpy(x)
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"x: expected a numpy array or a tensor, got {type(x).__name__}")
    if x.ndim < 2 or len(x) == 0:
        raise ValueError(
            f"x: expected inputs (N, ...) with at least one sample, got shape {tuple(x.shape)}"
        )
    if x.is_floating_point() and not bool(torch.isfinite(x).all()):
        raise ValueError("x: expected finite values, got NaN or inf")
    if x.dtype == torch.float64:
        x = x.float()
    return x


@torch.no_grad()
def features_and_logits(
    model: nn.Module,
    x: Any,
    *,
    layer: str | None = None,
    batch_size: int = 1024,
    device: str | torch.device | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Features ``(N, D)`` at ``layer`` and logits ``(N, C)``, from one eval-mode pass.

    ``x``: inputs ``(N, ...)`` (float, or integer token ids, whose dtype is kept). Returns CPU
    float32 tensors.
    """
    name, mod, use_input = resolve_layer(model, layer)
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise ValueError(f"batch_size: expected a positive integer, got {batch_size!r}")
    x = _as_input(x)
    dev = torch.device(device) if device is not None else _model_device(model)
    captured: list[torch.Tensor] = []

    def grab(t: Any) -> None:
        if isinstance(t, tuple):
            t = t[0]
        if not isinstance(t, torch.Tensor):
            raise ValueError(f"layer: {name!r} does not give a tensor ({type(t).__name__})")
        captured.append(t.detach().flatten(1).float().cpu())

    if use_input:
        handle = mod.register_forward_pre_hook(lambda _m, args: grab(args[0]))
    else:
        handle = mod.register_forward_hook(lambda _m, _args, out: grab(out))
    was_training = model.training
    model.eval()
    feats, logits = [], []
    try:
        for i in range(0, len(x), batch_size):
            captured.clear()
            try:
                out = model(x[i : i + batch_size].to(dev))
            except (RuntimeError, IndexError) as exc:
                raise ValueError(
                    f"x: the model cannot run on inputs of shape {tuple(x.shape)} "
                    f"(dtype {x.dtype}): {exc}"
                ) from exc
            if not captured:
                raise ValueError(f"layer: {name!r} was not called in the model's forward pass")
            feats.append(captured[-1])
            logits.append(out.detach().float().cpu())
    finally:
        handle.remove()
        model.train(was_training)
    return torch.cat(feats), torch.cat(logits)


def layer_features(
    model: nn.Module,
    x: Any,
    *,
    layer: str | None = None,
    batch_size: int = 1024,
    device: str | torch.device | None = None,
) -> torch.Tensor:
    """Features ``(N, D)`` at ``layer`` (default: the input of the last Linear); see module doc."""
    return features_and_logits(model, x, layer=layer, batch_size=batch_size, device=device)[0]


def _model_device(model: nn.Module) -> torch.device:
    for p in model.parameters():
        return p.device
    return torch.device("cpu")
