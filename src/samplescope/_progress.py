"""One progress bar for every long loop (epochs, fits, shards, acquisition steps).

``progress_bar(total, enabled, desc)`` returns a tqdm bar, or a no-op stand-in when
``enabled`` is False, so callers never branch on ``None``. tqdm is imported lazily.
"""

from __future__ import annotations

from typing import Any

__all__ = ["progress_bar"]


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


def progress_bar(total: int | None, enabled: bool, desc: str) -> Any:
    """A ``tqdm`` bar over ``total`` units labelled ``desc`` (transient), or a no-op bar."""
    if not enabled:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, leave=False)
