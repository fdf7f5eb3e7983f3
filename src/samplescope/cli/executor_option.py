"""The ``--executor`` / ``--address`` / ``--workers`` options every command shares, and their parser.

In a command module::

    from .executor_option import address_option, executor_option, parse_executor, workers_option

    def cmd(executor: str = executor_option(), address: str = address_option(),
            workers: int = workers_option()):
        spec = parse_executor(executor, address=address, workers=workers)
        run(..., executor=spec.executor)   # or: with spec.context() as ex: ...


Accepted ``executor`` strings: ``inprocess``, ``process`` (alias ``loky``, optionally
``process:4`` for 4 workers), ``dask`` (a local cluster on 127.0.0.1, ``dask:3`` for 3
workers), ``dask:tcp://host:8786`` or any ``tcp://``/``tls://``/``ucx://`` address (an
existing Dask scheduler), ``ray`` / ``ray:auto`` / ``ray:ray://host:10001``. A
``address`` without an executor name means Dask; ``$DASK_SCHEDULER_ADDRESS`` is
honoured by ``dask`` when no address is given.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import typer

from ..executors import ADDRESS_ENV, EXECUTOR_NAMES, executor_context

__all__ = [
    "ExecutorSpec",
    "address_option",
    "executor_option",
    "parse_executor",
    "workers_option",
]

_ADDRESS_PREFIXES = ("tcp://", "tls://", "ucx://", "inproc://", "ws://", "wss://")


@dataclass(frozen=True)
class ExecutorSpec:
    """A parsed executor choice: ``name`` in :data:`EXECUTOR_NAMES`, ``workers``, ``address``."""

    name: str
    workers: int | None = None
    address: str | None = None

    @property
    def executor(self) -> str | None:
        """The value to pass as ``executor=`` (None for in-process)."""
        return None if self.name == "inprocess" else self.name

    def context(self) -> Any:
        """``with spec.context() as ex:`` — a live executor, shut down on exit if created here."""
        return executor_context(self.executor, workers=self.workers, address=self.address)

    def describe(self) -> str:
        if self.name == "inprocess":
            return "in-process"
        if self.name == "dask":
            where = self.address or os.environ.get(ADDRESS_ENV)
            return (
                f"dask scheduler {where}"
                if where
                else f"dask local cluster ({self.workers or 2} workers, 127.0.0.1)"
            )
        if self.name == "ray":
            return f"ray ({self.address or 'local'})"
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
    executor: str | None = None, *, address: str | None = None, workers: int | None = None
) -> ExecutorSpec:
    """Parse CLI-style executor options into an :class:`ExecutorSpec` (ValueError when invalid)."""
    if workers is not None:
        workers = _int(str(workers), "--workers")
    if address is not None and not str(address).strip():
        address = None
    if executor is None or not str(executor).strip():
        return ExecutorSpec("dask", workers, address) if address else ExecutorSpec("inprocess")
    text = str(executor).strip()
    if text.startswith(_ADDRESS_PREFIXES):
        return ExecutorSpec("dask", workers, text)
    name, _, arg = text.partition(":")
    name = name.lower()
    if name not in EXECUTOR_NAMES:
        raise ValueError(
            f"--executor: expected one of {list(EXECUTOR_NAMES)} (optionally name:workers or "
            f"dask:ADDRESS), got {executor!r}"
        )
    if name == "loky":
        name = "process"
    if arg:
        if arg.isdigit():
            workers = _int(arg, "--executor")
        elif name in ("dask", "ray"):
            if address is not None and address != arg:
                raise ValueError(f"--address: given twice ({arg!r} in --executor and {address!r})")
            address = arg
        else:
            raise ValueError(f"--executor: expected {name}:WORKERS, got {executor!r}")
    if address is not None and name not in ("dask", "ray"):
        raise ValueError(
            f"--address: only used by the dask or ray executors, got executor {name!r}"
        )
    if name == "inprocess":
        return ExecutorSpec("inprocess")
    return ExecutorSpec(name, workers, address)


_EXECUTOR_HELP = (
    "inprocess | process[:N] (local process pool) | dask[:N] (local cluster on 127.0.0.1) | "
    "dask:tcp://HOST:8786 (existing cluster) | ray"
)


def executor_option(default: str = "inprocess") -> Any:
    """A fresh Typer ``--executor`` option."""
    return typer.Option(default, "--executor", help=_EXECUTOR_HELP)


def address_option() -> Any:
    """A fresh Typer ``--address`` option (alias ``--scheduler``; also ``$DASK_SCHEDULER_ADDRESS``)."""
    return typer.Option(
        None,
        "--address",
        "--scheduler",
        envvar="DASK_SCHEDULER_ADDRESS",
        help="Dask scheduler (tcp://host:8786) or Ray address; alone it implies --executor dask",
    )


def workers_option() -> Any:
    """A fresh Typer ``--workers`` option."""
    return typer.Option(None, "--workers", help="worker processes for process/dask executors")
