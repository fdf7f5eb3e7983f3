"""One ``executor=`` argument for every fan-out (K-fold fits, ensemble members, pool shards, seeds).

``executor`` may be:

- ``None`` or ``"inprocess"``: run the tasks one after another in this process;
- ``"process"`` / ``"loky"``: a local process pool (loky), one torch thread per worker;
- ``"dask"``: a Dask ``distributed`` client (a local cluster bound to 127.0.0.1, or the
  scheduler at ``$DASK_SCHEDULER_ADDRESS``) — needs the ``[dask]`` extra;
- any ``concurrent.futures.Executor`` instance (used as is, not shut down by us).

Tasks must be picklable top-level callables with picklable arguments. Results come back
in task order, so results are identical across executors for seeded tasks.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor
from typing import Any

__all__ = ["EXECUTOR_NAMES", "run_tasks", "make_executor"]

EXECUTOR_NAMES = ("inprocess", "process", "loky", "dask")


def _init_worker_threads() -> None:
    import torch

    torch.set_num_threads(1)


def _call_single_threaded(fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    _init_worker_threads()
    return fn(*args)


def make_executor(name: str, *, workers: int | None = None, scheduler: str | None = None) -> Executor:
    """Create an executor by name (caller shuts it down). ``scheduler``: a Dask scheduler address."""
    if name in ("process", "loky"):
        from loky import get_reusable_executor

        return get_reusable_executor(max_workers=workers or os.cpu_count() or 1)
    if name == "dask":
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:
            raise ImportError("the dask executor needs the [dask] extra: pip install 'samplescope[dask]'") from exc
        address = scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS")
        if address:
            return Client(address).get_executor()
        cluster = LocalCluster(n_workers=workers or 2, threads_per_worker=1, host="127.0.0.1",
                               dashboard_address=None, processes=True)
        return Client(cluster).get_executor()
    raise ValueError(f"executor: expected one of {list(EXECUTOR_NAMES)} or a concurrent.futures.Executor, got {name!r}")


def run_tasks(fn: Callable[..., Any], tasks: Iterable[Sequence[Any]], executor: Any = None,
              *, workers: int | None = None) -> list[Any]:
    """``[fn(*task) for task in tasks]``, fanned out over ``executor``; results in task order."""
    tasks = [tuple(t) for t in tasks]
    if executor is None or executor == "inprocess":
        return [fn(*t) for t in tasks]
    own = False
    if isinstance(executor, str):
        executor = make_executor(executor, workers=workers)
        own = not isinstance(executor, type(None)) and executor.__class__.__module__.startswith("distributed")
    if not isinstance(executor, Executor) and not hasattr(executor, "submit"):
        raise ValueError(f"executor: expected a name or a concurrent.futures.Executor, got {type(executor).__name__}")
    try:
        futures = [executor.submit(_call_single_threaded, fn, t) for t in tasks]
        return [f.result() for f in futures]
    finally:
        if own:
            executor.shutdown()
