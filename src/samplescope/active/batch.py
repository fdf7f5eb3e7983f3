"""Batch selection strategies and their registry: how k points are picked from scored candidates.

A strategy is ``fn(ctx) -> positions (k,)`` into the candidate axis, where ``ctx`` is a
:class:`BatchContext` holding the candidates' acquisition ``scores (N,)``, stochastic
``probs (S, N, C)`` (or None), a ``features()`` / ``embeddings()`` callback to the model,
``k`` and a ``seed``. Registered:

- ``topk``       the k highest scores (Gal et al. 2017)
- ``batchbald``  greedy BatchBALD on the top max(10k, 100) by score (Kirsch et al. 2019);
                 needs S > 1 samples with consistent masks
- ``diverse``    top-k with a cosine-similarity penalty λ (report §5.2)
- ``power`` / ``softmax`` / ``softrank``  stochastic acquisition ∝ s^β, exp(β s),
                 rank^-β (Kirsch et al., TMLR 2023), over *any* score
- ``badge``      k-means++ on gradient embeddings (Ash et al. 2020); ignores the score
- ``typiclust``  typical points of uncovered clusters (Hacohen et al. 2022); ignores the
                 score and the model (the cold start)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._validation import check_name
from .badge import kmeans_pp
from .batchbald import batch_bald
from .diversity import diverse_top_k, top_k
from .stochastic import stochastic_batch
from .typiclust import typiclust

__all__ = ["BatchContext", "register_batch_mode", "list_batch_modes", "select_batch"]


@dataclass
class BatchContext:
    """What a batch strategy may use (see the module docstring)."""

    scores: np.ndarray
    k: int
    seed: int
    probs: np.ndarray | None = None
    features: Callable[[], np.ndarray] | None = None
    embeddings: Callable[[], np.ndarray] | None = None
    labelled_features: Callable[[], np.ndarray] | None = None
    options: dict[str, Any] = field(default_factory=dict)


_BATCH: dict[str, Callable[[BatchContext], np.ndarray]] = {}
#: which modes need the model's probabilities (False: typiclust)
_NEEDS_MODEL: dict[str, bool] = {}


def register_batch_mode(
    name: str, *, needs_model: bool = True
) -> Callable[[Callable[[BatchContext], np.ndarray]], Callable[[BatchContext], np.ndarray]]:
    """Decorator registering ``fn(ctx: BatchContext) -> positions`` as batch mode ``name``."""
    check_name(name)

    def deco(fn: Callable[[BatchContext], np.ndarray]) -> Callable[[BatchContext], np.ndarray]:
        if name in _BATCH and _BATCH[name] is not fn:
            raise ValueError(f"name: batch mode {name!r} is already registered")
        _BATCH[name] = fn
        _NEEDS_MODEL[name] = needs_model
        return fn

    return deco


def list_batch_modes() -> list[str]:
    """Registered batch modes, sorted."""
    return sorted(_BATCH)


def batch_mode_needs_model(name: str) -> bool:
    _get(name)
    return _NEEDS_MODEL[name]


def _get(name: str) -> Callable[[BatchContext], np.ndarray]:
    if name not in _BATCH:
        raise ValueError(f"batch_mode: expected one of {list_batch_modes()}, got {name!r}")
    return _BATCH[name]


def select_batch(name: str, ctx: BatchContext) -> np.ndarray:
    """Positions ``(min(k, N),)`` picked by batch mode ``name``."""
    return np.asarray(_get(name)(ctx), dtype=np.int64)


@register_batch_mode("topk")
def _topk(ctx: BatchContext) -> np.ndarray:
    return top_k(ctx.scores, ctx.k)


@register_batch_mode("batchbald")
def _batchbald(ctx: BatchContext) -> np.ndarray:
    if ctx.probs is None or ctx.probs.shape[0] < 2:
        return top_k(ctx.scores, ctx.k)  # one sample: BatchBALD is 0 everywhere
    k = min(ctx.k, len(ctx.scores))
    pre_n = int(ctx.options.get("batchbald_candidates", max(10 * k, 100)))
    pre = top_k(ctx.scores, min(len(ctx.scores), pre_n))
    picked, _ = batch_bald(
        ctx.probs[:, pre],
        k,
        seed=ctx.seed,
        num_samples=int(ctx.options.get("batchbald_samples", 1000)),
    )
    return pre[picked]


@register_batch_mode("diverse")
def _diverse(ctx: BatchContext) -> np.ndarray:
    lam = float(ctx.options.get("diversity", 0.0))
    if lam == 0.0 or ctx.features is None:
        return top_k(ctx.scores, ctx.k)
    return diverse_top_k(ctx.scores, ctx.features(), ctx.k, lam)


def _stochastic(mode: str) -> Callable[[BatchContext], np.ndarray]:
    def fn(ctx: BatchContext) -> np.ndarray:
        beta = float(ctx.options.get("beta", 1.0))
        s = ctx.scores
        if mode == "power":
            s = np.maximum(s, 0.0)  # rounding can leave BALD at -1e-17
        return stochastic_batch(s, ctx.k, mode=mode, beta=beta, seed=ctx.seed)

    fn.__name__ = f"_{mode}"
    return fn


for _mode in ("power", "softmax", "softrank"):
    register_batch_mode(_mode)(_stochastic(_mode))


@register_batch_mode("badge")
def _badge(ctx: BatchContext) -> np.ndarray:
    if ctx.embeddings is None:
        raise ValueError(
            "batch_mode: 'badge' needs gradient embeddings; the learner has no embeddings()"
        )
    return kmeans_pp(ctx.embeddings(), ctx.k, seed=ctx.seed)


@register_batch_mode("typiclust", needs_model=False)
def _typiclust(ctx: BatchContext) -> np.ndarray:
    if ctx.features is None:
        raise ValueError("batch_mode: 'typiclust' needs candidate features")
    f = ctx.features()
    lab = None
    if ctx.labelled_features is not None:
        fl = ctx.labelled_features()
        if len(fl):
            f = np.concatenate([f, fl])
            lab = np.r_[np.zeros(len(ctx.scores), bool), np.ones(len(fl), bool)]
    return typiclust(f, ctx.k, labelled=lab, seed=ctx.seed % 2**31)
