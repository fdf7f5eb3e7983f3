"""Figures as files: matplotlib (imported lazily, Agg backend) and atomic saves.

:func:`plt` gives ``matplotlib.pyplot`` without a display; :func:`save_figure` writes a
figure through a temporary file and a rename (format from the suffix) and closes it. Every
layer that draws (metrics' reliability diagrams, trust and active-learning curves, the
report) uses these two, so no module imports matplotlib at import time.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .atomic import atomic_path

__all__ = ["plt", "save_figure"]


def plt() -> Any:
    """``matplotlib.pyplot`` with the non-interactive Agg backend."""
    try:
        import matplotlib
    except ImportError as exc:  # pragma: no cover
        raise ImportError("matplotlib is needed for figures: pip install matplotlib") from exc
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as pyplot

    return pyplot


def save_figure(fig: Any, path: str | os.PathLike, dpi: int = 120) -> Path:
    """Save a matplotlib figure atomically (format from the suffix) and close it."""
    p = Path(path)
    with atomic_path(p) as tmp:
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format=p.suffix.lstrip(".") or "png")
    plt().close(fig)
    return p
