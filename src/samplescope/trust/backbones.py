"""Oracle backbones ``x -> h(x)`` ``(B, D)`` built from any frozen classifier.

- :class:`SequentialBackbone`: an ``nn.Sequential`` classifier's trunk copied
  (:func:`samplescope.models.split_head`), its first ``k`` layers frozen (computed once, in
  eval mode) and the rest fine-tuned (Luo et al. 2021);
- :class:`HookedBackbone`: a deep copy of **any** ``nn.Module``, fine-tuned, whose features
  are read at a named layer by a forward hook (default: the input of the last ``nn.Linear``,
  :func:`samplescope.models.resolve_layer`);
- :class:`FrozenFeatures`: the deployed classifier itself (not copied, never trained), its
  features at that layer (:func:`samplescope.models.layer_features`);
- :class:`LogitStatsBackbone` (``features="logit_stats"``): standardised statistics of the
  logits (:func:`logit_stats`), the same for every model of the task — so an oracle can
  train on the out-of-fold models' values (cross-fitted labels) and run on the deployed
  classifier's.

:func:`build_backbone` returns ``(backbone, trainable, inputs)``: the module used at
prediction (raw ``x`` → ``h``), the module trained on ``inputs`` (precomputed frozen-prefix
outputs, or the raw inputs), and those inputs ``(N, ...)``.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import torch
from torch import nn

from ..models import layer_features, resolve_layer, split_head

__all__ = [
    "SequentialBackbone",
    "HookedBackbone",
    "FrozenFeatures",
    "LogitStatsBackbone",
    "build_backbone",
    "logit_stats",
]


class SequentialBackbone(nn.Module):
    """Frozen prefix (always eval) followed by a trainable suffix; output flattened ``(B, D)``."""

    def __init__(self, prefix: nn.Sequential, suffix: nn.Sequential) -> None:
        super().__init__()
        self.prefix = prefix
        self.suffix = suffix
        for p in self.prefix.parameters():
            p.requires_grad_(False)

    def train(self, mode: bool = True) -> SequentialBackbone:
        super().train(mode)
        self.prefix.eval()
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            f = self.prefix(x)
        return self.suffix(f).flatten(1)


class _Flat(nn.Module):
    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(x).flatten(1)


class HookedBackbone(nn.Module):
    """A trainable deep copy of ``model``; ``forward(x)`` runs it and returns the features
    ``(B, D)`` captured at ``layer`` (its output; the input of the last Linear by default)."""

    def __init__(self, model: nn.Module, layer: str | None = None) -> None:
        super().__init__()
        self.model = copy.deepcopy(model)
        self.layer = layer
        self._captured: list[torch.Tensor] = []
        self._hook()

    def _hook(self) -> None:
        _, mod, use_input = resolve_layer(self.model, self.layer)
        if use_input:
            mod.register_forward_pre_hook(lambda _m, args: self._grab(args[0]))
        else:
            mod.register_forward_hook(lambda _m, _a, out: self._grab(out))

    def _grab(self, t: Any) -> None:
        self._captured.append(t[0] if isinstance(t, tuple) else t)

    def __deepcopy__(self, memo: dict[int, Any]) -> HookedBackbone:
        return HookedBackbone(self.model, self.layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._captured.clear()
        self.model(x)
        if not self._captured:
            raise ValueError(f"layer: {self.layer!r} was not called in the model's forward pass")
        return self._captured[-1].flatten(1)


class FrozenFeatures(nn.Module):
    """The deployed classifier's features at ``layer`` (eval mode, no gradient)."""

    def __init__(self, model: nn.Module, layer: str | None = None) -> None:
        super().__init__()
        self.model = model
        self.layer = layer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return layer_features(self.model, x, layer=self.layer, batch_size=max(1, len(x)))


@torch.no_grad()
def _run(fn: Any, x: np.ndarray, batch_size: int, dev: torch.device) -> torch.Tensor:
    return torch.cat(
        [
            fn(torch.as_tensor(x[i : i + batch_size], device=dev)).float().cpu()
            for i in range(0, len(x), batch_size)
        ]
    )


