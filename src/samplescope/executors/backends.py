"""Executor backends behind the one ``executor=`` argument for every fan-out (K-fold fits, ensemble members, pool shards, seeds).

``executor`` may be:

- ``None`` or ``"inprocess"``: run the tasks one after another in this process;
- ``"process"`` / ``"loky"``: a local process pool (loky, reused between calls), one torch
  thread per worker — the default for real fan-outs (threads would be serialised by the GIL);
- ``"dask"``: a Dask ``distributed`` client — a local cluster bound to 127.0.0.1 (``workers``
  processes, one thread each), or the scheduler at ``address=`` / ``$DASK_SCHEDULER_ADDRESS``
  (any cluster: dask-jobqueue for Slurm/PBS, dask-kubernetes, ``dask scheduler`` by hand) —
  needs the ``[dask]`` extra;
- ``"ray"``: a thin Ray adapter (``ObjectRef.future()``) — needs the ``[ray]`` extra;
- any ``concurrent.futures.Executor`` instance (used as is, never shut down by us). Thread
  pools are not recommended: the GIL serialises them and concurrent tasks share torch's
  global RNG, so tasks that seed it (``torch.manual_seed``) race and lose reproducibility.

Tasks are picklable top-level callables with picklable arguments; every task carries its own
seed, so a task's result does not depend on where it runs. Results come back in task order:
the same seeded tasks give identical results on every executor.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

__all__ = [
    "ADDRESS_ENV",
    "EXECUTOR_NAMES",
    "DaskExecutor",
    "InProcessExecutor",
    "RayExecutor",
    "executor_workers",
    "make_executor",
]

EXECUTOR_NAMES = ("inprocess", "process", "loky", "dask", "ray")
ADDRESS_ENV = "DASK_SCHEDULER_ADDRESS"


def _missing_extra(engine: str, extra: str) -> ImportError:
    return ImportError(
        f"the {engine} executor needs the [{extra}] extra: pip install 'samplescope[{extra}]'"
    )


class InProcessExecutor(Executor):
    """A synchronous ``Executor``: ``submit`` runs the call at once in this process."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        fut: Future = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller through the future
            fut.set_exception(exc)
        return fut


class DaskExecutor(Executor):
    """``concurrent.futures`` facade over a Dask ``distributed.Client``.

    Connects to ``address`` (or ``$DASK_SCHEDULER_ADDRESS``) when given, else starts a
    ``LocalCluster`` of ``workers`` single-threaded worker processes bound to 127.0.0.1 with no
    dashboard. ``shutdown()`` closes the client and any cluster this object started (an
    existing cluster is left running). Use it as a context manager.
    """

    def __init__(self, address: str | None = None, *, workers: int | None = None) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise _missing_extra("dask", "dask") from None
        address = address or os.environ.get(ADDRESS_ENV) or None
        self.cluster = None
        if address:
            self.client = Client(address)
        else:
            self.cluster = LocalCluster(
                n_workers=workers or 2,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                silence_logs=logging.ERROR,  # no shutdown chatter from the nannies
            )
            self.client = Client(self.cluster)
        self._executor = self.client.get_executor(pure=False)
        self._closed = False

    @property
    def n_workers(self) -> int:
        return max(1, len(self.client.scheduler_info().get("workers", {})))

    def share(self, obj: Any) -> Any:
        """Send ``obj`` to every worker once; returns a future usable as a task argument."""
        return self.client.scatter(obj, broadcast=True)

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        return self._executor.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(Exception):
            self._executor.shutdown(wait=wait and not cancel_futures)
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


class RayExecutor(Executor):
    """Thin Ray adapter: ``submit`` runs ``fn`` as a Ray task and returns ``ObjectRef.future()``.

    Connects to ``address`` (``"auto"`` or ``ray://host:10001``) when given, else starts a local
    Ray bound to 127.0.0.1 with ``workers`` CPUs; ``shutdown()`` stops a Ray this object started.
    """

    def __init__(self, address: str | None = None, *, workers: int | None = None) -> None:
        try:
            import ray
        except ImportError:
            raise _missing_extra("ray", "ray") from None
        self._ray = ray
        self._own = False
        if not ray.is_initialized():
            if address:
                ray.init(address=address)
            else:
                ray.init(num_cpus=workers, include_dashboard=False, _node_ip_address="127.0.0.1")
            self._own = True
        self._remote = ray.remote(num_cpus=1)(_ray_call)

    @property
    def n_workers(self) -> int:
        return max(1, int(self._ray.cluster_resources().get("CPU", 1)))

    def share(self, obj: Any) -> Any:
        return obj  # Ray puts large arguments in its object store by itself

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        return self._remote.remote(fn, args, kwargs).future()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if self._own:
            self._own = False
            self._ray.shutdown()


def _ray_call(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    return fn(*args, **kwargs)


def make_executor(name: str, *, workers: int | None = None, address: str | None = None) -> Executor:
    """Create an executor by name; the caller shuts it down (or use :func:`executor_context`).

    Args:
        name: ``"inprocess"`` | ``"process"`` (= ``"loky"``) | ``"dask"`` | ``"ray"``.
        workers: worker processes (default: all cores for ``process``, 2 for a local Dask cluster).
        address: a Dask scheduler address (``tcp://host:8786``) or a Ray address; for
            ``"dask"`` the default is ``$DASK_SCHEDULER_ADDRESS``, else a local cluster.
    """
    if not isinstance(name, str) or name not in EXECUTOR_NAMES:
        raise ValueError(
            f"executor: expected one of {list(EXECUTOR_NAMES)} or a concurrent.futures.Executor, "
            f"got {name!r}"
        )
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise ValueError(f"workers: expected a positive integer, got {workers!r}")
    if name == "inprocess":
        return InProcessExecutor()
    if name in ("process", "loky"):
        from loky import get_reusable_executor

        return get_reusable_executor(max_workers=workers or os.cpu_count() or 1, timeout=300)
    if name == "dask":
        return DaskExecutor(address, workers=workers)
    return RayExecutor(address, workers=workers)


def executor_workers(executor: Any) -> int:
    """How many tasks ``executor`` runs at once (1 for in-process; best effort for others)."""
    if executor is None or isinstance(executor, InProcessExecutor):
        return 1
    if isinstance(executor, (DaskExecutor, RayExecutor)):
        return executor.n_workers
    for attr in ("_max_workers", "max_workers"):
        n = getattr(executor, attr, None)
        if isinstance(n, int) and n > 0:
            return n
    return os.cpu_count() or 1
