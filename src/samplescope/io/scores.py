"""``ScoreTable``: per-sample results keyed by ``sample_id``.

Columns: ``sample_id`` (int64, unique, the index key), ``label`` (the label the model
saw), optional ``true_label`` and ``is_noisy``, then one float column per measure.
Difficulty columns are higher = harder; trust columns higher = more trustworthy (the
measure's documentation says which). Saved to Parquet (``.parquet``) or CSV (``.csv``)
by suffix, atomically.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_binary, check_ids, check_integer, check_labels, check_scores
from .atomic import atomic_path

__all__ = ["ScoreTable", "RESERVED_COLUMNS"]

RESERVED_COLUMNS = ("sample_id", "label", "true_label", "is_noisy")


class ScoreTable:
    """A DataFrame of per-sample scores keyed by ``sample_id`` (``.df`` is the DataFrame)."""

    def __init__(self, df: pd.DataFrame) -> None:
        if not isinstance(df, pd.DataFrame):
            raise ValueError(f"df: expected a pandas DataFrame, got {type(df).__name__}")
        if "sample_id" not in df.columns or "label" not in df.columns:
            raise ValueError(
                f"df: expected columns 'sample_id' and 'label', got {list(df.columns)}"
            )
        if df["sample_id"].duplicated().any():
            raise ValueError("df: expected unique sample_id values, got duplicates")
        self.df = df.reset_index(drop=True)

    @classmethod
    def from_arrays(
        cls,
        sample_id: Any,
        label: Any,
        *,
        true_label: Any = None,
        is_noisy: Any = None,
        **measures: Any,
    ) -> ScoreTable:
        """Build a table; every measure is an ``(N,)`` array aligned with ``sample_id``."""
        ids = check_ids(sample_id, "sample_id", unique=False)  # duplicates: the constructor says so
        n = len(ids)
        data: dict[str, Any] = {"sample_id": ids, "label": check_labels(label, "label", n=n)}
        if true_label is not None:
            data["true_label"] = check_labels(true_label, "true_label", n=n)
            if is_noisy is None:
                is_noisy = data["true_label"] != data["label"]
        if is_noisy is not None:
            noisy = check_binary(is_noisy, "is_noisy")
            if noisy.shape != (n,):
                raise ValueError(f"is_noisy: expected shape ({n},), got {noisy.shape}")
            data["is_noisy"] = noisy
        for k, v in measures.items():
            data[k] = check_scores(v, k, n=n)
        return cls(pd.DataFrame(data))

    def __len__(self) -> int:
        return len(self.df)

    def __repr__(self) -> str:
        return f"ScoreTable({len(self)} samples, measures={self.measures})"

    @property
    def measures(self) -> list[str]:
        """The score columns (everything but the reserved columns)."""
        return [c for c in self.df.columns if c not in RESERVED_COLUMNS]

    def add(self, name: str, values: Any, sample_id: Any = None) -> ScoreTable:
        """Add (or replace) a measure column; ``sample_id`` aligns values given in another order."""
        if not isinstance(name, str) or not name:
            raise ValueError(f"name: expected a column name (a non-empty string), got {name!r}")
        if name in RESERVED_COLUMNS:
            raise ValueError(f"name: expected a measure name, got the reserved column {name!r}")
        v = check_scores(values, f"values ({name})", n=None if sample_id is not None else len(self))
        if sample_id is not None:
            ids = check_labels(sample_id, "sample_id", n=len(v))
            s = pd.Series(v, index=ids)
            missing = ~self.df["sample_id"].isin(s.index)
            if missing.any():
                raise ValueError(
                    f"sample_id: expected every table id, {int(missing.sum())} are missing"
                )
            v = s.loc[self.df["sample_id"].to_numpy()].to_numpy()
        self.df[name] = v
        return self

    def column(self, name: str) -> np.ndarray:
        """The values of column ``name`` ``(N,)`` (``ValueError`` listing the columns otherwise)."""
        if not isinstance(name, str) or name not in self.df.columns:
            raise ValueError(f"name: expected one of {list(self.df.columns)}, got {name!r}")
        return self.df[name].to_numpy()

    def hardest(self, column: str, k: int = 10) -> pd.DataFrame:
        """The ``k`` rows with the largest ``column`` (difficulty: higher = harder)."""
        return self.df.nlargest(self._rank_args(column, k), column)

    def easiest(self, column: str, k: int = 10) -> pd.DataFrame:
        """The ``k`` rows with the smallest ``column``."""
        return self.df.nsmallest(self._rank_args(column, k), column)

    def _rank_args(self, column: Any, k: Any) -> int:
        if not isinstance(column, str) or column not in self.df.columns:
            raise ValueError(f"column: expected one of {self.measures}, got {column!r}")
        return check_integer(k, "k", minimum=0)

    def save(self, path: str | os.PathLike) -> Path:
        """Write to ``.parquet`` or ``.csv`` (by suffix) atomically; return the path."""
        p = Path(path)
        suffix = p.suffix.lower()
        if suffix not in (".parquet", ".csv"):
            raise ValueError(f"path: expected a .parquet or .csv file name, got {str(path)!r}")
        with atomic_path(p) as tmp:
            if suffix == ".parquet":
                self.df.to_parquet(tmp, index=False)
            else:
                self.df.to_csv(tmp, index=False)
        return p

    @classmethod
    def load(cls, path: str | os.PathLike) -> ScoreTable:
        p = Path(path)
        if not p.is_file():
            raise ValueError(f"path: expected an existing .parquet/.csv file, got {str(path)!r}")
        suffix = p.suffix.lower()
        if suffix == ".parquet":
            return cls(pd.read_parquet(p))
        if suffix == ".csv":
            return cls(pd.read_csv(p))
        raise ValueError(f"path: expected a .parquet or .csv file name, got {str(path)!r}")
