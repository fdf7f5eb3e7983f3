"""Write a table far larger than memory to Parquet, chunk by chunk, atomically.

:func:`write_parquet_stream` takes an iterator of column dicts ``{name: (b,)}`` (one per
chunk) and writes them as Parquet row groups of about ``row_group`` rows into a temporary
file beside the target, renamed over it at the end (a killed run never leaves a
half-written table); memory is bounded by one row group. :func:`concat_parquet` joins part
files in order the same way. pyarrow is imported lazily.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .atomic import atomic_path

__all__ = ["ROW_GROUP", "concat_parquet", "write_parquet_stream"]

ROW_GROUP = 65536


def write_parquet_stream(
    chunks: Iterable[dict[str, np.ndarray]],
    path: str | os.PathLike,
    *,
    row_group: int = ROW_GROUP,
    on_rows: Callable[[int], None] | None = None,
) -> tuple[int, list[str]]:
    """Write every chunk's columns (same names and dtypes in every chunk) to ``path``.

    Returns ``(rows written, column names)``; ``on_rows(b)`` is called after each chunk.
    Raises ValueError for an empty iterator (nothing to write) or a ragged chunk.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows, columns = 0, []
    with atomic_path(Path(path)) as tmp:
        writer = None
        pending: list[Any] = []
        pending_rows = 0
        try:
            for cols in chunks:
                lengths = {k: len(v) for k, v in cols.items()}
                if len(set(lengths.values())) > 1:
                    raise ValueError(f"chunk: expected columns of one length, got {lengths}")
                table = pa.table({k: np.asarray(v) for k, v in cols.items()})
                if writer is None:
                    writer = pq.ParquetWriter(tmp, table.schema)
                    columns = table.schema.names
                pending.append(table)
                pending_rows += table.num_rows
                rows += table.num_rows
                if pending_rows >= row_group:
                    writer.write_table(pa.concat_tables(pending))
                    pending, pending_rows = [], 0
                if on_rows is not None:
                    on_rows(table.num_rows)
            if writer is None:
                raise ValueError("source: expected at least one sample, got an empty source")
            if pending:
                writer.write_table(pa.concat_tables(pending))
        finally:
            if writer is not None:
                writer.close()
    return rows, columns


def concat_parquet(
    parts: Sequence[str | os.PathLike], path: str | os.PathLike
) -> tuple[int, list[str]]:
    """Concatenate Parquet ``parts`` (same schema) in order into ``path``, row group by row group."""
    import pyarrow.parquet as pq

    rows, columns = 0, []
    with atomic_path(Path(path)) as tmp:
        writer = None
        try:
            for p in parts:
                pf = pq.ParquetFile(p)
                if writer is None:
                    writer = pq.ParquetWriter(tmp, pf.schema_arrow)
                    columns = pf.schema_arrow.names
                for g in range(pf.num_row_groups):
                    t = pf.read_row_group(g)
                    writer.write_table(t)
                    rows += t.num_rows
        finally:
            if writer is not None:
                writer.close()
    return rows, columns
