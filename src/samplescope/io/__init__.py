"""Per-sample result tables and atomic file writes."""

from .atomic import atomic_path, atomic_torch_save, atomic_write_json, atomic_write_text
from .scores import RESERVED_COLUMNS, ScoreTable

__all__ = [
    "RESERVED_COLUMNS",
    "ScoreTable",
    "atomic_path",
    "atomic_torch_save",
    "atomic_write_json",
    "atomic_write_text",
]
