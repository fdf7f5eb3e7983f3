"""Executors: one ``executor=`` argument for every fan-out, at the ground floor of the library.

``executor`` is ``None``/``"inprocess"``, ``"process"`` (= ``"loky"``, a reusable local pool),
``"dask"`` (a local cluster on 127.0.0.1, or the scheduler at ``address=`` /
``$DASK_SCHEDULER_ADDRESS``), ``"ray"`` (``address=`` ``"auto"`` / ``ray://host:10001``), or
any ``concurrent.futures.Executor``. The same names go all the way down: ``executor=``,
``workers=`` and ``address=`` mean the same thing in every function that takes them.

- :func:`run_tasks`: ``[fn(*common, *task) for task in tasks]`` over an executor, in order;
- :func:`executor_context` / :func:`make_executor`: a live executor from a name;
- :func:`executor_workers`, :func:`split_evenly`: how many tasks run at once, and contiguous
  groups of work, one per worker.
"""

from .backends import (
    ADDRESS_ENV,
    EXECUTOR_NAMES,
    DaskExecutor,
    InProcessExecutor,
    RayExecutor,
    executor_workers,
    make_executor,
)
from .run import executor_context, run_tasks, split_evenly

__all__ = [
    "ADDRESS_ENV",
    "EXECUTOR_NAMES",
    "DaskExecutor",
    "InProcessExecutor",
    "RayExecutor",
    "executor_context",
    "executor_workers",
    "make_executor",
    "run_tasks",
    "split_evenly",
]
