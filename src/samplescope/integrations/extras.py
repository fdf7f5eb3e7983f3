"""Optional dependencies: import on demand, or a one-line error naming the extra."""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["require", "EXTRAS"]

#: importable module -> (what it is, the samplescope extra that installs it)
EXTRAS = {
    "lightning.pytorch": ("PyTorch Lightning", "lightning"),
    "transformers": ("Hugging Face transformers", "hf"),
}


def require(module: str) -> ModuleType:
    """Import ``module`` (a key of :data:`EXTRAS`), or raise an ``ImportError`` of one line:
    ``... needs PyTorch Lightning: pip install "samplescope[lightning]"``."""
    if module not in EXTRAS:
        raise ValueError(f"module: expected one of {sorted(EXTRAS)}, got {module!r}")
    what, extra = EXTRAS[module]
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ImportError(
            f'this feature needs {what} ({module}): pip install "samplescope[{extra}]"'
        ) from None
