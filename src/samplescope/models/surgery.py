"""Generic cuts of ``nn.Sequential`` models: trunk/head and deterministic prefix/stochastic rest."""

from __future__ import annotations

from torch import nn

__all__ = ["split_head", "split_at_first_dropout", "has_dropout"]

_DROPOUTS = (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout)


def _require_sequential(model: nn.Module, what: str) -> nn.Sequential:
    if not isinstance(model, nn.Sequential):
        raise ValueError(f"model: expected an nn.Sequential to {what}, got {type(model).__name__}")
    return model


def split_head(model: nn.Module) -> tuple[nn.Sequential, nn.Linear]:
    """Split a Sequential at its last ``nn.Linear``: ``(trunk, head)`` with ``head(trunk(x)) == model(x)``.

    The trunk's output ``h`` ``(N, D)`` is the penultimate feature vector. Layers after the
    last Linear (there should be none) are not allowed.
    """
    seq = _require_sequential(model, "split off its linear head")
    if len(seq) == 0 or not isinstance(seq[-1], nn.Linear):
        raise ValueError(
            "model: expected the last layer to be nn.Linear, got "
            f"{type(seq[-1]).__name__ if len(seq) else 'no layers'}"
        )
    return seq[:-1], seq[-1]


def split_at_first_dropout(model: nn.Module) -> tuple[nn.Sequential, nn.Sequential]:
    """``(prefix, rest)``: the deterministic layers before the first dropout, and the rest.

    ``rest(prefix(x)) == model(x)``; MC dropout runs ``prefix`` once and repeats ``rest``.
    """
    seq = _require_sequential(model, "cut it at its first dropout")
    for i, layer in enumerate(seq):
        if isinstance(layer, _DROPOUTS):
            return seq[:i], seq[i:]
    raise ValueError("model: expected at least one dropout layer for MC dropout, found none")


def has_dropout(model: nn.Module) -> bool:
    """Whether any sub-module is a dropout layer."""
    if not isinstance(model, nn.Module):
        raise ValueError(f"model: expected an nn.Module, got {type(model).__name__}")
    return any(isinstance(m, _DROPOUTS) for m in model.modules())
