"""Stochastic predictions ``(S, N, C)``: MC dropout, deep ensembles, test-time augmentation.

``predict_stochastic`` returns **probabilities** (softmax of the logits) of S stochastic
forward passes, stacked on a leading axis, for N samples and C classes. Work is chunked
over N (``batch_size`` samples at a time), so memory stays bounded for any N apart from
the ``(S, N, C)`` result itself; :func:`iter_stochastic` streams chunk results instead.

MC dropout (Gal & Ghahramani 2016). For an ``nn.Sequential`` whose first dropout layer is
at the top level, the deterministic prefix before it runs **once** per chunk and only the
rest is repeated S times, batched: the prefix output is broadcast against S dropout masks
and the rest of the network runs on cache-sized tiles of (repeats × samples). All
non-dropout layers stay in eval mode (BatchNorm uses its running statistics); dropout
scales kept units by ``1/(1 − p)`` like ``nn.Dropout``. Masks are drawn cheaply and
reproducibly (see :mod:`samplescope.uncertainty.masks`): the result depends on ``seed`` and
the sample positions only, not on ``batch_size`` or the chunking. ``consistent_masks=True``
uses the same S masks for every sample (less noisy rankings between samples).

Any other ``nn.Module`` (not Sequential, dropout nested in sub-modules, AlphaDropout) takes
the generic path: S full forward passes with only the dropout modules switched to training
mode (BatchNorm and the rest stay in eval mode); those are seeded per chunk, so they are
reproducible for a fixed ``batch_size`` but not chunk-invariant. A network without dropout
gets it from :func:`samplescope.models.add_mc_dropout`. Integer inputs (token ids) keep
their dtype (:func:`samplescope.data.as_input_array`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from .._validation import check_choice, check_integer
from ..data.split import DataSplit, as_input_array, as_split
from ..models import has_dropout, split_at_first_dropout
from ..training.checks import check_module
from .masks import MASK_BLOCK, MASK_RNGS, MaskSource, mix_seed

__all__ = ["predict_stochastic", "iter_stochastic", "METHODS"]

METHODS = ("mc_dropout", "ensemble", "tta")
_CHANNEL_DROPOUTS = (nn.Dropout1d, nn.Dropout2d, nn.Dropout3d)
_TILE_ELEMENTS = 1 << 19  # activations per tile of the repeated part (~2 MiB float32)
_DEVICE_TILE_ELEMENTS = 1 << 24  # on an accelerator: fewer, larger kernels (64 MiB float32)


def _logits(out: Any) -> torch.Tensor:
    return out[0] if isinstance(out, (tuple, list)) else out


def _as_input_array(data: Any) -> np.ndarray | None:
    """Inputs ``(N, ...)`` of an in-memory data argument, or None for an iterable of chunks."""
    if isinstance(data, (np.ndarray, torch.Tensor)):
        return as_input_array(data, "data")
    if isinstance(data, (DataSplit, torch.utils.data.Dataset)) or (
        isinstance(data, tuple) and len(data) in (2, 3)
    ):
        return as_split(data).x
    return None


def _chunks(data: Any, batch_size: int) -> Iterator[torch.Tensor]:
    x = _as_input_array(data)
    if x is not None:
        if len(x) == 0:
            raise ValueError("data: expected at least one sample, got 0")
        for lo in range(0, len(x), batch_size):
            yield torch.as_tensor(x[lo : lo + batch_size])
        return
    if not isinstance(data, Iterable):
        raise ValueError(
            "data: expected a DataSplit, an (x, y) tuple, an array (N, ...) or an iterable of "
            f"input chunks, got {type(data).__name__}"
        )
    for i, chunk in enumerate(data):
        if isinstance(chunk, (tuple, list)):
            chunk = chunk[0]  # (x, y, ...) batches from a DataLoader
        c = as_input_array(chunk, f"data chunk {i}")
        for lo in range(0, len(c), batch_size):
            yield torch.as_tensor(c[lo : lo + batch_size])


def _fast_plan(model: nn.Module) -> tuple[nn.Sequential, nn.Sequential] | None:
    """``(prefix, rest)`` when the batched MC-dropout path applies, else None."""
    if not isinstance(model, nn.Sequential):
        return None
    try:
        prefix, rest = split_at_first_dropout(model)
    except ValueError:
        return None
    if has_dropout(prefix):
        return None
    for layer in rest:
        if isinstance(layer, (nn.AlphaDropout, nn.FeatureAlphaDropout)):
            return None
        if not isinstance(layer, nn.modules.dropout._DropoutNd) and has_dropout(layer):
            return None
    return prefix, rest


def _apply_mask(
    x: torch.Tensor, layer: nn.Module, idx: int, masks: MaskSource, sg: int, s0: int, pos0: int
) -> torch.Tensor:
    """Dropout (scaled by 1/keep) of ``x`` ``(sg or 1, n, ...)`` with the masks of repeats
    ``[s0, s0 + sg)`` and positions ``[pos0, pos0 + n)``; returns ``(sg, n, ...)``."""
    p = float(layer.p)
    if p <= 0.0:
        return x.expand(sg, *x.shape[1:]).clone()
    if p >= 1.0:
        return torch.zeros(sg, *x.shape[1:], dtype=x.dtype, device=x.device)
    keep = 1.0 - p
    n = x.shape[1]
    draw = masks.hash_mask if masks.rng == "hash" else masks.mask
    if isinstance(layer, _CHANNEL_DROPOUTS):
        m = draw(idx, keep, tuple(x.shape[2:3]), s0, s0 + sg, pos0, pos0 + n)
        m = m.view(*m.shape, *([1] * (x.dim() - 3)))
    else:
        m = draw(idx, keep, tuple(x.shape[2:]), s0, s0 + sg, pos0, pos0 + n)
    m = m.to(x.device)
    if x.shape[0] == 1:  # the shared prefix output: scale the n rows once, then broadcast
        return (x * (1.0 / keep)) * m
    return x.mul_(m).mul_(1.0 / keep)  # a fresh intermediate of this tile


def _mc_tile(
    rest: nn.Sequential, h: torch.Tensor, masks: MaskSource, sg: int, s0: int, pos0: int
) -> torch.Tensor:
    """Logits ``(sg, n, C)`` of the repeated part for repeats ``[s0, s0 + sg)`` of the prefix
    outputs ``h`` ``(n, ...)`` at absolute positions ``[pos0, pos0 + n)``."""
    n = h.shape[0]
    x = h.unsqueeze(0)  # broadcast over repeats until the first dropout expands it
    for idx, layer in enumerate(rest):
        if isinstance(layer, nn.modules.dropout._DropoutNd):
            x = _apply_mask(x, layer, idx, masks, sg, s0, pos0)
        else:
            b = x.shape[0]
            x = layer(x.reshape(b * n, *x.shape[2:]))
            x = x.view(b, n, *x.shape[1:])
    return x.expand(sg, *x.shape[1:]) if x.shape[0] != sg else x


def _mc_chunk(
    prefix: nn.Sequential,
    rest: nn.Sequential,
    xb: torch.Tensor,
    offset: int,
    samples: int,
    masks: MaskSource,
) -> torch.Tensor:
    h = prefix(xb)
    n = h.shape[0]
    per_sample = max(1, h[0].numel())
    out: torch.Tensor | None = None
    # tiles: (bytes) blocks of MASK_BLOCK samples at absolute positions × groups of repeats;
    # (hash) any rows, sized by the tile budget (larger on an accelerator)
    budget = _TILE_ELEMENTS if xb.device.type == "cpu" else _DEVICE_TILE_ELEMENTS
    lo = 0
    while lo < n:
        pos = offset + lo
        if masks.rng == "hash":
            hi = min(n, lo + max(1, budget // per_sample))
        else:
            hi = min(n, lo + MASK_BLOCK - pos % MASK_BLOCK)
        sg = max(1, min(samples, budget // (per_sample * (hi - lo))))
        for s0 in range(0, samples, sg):
            g = min(sg, samples - s0)
            logits = _mc_tile(rest, h[lo:hi], masks, g, s0, pos)
            if out is None:
                out = torch.empty(
                    samples, n, logits.shape[-1], dtype=torch.float32, device=xb.device
                )
            out[s0 : s0 + g, lo:hi] = torch.softmax(logits.float(), dim=-1)
        lo = hi
    assert out is not None
    return out


def _set_dropout_train(model: nn.Module, on: bool) -> None:
    for m in model.modules():
        if isinstance(m, nn.modules.dropout._DropoutNd):  # includes AlphaDropout
            m.train(on)


def _full_passes(
    model: nn.Module, xb: torch.Tensor, samples: int, seed: int, chunk: int
) -> torch.Tensor:
    outs = []
    with torch.random.fork_rng(devices=[]):
        for s in range(samples):
            torch.manual_seed(mix_seed(seed, chunk, s))
            outs.append(torch.softmax(_logits(model(xb)).float(), dim=-1))
    return torch.stack(outs)


def _tta_chunk(
    model: nn.Module,
    xb: torch.Tensor,
    transforms: Sequence[Callable[[torch.Tensor], torch.Tensor]] | Callable[..., torch.Tensor],
    samples: int,
    seed: int,
    chunk: int,
) -> torch.Tensor:
    outs = []
    if callable(transforms) and not isinstance(transforms, Sequence):
        with torch.random.fork_rng(devices=[]):
            for s in range(samples):
                torch.manual_seed(mix_seed(seed, chunk, s))
                outs.append(torch.softmax(_logits(model(transforms(xb))).float(), dim=-1))
    else:
        for t in transforms:
            outs.append(torch.softmax(_logits(model(t(xb))).float(), dim=-1))
    return torch.stack(outs)


def iter_stochastic(
    model: nn.Module | None,
    data: Any,
    method: str = "mc_dropout",
    *,
    samples: int | None = 20,
    batch_size: int = 256,
    seed: int = 0,
    consistent_masks: bool = False,
    transforms: Any = None,
    members: Sequence[nn.Module] | None = None,
    device: str | torch.device = "cpu",
    offset: int = 0,
    mask_rng: str = "auto",
) -> Iterator[np.ndarray]:
    """Like :func:`predict_stochastic` but yields ``(S, b, C)`` float32 arrays chunk by chunk.

    ``data`` may also be any iterable of input chunks ``(b, ...)`` (arrays, tensors or
    ``(x, y, ...)`` tuples, e.g. a DataLoader): positions count from 0 over the stream, so
    the MC-dropout masks, and hence the result, do not depend on how the stream is cut.
    ``offset`` is the absolute position of the first sample: shards of one data set scored
    separately (other processes or machines) with their start positions as ``offset`` give
    exactly the masks of a single pass over the whole set.
    """
    check_choice(method, "method", METHODS)
    check_choice(mask_rng, "mask_rng", ("auto", *MASK_RNGS))
    batch_size = check_integer(batch_size, "batch_size")
    seed = check_integer(seed, "seed", minimum=0)
    device = torch.device(device)
    models: list[nn.Module]
    if method == "ensemble":
        if not members:
            raise ValueError(
                "members: expected a non-empty sequence of models for method='ensemble'"
            )
        if isinstance(members, nn.Module) or not isinstance(members, Sequence):
            raise ValueError(
                f"members: expected a sequence of models, got {type(members).__name__}"
            )
        for m in members:
            check_module(m, "members")
        if samples is not None and samples != len(members):
            raise ValueError(f"samples: expected None or {len(members)} (= members), got {samples}")
        models = list(members)
    else:
        if model is None:
            raise ValueError(f"model: expected an nn.Module for method={method!r}, got None")
        models = [check_module(model)]
    if method == "tta":
        if transforms is None:
            raise ValueError(
                "transforms: expected a sequence of callables (one per view) or one "
                "random callable for method='tta', got None"
            )
        if isinstance(transforms, Sequence):
            if len(transforms) == 0 or not all(callable(t) for t in transforms):
                raise ValueError("transforms: expected a non-empty sequence of callables")
            if samples is not None and samples != len(transforms):
                raise ValueError(
                    f"samples: expected None or {len(transforms)} (= transforms), got {samples}"
                )
        elif not callable(transforms):
            raise ValueError(f"transforms: expected callables, got {type(transforms).__name__}")
        elif samples is None:
            raise ValueError("samples: expected a positive count with a random transform, got None")
    if method == "mc_dropout":
        if samples is None:
            raise ValueError("samples: expected a positive count for method='mc_dropout', got None")
        if not has_dropout(models[0]):
            raise ValueError("model: expected dropout layers for method='mc_dropout', found none")
    if samples is not None:
        samples = check_integer(samples, "samples")

    was_training = [[sub.training for sub in m.modules()] for m in models]
    for m in models:
        m.to(device).eval()
    plan = _fast_plan(models[0]) if method == "mc_dropout" else None
    if method == "mc_dropout" and plan is None:
        _set_dropout_train(models[0], True)
    rng = mask_rng if mask_rng != "auto" else ("bytes" if device.type == "cpu" else "hash")
    masks = MaskSource(seed, consistent_masks, rng, device)
    offset = check_integer(offset, "offset", minimum=0)
    try:
        with torch.no_grad():
            for chunk, xb in enumerate(_chunks(data, batch_size)):
                xb = xb.to(device)
                try:
                    p = _chunk_probs(
                        method, models, plan, transforms, xb, offset, samples, seed, chunk, masks
                    )
                except (RuntimeError, IndexError, TypeError) as exc:
                    if chunk > 0 or isinstance(exc, torch.cuda.OutOfMemoryError):
                        raise
                    # the first chunk: a model that cannot read these inputs is a data error
                    raise ValueError(
                        f"data: the model cannot run on inputs of shape {tuple(xb.shape[1:])} "
                        f"(per sample): {type(exc).__name__}: {exc}"
                    ) from exc
                offset += xb.shape[0]
                yield p.cpu().numpy()
    finally:
        for m, flags in zip(models, was_training, strict=True):
            for sub, flag in zip(m.modules(), flags, strict=True):
                sub.training = flag


def _chunk_probs(
    method: str,
    models: list[nn.Module],
    plan: Any,
    transforms: Any,
    xb: torch.Tensor,
    offset: int,
    samples: int | None,
    seed: int,
    chunk: int,
    masks: Any,
) -> torch.Tensor:
    if method == "ensemble":
        return torch.stack([torch.softmax(_logits(m(xb)).float(), -1) for m in models])
    if method == "tta":
        return _tta_chunk(models[0], xb, transforms, samples or 0, seed, chunk)
    if plan is not None:
        return _mc_chunk(plan[0], plan[1], xb, offset, samples or 0, masks)
    return _full_passes(models[0], xb, samples or 0, seed, chunk)


def predict_stochastic(
    model: nn.Module | None,
    data: Any,
    method: str = "mc_dropout",
    *,
    samples: int | None = 20,
    batch_size: int = 256,
    seed: int = 0,
    consistent_masks: bool = False,
    transforms: Any = None,
    members: Sequence[nn.Module] | None = None,
    device: str | torch.device = "cpu",
    offset: int = 0,
    mask_rng: str = "auto",
) -> np.ndarray:
    """S stochastic predictions of every sample: probabilities ``(S, N, C)`` float32.

    Args:
        model: a network returning logits ``(B, C)`` (or a tuple starting with them). For
            ``"ensemble"`` pass ``members`` instead (``model`` is ignored).
        data: a DataSplit, ``(x, y)`` tuple, torch Dataset, input array ``(N, ...)``, or an
            iterable of input chunks.
        method: ``"mc_dropout"`` (S passes with dropout active, Gal & Ghahramani 2016),
            ``"ensemble"`` (one pass per member, Lakshminarayanan et al. 2017) or ``"tta"``
            (one pass per test-time view).
        samples: S (MC passes; for TTA with one random transform, the number of views;
            must be None or match ``len(members)`` / ``len(transforms)`` otherwise).
        batch_size: samples per chunk (memory is bounded by the chunk, not N).
        seed: seeds the dropout masks / random transforms (same seed, same result).
        consistent_masks: MC dropout with the same S masks for every sample.
        transforms: for ``"tta"``: a sequence of callables ``x (B, ...) -> x'`` (one view each,
            e.g. identity, flips, shifts) or one random callable applied S times.
        members: for ``"ensemble"``: the trained member models.
        device: torch device.
        offset: absolute position of the first sample (MC-dropout masks depend on it; use
            the shard start when scoring shards of one data set separately).
        mask_rng: how the fast MC-dropout path draws masks: ``"bytes"`` (random bytes on the
            CPU, fastest there), ``"hash"`` (a counter-based hash computed on ``device``, the
            same masks on every device: CPU and GPU results then agree to float precision)
            or ``"auto"`` (bytes on the CPU, hash elsewhere). See
            :mod:`samplescope.uncertainty.masks`.

    Returns:
        ``(S, N, C)`` float32 probabilities; decompose them with
        :func:`samplescope.uncertainty.decompose`.
    """
    parts = list(
        iter_stochastic(
            model,
            data,
            method,
            samples=samples,
            batch_size=batch_size,
            seed=seed,
            consistent_masks=consistent_masks,
            transforms=transforms,
            members=members,
            device=device,
            offset=offset,
            mask_rng=mask_rng,
        )
    )
    if not parts:
        raise ValueError("data: expected at least one sample, got an empty iterable")
    return np.concatenate(parts, axis=1)
