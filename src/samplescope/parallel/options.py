"""Parse the ``--executor`` / ``--scheduler`` / ``--workers`` options every command can share.

Accepted ``executor`` strings: ``inprocess``, ``process`` (alias ``loky``, optionally
``process:4`` for 4 workers), ``dask`` (a local cluster on 127.0.0.1, ``dask:3`` for 3
workers), ``dask:tcp://host:8786`` or any ``tcp://``/``tls://``/``ucx://`` address (an
existing Dask scheduler), ``ray`` / ``ray:auto`` / ``ray:ray://host:10001``. A
``scheduler`` address without an executor name means Dask; ``$DASK_SCHEDULER_ADDRESS`` is
honoured by ``dask`` when no address is given.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from .executors import EXECUTOR_NAMES, SCHEDULER_ENV, executor_context

__all__ = ["ExecutorSpec", "parse_executor"]

_ADDRESS_PREFIXES = ("tcp://", "tls://", "ucx://", "inproc://", "ws://", "wss://")


@dataclass(frozen=True)
class ExecutorSpec:
    """A parsed executor choice: ``name`` in :data:`EXECUTOR_NAMES`, ``workers``, ``scheduler``."""

    name: str
    workers: int | None = None
    scheduler: str | None = None

    @property
    def executor(self) -> str | None:
        """The value to pass as ``executor=`` (None for in-process)."""
        return None if self.name == "inprocess" else self.name

    def context(self) -> Any:
        """``with spec.context() as ex:`` — a live executor, shut down on exit if created here."""
        return executor_context(self.executor, workers=self.workers, scheduler=self.scheduler)

    def describe(self) -> str:
        if self.name == "inprocess":
            return "in-process"
        if self.name == "dask":
            where = self.scheduler or os.environ.get(SCHEDULER_ENV)
            return (
                f"dask scheduler {where}"
                if where
                else f"dask local cluster ({self.workers or 2} workers, 127.0.0.1)"
            )
        if self.name == "ray":
            return f"ray ({self.scheduler or 'local'})"
        return f"local process pool ({self.workers or os.cpu_count()} workers)"


def _int(value: str, what: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise ValueError(f"{what}: expected a positive integer, got {value!r}") from None
    if n < 1:
        raise ValueError(f"{what}: expected a positive integer, got {value!r}")
    return n


def parse_executor(
    executor: str | None = None, *, scheduler: str | None = None, workers: int | None = None
) -> ExecutorSpec:
    """Parse CLI-style executor options into an :class:`ExecutorSpec` (ValueError when invalid)."""
    if workers is not None:
        workers = _int(str(workers), "workers")
    if scheduler is not None and not str(scheduler).strip():
        scheduler = None
    if executor is None or not str(executor).strip():
        return ExecutorSpec("dask", workers, scheduler) if scheduler else ExecutorSpec("inprocess")
    text = str(executor).strip()
    if text.startswith(_ADDRESS_PREFIXES):
        return ExecutorSpec("dask", workers, text)
    name, _, arg = text.partition(":")
    name = name.lower()
    if name not in EXECUTOR_NAMES:
        raise ValueError(
            f"executor: expected one of {list(EXECUTOR_NAMES)} (optionally name:workers or "
            f"dask:ADDRESS), got {executor!r}"
        )
    if name == "loky":
        name = "process"
    if arg:
        if arg.isdigit():
            workers = _int(arg, "executor workers")
        elif name in ("dask", "ray"):
            if scheduler is not None and scheduler != arg:
                raise ValueError(
                    f"scheduler: given twice ({arg!r} in --executor and {scheduler!r})"
                )
            scheduler = arg
        else:
            raise ValueError(f"executor: expected {name}:WORKERS, got {executor!r}")
    if scheduler is not None and name not in ("dask", "ray"):
        raise ValueError(
            f"scheduler: only used by the dask or ray executors, got executor {name!r}"
        )
    if name == "inprocess":
        return ExecutorSpec("inprocess")
    return ExecutorSpec(name, workers, scheduler)
