"""Deep ensembles (Lakshminarayanan et al. 2017): M members trained with different seeds.

Members are fitted through :func:`samplescope.executors.run_tasks`, so ``executor=`` spreads
them over processes or a Dask cluster; results come back in seed order and are identical
across executors. Their stacked probabilities are ``predict_stochastic(None, data,
"ensemble", samples=None, members=models)`` → ``(M, N, C)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

from .._validation import check_integer
from ..data.split import as_split
from ..executors import run_tasks
from ..models.factory import build_from, seeded_model_fn
from ..training import fit

__all__ = ["train_ensemble"]


def _fit_member(
    model_fn: Callable[[int], nn.Module], data: Any, seed: int, fit_kwargs: dict[str, Any]
) -> nn.Module:
    torch.manual_seed(seed)  # different initialisation per member
    model = build_from(model_fn, seed)
    fit(model, data, seed=seed, **fit_kwargs)
    return model.eval()


def train_ensemble(
    model_fn: Callable[..., nn.Module],
    data: Any,
    members: int = 5,
    seeds: Sequence[int] | None = None,
    executor: Any = None,
    workers: int | None = None,
    address: str | None = None,
    **fit_kwargs: Any,
) -> list[nn.Module]:
    """Train ``members`` models from ``model_fn`` on ``data``, one seed each.

    Args:
        model_fn: ``seed -> nn.Module`` or a zero-argument factory of a fresh model (the
            library's one convention, :func:`samplescope.models.seeded_model_fn`; picklable,
            e.g. a top-level function or ``functools.partial(gal_cnn, 10)``, when ``executor``
            uses processes). It is built under ``torch.manual_seed(seed)`` either way.
        data: training split (anything :func:`samplescope.training.fit` accepts).
        members: M (ignored when ``seeds`` is given).
        seeds: one seed per member (initialisation and data order); default ``0..M-1``.
        executor: ``None``/``"inprocess"``, ``"process"``, ``"dask"`` or an Executor.
        workers, address: worker count and cluster address when ``executor`` is created
            from its name (:mod:`samplescope.executors`).
        **fit_kwargs: passed to :func:`samplescope.training.fit` (``epochs``, ``lr``, …).

    Returns:
        The M trained models (eval mode), in seed order.
    """
    model_fn = seeded_model_fn(model_fn)  # ValueError unless callable
    data = as_split(data)  # checked once here, before any member trains
    if seeds is None:
        seeds = list(range(check_integer(members, "members")))
    if isinstance(seeds, (str, bytes)) or not hasattr(seeds, "__iter__"):
        raise ValueError(f"seeds: expected a sequence of integers, got {seeds!r}")
    seeds = [check_integer(s, "seeds", minimum=0) for s in seeds]
    if not seeds:
        raise ValueError("seeds: expected at least one seed, got an empty sequence")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds: expected distinct seeds, got {seeds}")
    if "seed" in fit_kwargs:
        raise ValueError("seed: pass seeds=[...] (one per member), not seed=")
    fit_kwargs.setdefault("progress", False)
    # the factory and the data are shared by every task (scattered once on Dask)
    return run_tasks(
        _fit_member,
        [(s, fit_kwargs) for s in seeds],
        executor,
        workers=workers,
        address=address,
        common=(model_fn, data),
    )