def build_backbone(
    classifier: nn.Module,
    x: np.ndarray,
    *,
    backbone: str,
    freeze_layers: int,
    layer: str | None,
    batch_size: int,
    device: torch.device,
) -> tuple[nn.Module, nn.Module, torch.Tensor]:
    """``(backbone, trainable, inputs)`` for a frozen ``classifier`` and training inputs ``x``.

    ``backbone="finetune"``: an ``nn.Sequential`` with ``layer=None`` keeps Luo's copied
    trunk (first ``freeze_layers`` layers frozen and precomputed); any other module is copied
    whole and read by a hook (``freeze_layers`` must be 0). ``"frozen"``: the features of the
    deployed classifier, precomputed; only the head trains.
    """
    seq = None
    if isinstance(classifier, nn.Sequential) and layer is None:
        try:
            seq = split_head(classifier)[0]
        except ValueError:
            seq = None
    if seq is not None:
        k = len(seq) if backbone == "frozen" else freeze_layers
        if not isinstance(k, (int, np.integer)) or not 0 <= k <= len(seq):
            raise ValueError(f"freeze_layers: expected an integer in [0, {len(seq)}], got {k!r}")
        prefix, suffix = copy.deepcopy(seq[: int(k)]), copy.deepcopy(seq[int(k) :])
        was = classifier.training
        classifier.eval()
        try:
            inputs = _run(seq[: int(k)].to(device), x, batch_size, device)
        finally:
            classifier.train(was)
        full = SequentialBackbone(prefix, suffix).to(device)
        for p in full.suffix.parameters():
            p.requires_grad_(True)
        return full, _Flat(full.suffix), inputs
    if freeze_layers:
        raise ValueError(
            "freeze_layers: applies to an nn.Sequential classifier read at its default layer "
            f"only, got {freeze_layers} for {type(classifier).__name__} (layer={layer!r})"
        )
    if backbone == "frozen":
        frozen = FrozenFeatures(classifier, layer)
        inputs = layer_features(classifier, x, layer=layer, batch_size=batch_size, device=device)
        return frozen, nn.Flatten(), inputs
    hooked = HookedBackbone(classifier, layer).to(device)
    for p in hooked.parameters():
        p.requires_grad_(True)
    return hooked, hooked, torch.as_tensor(x)


#: number of columns of :func:`logit_stats`
N_LOGIT_STATS = 7


def logit_stats(logits: torch.Tensor) -> torch.Tensor:
    """Basis-free features of logits ``(N, C)`` → ``(N, 7)``: the three largest log-probabilities,
    the entropy, ``logsumexp`` (negative energy), the max logit and the logit 2-norm.

    Unlike hidden features they mean the same for every model of the task, so an oracle
    trained on the out-of-fold models' values applies to the deployed classifier's.
    """
    lg = logits.double()
    logp = lg.log_softmax(1)
    top = logp.topk(min(3, lg.shape[1]), dim=1).values
    if top.shape[1] < 3:
        top = torch.cat([top, top[:, -1:].expand(-1, 3 - top.shape[1])], 1)
    ent = -(logp.exp() * logp).sum(1, keepdim=True)
    lse = torch.logsumexp(lg, 1, keepdim=True)
    return torch.cat(
        [top, ent, lse, lg.max(1, keepdim=True).values, lg.norm(dim=1, keepdim=True)], 1
    ).float()


class LogitStatsBackbone(nn.Module):
    """``x -> standardised logit_stats(classifier(x))`` (the deployed classifier, eval mode);
    the standardisation (mean, std) comes from the training rows' statistics."""

    def __init__(self, model: nn.Module, train_stats: torch.Tensor) -> None:
        super().__init__()
        self.model = model
        self.register_buffer("mean", train_stats.mean(0))
        self.register_buffer("std", train_stats.std(0).clamp_min(1e-6))

    def standardise(self, stats: torch.Tensor) -> torch.Tensor:
        return (stats - self.mean) / self.std

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self.standardise(logit_stats(self.model(x)))
