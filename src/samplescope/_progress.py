"""One progress display for every long loop (epochs, fits, shards, acquisition steps).

``progress_bar(total, enabled, desc)`` returns, so that callers never branch:

- on a terminal (stderr is a TTY): a transient tqdm bar;
- anywhere else (a log file, CI, a pipe): a :class:`_LogBar` printing one plain line per
  step when there are at most 10 steps, else one per 10% (no ``\r`` floods in logs);
- with ``enabled=False`` (``--quiet``): a no-op bar.

``$SAMPLESCOPE_PROGRESS`` = ``bar`` | ``log`` | ``none`` overrides the choice. tqdm is
imported lazily.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

__all__ = ["PROGRESS_ENV", "progress_bar"]

PROGRESS_ENV = "SAMPLESCOPE_PROGRESS"


class _NoBar:
    """The disabled bar: every tqdm method the library uses, doing nothing."""

    def update(self, n: int = 1) -> None:
        """Ignore ``n`` finished units."""

    def set_postfix(self, *args: Any, **kwargs: Any) -> None:
        """Ignore the status text."""

    def close(self) -> None:
        """Nothing to close."""

    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None


class _LogBar(_NoBar):
    """Plain progress lines on stderr: ``desc: 3/10 (30%) 1.2s [postfix]``."""

    def __init__(self, total: int | None, desc: str, stream: Any = None) -> None:
        self.total, self.desc, self.n = total, desc, 0
        self.stream = stream if stream is not None else sys.stderr
        self.postfix = ""
        self.start = time.perf_counter()
        self._next = self._step()

    def _step(self) -> int:
        if self.total is None or self.total <= 0:
            return max(1, 2 * self.n)  # unknown total: lines at 1, 2, 4, 8, ...
        if self.total <= 10:
            return self.n + 1
        tenth = (10 * self.n) // self.total + 1
        return -(-tenth * self.total // 10)  # ceil: the next 10% boundary

    def update(self, n: int = 1) -> None:
        self.n += n
        if self.n >= self._next or (self.total is not None and self.n >= self.total):
            self._line()
            self._next = self._step()

    def set_postfix(self, *args: Any, **kwargs: Any) -> None:
        items = dict(args[0]) if args and isinstance(args[0], dict) else {}
        items.update(kwargs)
        self.postfix = ", ".join(f"{k}={v}" for k, v in items.items())

    def _line(self) -> None:
        of = f"/{self.total} ({100 * self.n // self.total}%)" if self.total else ""
        tail = f" [{self.postfix}]" if self.postfix else ""
        elapsed = time.perf_counter() - self.start
        print(f"{self.desc}: {self.n}{of} {elapsed:.1f}s{tail}", file=self.stream, flush=True)


def _mode() -> str:
    mode = os.environ.get(PROGRESS_ENV, "").strip().lower()
    if mode in ("bar", "log", "none"):
        return mode
    isatty = getattr(sys.stderr, "isatty", None)
    return "bar" if callable(isatty) and isatty() else "log"


def progress_bar(total: int | None, enabled: bool, desc: str, **tqdm_kwargs: Any) -> Any:
    """A progress display over ``total`` units labelled ``desc`` (see the module docstring)."""
    mode = _mode() if enabled else "none"
    if mode == "none":
        return _NoBar()
    if mode == "log":
        return _LogBar(total, desc)
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, **{"leave": False, **tqdm_kwargs})
