"""Checks of a model against the data it is given (internal, raised at the public boundary).

A user model is any ``nn.Module``; whether it can read the inputs, and whether its logits
cover the labels, is only known by running it. These helpers run (or wrap) the first forward
pass so that a mismatch — inputs of the wrong width, a model with fewer classes than the
labels — is a ``ValueError`` naming the argument before any long work, not a torch
``RuntimeError`` / ``IndexError`` from deep inside a training loop.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn

__all__ = [
    "renamed_argument",
    "check_module",
    "forward_checked",
    "check_logits_for_labels",
    "probe_classes",
    "check_batch_logits",
]


def check_module(model: Any, name: str = "model") -> nn.Module:
    """``model`` if it is an ``nn.Module`` (``ValueError`` naming ``name`` otherwise)."""
    if not isinstance(model, nn.Module):
        raise ValueError(f"{name}: expected an nn.Module, got {type(model).__name__}")
    return model


def forward_checked(model: Any, xb: torch.Tensor, name: str = "data") -> Any:
    """``model(xb)``; a failure to run on these inputs becomes a ``ValueError`` naming ``name``.

    Out-of-memory errors are re-raised unchanged (they are not a property of the data).
    """
    try:
        return model(xb)
    except torch.cuda.OutOfMemoryError:
        raise
    except (RuntimeError, ValueError, TypeError, IndexError) as exc:
        raise ValueError(
            f"{name}: the model cannot run on inputs of shape {tuple(xb.shape[1:])} "
            f"(per sample): {type(exc).__name__}: {exc}"
        ) from exc


def _logits_of(outputs: Any) -> Any:
    return outputs[0] if isinstance(outputs, (tuple, list)) and outputs else outputs


def check_logits_for_labels(outputs: Any, labels_max: int | None, name: str = "data") -> int:
    """Check that the model's outputs are logits ``(B, C)`` covering labels up to
    ``labels_max`` (``C > labels_max``); return ``C``."""
    z = _logits_of(outputs)
    if not isinstance(z, torch.Tensor) or z.ndim != 2:
        got = tuple(z.shape) if isinstance(z, torch.Tensor) else type(z).__name__
        raise ValueError(
            f"model: expected logits of shape (B, C) (or a tuple starting with them), got {got}"
        )
    c = int(z.shape[1])
    if labels_max is not None and labels_max >= c:
        raise ValueError(
            f"{name}: expected labels in [0, {c}) (the model outputs {c} classes), "
            f"got labels up to {labels_max}"
        )
    return c


@torch.no_grad()
def probe_classes(
    model: nn.Module, x: Any, labels_max: int | None, *, device: Any = "cpu", name: str = "data"
) -> int:
    """Run ``model`` in eval mode (no grad) on the first sample of ``x``; check it reads the
    inputs and that its logits cover the labels; return ``C``. The mode is restored."""
    was = model.training
    model.eval()
    try:
        xb = torch.as_tensor(x[:1], device=torch.device(device))
        return check_logits_for_labels(forward_checked(model, xb, name), labels_max, name)
    finally:
        model.train(was)


def check_batch_logits(logits: Any, labels: Any) -> None:
    """Shapes of a per-sample loss's inputs: logits ``(B, C)``, ``C >= 2``, labels ``(B,)`` int
    in ``[0, C)`` (``ValueError`` naming the argument otherwise)."""
    if (
        not isinstance(logits, torch.Tensor)
        or logits.ndim != 2
        or logits.shape[1] < 2
        or logits.shape[0] == 0
    ):
        got = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__
        raise ValueError(f"logits: expected a non-empty (B, C) tensor with C >= 2, got {got}")
    if not isinstance(labels, torch.Tensor) or labels.shape != (logits.shape[0],):
        got = tuple(labels.shape) if isinstance(labels, torch.Tensor) else type(labels).__name__
        raise ValueError(f"labels: expected a ({logits.shape[0]},) tensor of classes, got {got}")
    if labels.dtype.is_floating_point or labels.dtype == torch.bool or labels.is_complex():
        raise ValueError(f"labels: expected integer classes, got dtype {labels.dtype}")
    if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= logits.shape[1]):
        raise ValueError(
            f"labels: expected classes in [0, {logits.shape[1]}), "
            f"got values in [{int(labels.min())}, {int(labels.max())}]"
        )


@contextlib.contextmanager
def renamed_argument(inner: str, outer: str) -> Iterator[None]:
    """Re-raise a ``ValueError`` that names ``inner`` (``"inner: ..."``) as naming ``outer``:
    for wrappers whose argument goes on under another name (``x`` passed as ``data=``)."""
    try:
        yield
    except ValueError as exc:
        msg = str(exc)
        if msg.startswith(f"{inner}:") or msg.startswith(f"{inner} "):
            raise ValueError(outer + msg[len(inner) :]) from exc
        raise
