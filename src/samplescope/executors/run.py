"""Run tasks over any executor: ``run_tasks(fn, tasks, executor)`` in task order.

Tasks are picklable top-level callables with picklable arguments; every task carries its own
seed, so a task's result does not depend on where it runs, and the same seeded tasks give
identical results on every executor. Worker processes run with one torch thread each.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor, as_completed
from typing import Any

from .._progress import progress_bar
from .backends import (
    EXECUTOR_NAMES,
    DaskExecutor,
    InProcessExecutor,
    RayExecutor,
    make_executor,
)

__all__ = ["executor_context", "run_tasks"]


def _call_single_threaded(fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    """Run ``fn(*args)`` in a worker process with one torch/BLAS thread (no oversubscription)."""
    import torch

    if torch.get_num_threads() != 1:
        torch.set_num_threads(1)
    return fn(*args)


@contextlib.contextmanager
def executor_context(
    executor: Any = None, *, workers: int | None = None, address: str | None = None
) -> Iterator[Executor]:
    """Yield a live ``Executor`` for ``executor`` (a name, an instance or None).

    Executors created here are shut down on exit (Dask: client and local cluster closed;
    the reusable loky pool is kept warm for the next call); a passed instance is left open.
    """
    if executor is None:
        executor = "inprocess"
    if isinstance(executor, str):
        ex = make_executor(executor, workers=workers, address=address)
        own = isinstance(ex, (DaskExecutor, RayExecutor))
    elif isinstance(executor, Executor) or hasattr(executor, "submit"):
        ex, own = executor, False
    else:
        raise ValueError(
            f"executor: expected None, one of {list(EXECUTOR_NAMES)} or a "
            f"concurrent.futures.Executor, got {type(executor).__name__}"
        )
    try:
        yield ex
    finally:
        if own:
            ex.shutdown(wait=True)


def _share(ex: Any, obj: Any) -> Any:
    share = getattr(ex, "share", None)
    return share(obj) if callable(share) else obj


def run_tasks(
    fn: Callable[..., Any],
    tasks: Iterable[Sequence[Any]],
    executor: Any = None,
    *,
    workers: int | None = None,
    address: str | None = None,
    common: Sequence[Any] = (),
    progress: bool = False,
    desc: str = "tasks",
) -> list[Any]:
    """``[fn(*common, *task) for task in tasks]``, fanned out over ``executor``; in task order.

    Args:
        fn: a picklable top-level function.
        tasks: argument tuples, one per call; each should carry its own seed.
        executor: None/"inprocess", "process"/"loky", "dask", "ray" or an ``Executor``.
        workers: worker count for an executor created here.
        address: Dask scheduler (or Ray) address for an executor created here.
        common: arguments shared by every call (e.g. the data set), prepended to each task;
            on Dask they are scattered to every worker once instead of once per task.
        progress: a tqdm bar over completed tasks.

    Returns:
        The results in task order. The first failing task's exception is raised after the
        remaining tasks are cancelled.
    """
    tasks = [tuple(t) for t in tasks]
    common = tuple(common)
    if executor is None or (isinstance(executor, str) and executor == "inprocess"):
        bar = progress_bar(len(tasks), progress, desc)
        out = []
        for t in tasks:
            out.append(fn(*common, *t))
            bar.update(1)
        bar.close()
        return out
    with executor_context(executor, workers=workers, address=address) as ex:
        shared = tuple(_share(ex, c) for c in common)
        threaded = isinstance(ex, (ThreadPoolExecutor, InProcessExecutor))
        if threaded:
            futures = [ex.submit(fn, *shared, *t) for t in tasks]
        else:
            futures = [ex.submit(_call_single_threaded, fn, (*shared, *t)) for t in tasks]
        return _collect(futures, progress, desc)


def _collect(futures: list[Future], progress: bool, desc: str) -> list[Any]:
    bar = progress_bar(len(futures), progress, desc)
    try:
        if progress:
            for _ in as_completed(futures):
                bar.update(1)
        return [f.result() for f in futures]
    except BaseException:
        for f in futures:
            f.cancel()
        raise
    finally:
        bar.close()


def split_evenly(
    n_items: int, executor: Any = None, *, workers: int | None = None
) -> list[list[int]]:
    """Contiguous groups of ``range(n_items)``, one per worker of ``executor`` (one in-process).

    A named executor counts ``workers`` (default: 2 for a local Dask cluster, else every
    core); an instance counts :func:`executor_workers`. Groups differ in size by at most one.
    """
    import os

    import numpy as np

    from .backends import executor_workers

    if executor is None or executor == "inprocess":
        return [list(range(n_items))]
    if isinstance(executor, str):
        n = workers or (2 if executor == "dask" else None) or os.cpu_count() or 1
    else:
        n = executor_workers(executor)
    n = max(1, min(n_items, n))
    bounds = np.linspace(0, n_items, n + 1).round().astype(int)
    return [list(range(bounds[k], bounds[k + 1])) for k in range(n) if bounds[k + 1] > bounds[k]]
