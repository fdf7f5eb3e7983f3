"""Model specs: the architecture as JSON, so a saved model reloads without repeating it.

A spec is a plain dict ``{"kind", "input_shape", "num_classes", "options"}``:

- ``kind``: ``"mlp"`` | ``"cnn"`` | ``"gal_cnn"`` | ``"resnet"``;
- ``input_shape``: one sample's shape, e.g. ``[1, 28, 28]`` or ``[64]``;
- ``num_classes``: ``C``, the number of logits;
- ``options``: keyword arguments of the factory (``hidden``, ``dropout``, ``depth``, ...).

:func:`save_model` writes ``{"format", "spec" (JSON text), "state_dict"}`` with
``torch.save``; :func:`load_model` reads it back with ``weights_only=True`` (no pickled
code runs) and rebuilds the network from the spec. :func:`resolve_kind` is the one rule
for ``kind="auto"`` used by every command: an MLP for inputs of 8×8 or smaller, the small
CNN otherwise; with ``need_dropout`` (MC dropout) an MLP with dropout 0.5, or Gal's CNN.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .._validation import check_num_classes
from .nets import _input_shape, gal_cnn, mlp, resnet, small_cnn

__all__ = [
    "MODEL_FORMAT",
    "MODEL_KINDS",
    "build_model",
    "load_model",
    "model_spec",
    "resolve_kind",
    "save_model",
]

MODEL_KINDS = ("mlp", "cnn", "gal_cnn", "resnet")
MODEL_FORMAT = "samplescope.model/1"
_OPTIONS = {
    "mlp": ("hidden", "dropout"),
    "cnn": ("dropout",),
    "gal_cnn": (),
    "resnet": ("depth", "width"),
}


def _is_small(shape: tuple[int, ...]) -> bool:
    return len(shape) < 3 or shape[-1] <= 8


def resolve_kind(
    kind: str | None, input_shape: Sequence[int], *, need_dropout: bool = False
) -> str:
    """``kind`` with ``None``/``"auto"`` replaced by the default for ``input_shape``.

    Default: ``"mlp"`` for inputs of 8×8 or smaller (digits), ``"cnn"`` otherwise; with
    ``need_dropout`` ``"gal_cnn"`` for images (the MLP then gets dropout 0.5, see
    :func:`model_spec`). Unknown kinds raise ``ValueError`` naming ``model``.
    """
    shape = _input_shape(input_shape)
    if kind in (None, "auto"):
        if _is_small(shape):
            return "mlp"
        return "gal_cnn" if need_dropout else "cnn"
    if not isinstance(kind, str) or kind not in MODEL_KINDS:
        raise ValueError(f"model: expected auto or one of {list(MODEL_KINDS)}, got {kind!r}")
    if kind != "mlp" and len(shape) != 3:
        raise ValueError(f"model: {kind!r} needs (C, H, W) image inputs, got input shape {shape}")
    return kind


def model_spec(
    kind: str | None,
    input_shape: Sequence[int],
    num_classes: int,
    *,
    need_dropout: bool = False,
    **options: Any,
) -> dict[str, Any]:
    """The spec of the model :func:`build_model` makes (``kind`` resolved by :func:`resolve_kind`).

    With ``need_dropout`` and an MLP, ``dropout`` defaults to 0.5 (MC dropout needs it).
    """
    resolved = resolve_kind(kind, input_shape, need_dropout=need_dropout)
    num_classes = check_num_classes(num_classes)
    allowed = _OPTIONS[resolved]
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ValueError(
            f"options: {resolved!r} takes {list(allowed) or 'no options'}, got {unknown}"
        )
    if need_dropout and resolved == "mlp":
        options.setdefault("dropout", 0.5)
    spec = {
        "kind": resolved,
        "input_shape": list(_input_shape(input_shape)),
        "num_classes": num_classes,
        "options": {k: list(v) if isinstance(v, tuple) else v for k, v in options.items()},
    }
    try:  # the option values are checked by the factory itself (cheap: no forward pass)
        _build(spec)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"options: {exc}") from None
    return spec


def build_model(spec: dict[str, Any]) -> nn.Module:
    """The untrained network a spec describes (``ValueError`` naming ``spec`` if it is bad)."""
    if not isinstance(spec, dict):
        raise ValueError(f"spec: expected a dict (see model_spec), got {type(spec).__name__}")
    for key in ("kind", "input_shape", "num_classes"):
        if key not in spec:
            raise ValueError(f"spec: expected a {key!r} entry, got keys {sorted(spec)}")
    opts = spec.get("options") or {}
    if not isinstance(opts, dict):
        raise ValueError(f"spec: expected a dict of options, got {opts!r}")
    try:
        checked = model_spec(spec["kind"], spec["input_shape"], spec["num_classes"], **opts)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"spec: {exc}") from None
    return _build(checked)


def _build(spec: dict[str, Any]) -> nn.Module:
    kind = spec["kind"]
    shape = tuple(spec["input_shape"])
    c = spec["num_classes"]
    opts = dict(spec["options"])
    if kind == "mlp":
        if "hidden" in opts:
            opts["hidden"] = tuple(opts["hidden"])
        return mlp(math.prod(shape), c, **opts)
    if kind == "cnn":
        return small_cnn(c, shape[0], shape[1], **opts)
    if kind == "gal_cnn":
        return gal_cnn(c, shape[0], shape[1])
    return resnet(opts.get("depth", 20), c, shape[0], opts.get("width", 16))


def save_model(model: nn.Module, path: str | Path, spec: dict[str, Any]) -> Path:
    """Write ``model``'s weights and its ``spec`` to ``path`` (atomically, ``torch.save``)."""
    if not isinstance(model, nn.Module):
        raise ValueError(f"model: expected an nn.Module, got {type(model).__name__}")
    try:  # the spec must fit the weights
        build_model(spec).load_state_dict(model.state_dict())
    except RuntimeError as exc:
        raise ValueError(f"spec: does not fit the model's weights ({exc})") from None
    path = Path(path)
    if not path.parent.is_dir():
        raise ValueError(f"path: expected a file in an existing folder, got {str(path)!r}")
    payload = {
        "format": MODEL_FORMAT,
        "spec": json.dumps(spec, sort_keys=True),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
    }
    # atomic: write a temporary file beside the target, then rename (models sit below io)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        torch.save(payload, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def load_model(path: str | Path, *, flag: str = "model_path") -> tuple[nn.Module, dict[str, Any]]:
    """``(model, spec)`` from a file written by :func:`save_model` (``weights_only=True``).

    A bare ``state_dict`` (no architecture stored) raises ``ValueError`` naming ``flag``.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{flag}: expected an existing model file (.pt), got {str(path)!r}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file gets one clear message
        raise ValueError(f"{flag}: cannot read {str(path)!r} as a torch file ({exc})") from None
    if not isinstance(payload, dict) or payload.get("format") != MODEL_FORMAT:
        raise ValueError(
            f"{flag}: {str(path)!r} holds no architecture (a bare state dict, or not a "
            f"samplescope model); expected a file written by samplescope train / save_model"
        )
    try:
        spec = json.loads(payload["spec"])
        net = build_model(spec)
        net.load_state_dict(payload["state_dict"])
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{flag}: {str(path)!r} holds a broken model spec ({exc})") from None
    except RuntimeError as exc:
        raise ValueError(f"{flag}: weights do not match the stored spec {spec} ({exc})") from None
    return net, spec
