"""Score pools far larger than memory: chunked scoring written to Parquet incrementally.

A source (:mod:`samplescope.data.sources`) yields chunks; a scorer
(:mod:`samplescope.scoring.scorers`) maps one chunk to per-sample columns;
:func:`stream_scores` writes every chunk's columns with
:func:`samplescope.io.parquet_stream.write_parquet_stream` as it goes. Memory is bounded by
one chunk plus one Parquet row group: a pool of 1M MNIST-sized images is scored in well under
1 GB of extra peak memory (``benchmarks/streaming.py``). The written table has the
``ScoreTable`` layout: ``sample_id``, ``label`` (the given label, or ``pred`` for an
unlabelled pool), then the score columns.

With an ``executor``, the pool is cut into shards of ``shard_size`` rows (a multiple of
``chunk_size``), each shard is scored by one task into its own part file (kept, so a rerun
skips finished shards), and the parts are concatenated in order. Results do not depend on
the executor: chunk boundaries, and hence every chunk-seeded draw, are the same.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._progress import progress_bar
from .._validation import check_integer
from ..data.sources import ArraySource, Chunk, iter_source
from ..executors import run_tasks
from ..io.parquet_stream import concat_parquet, write_parquet_stream
from ..training.checks import renamed_argument

__all__ = ["StreamResult", "stream_scores"]


@dataclass
class StreamResult:
    """Where the scores went and how fast: ``rows``, ``seconds``, ``rows_per_s``, ``columns``."""

    path: Path
    rows: int
    seconds: float
    columns: list[str]

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else float("inf")


def _chunk_columns(chunk: Chunk, cols: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``sample_id``, ``label`` (or ``pred``), then the scorer's columns, each checked ``(b,)``."""
    _, x, y, ids = chunk
    b = len(x)
    label = y if y is not None else cols.get("pred")
    if label is None:
        raise ValueError("scorer: expected a 'pred' column for an unlabelled source")
    data: dict[str, np.ndarray] = {"sample_id": ids, "label": np.asarray(label, dtype=np.int64)}
    for k, v in cols.items():
        a = np.asarray(v)
        if a.shape != (b,):
            raise ValueError(f"scorer: expected column {k!r} of shape ({b},), got {a.shape}")
        data[k] = a
    return data


def _write_stream(
    scorer: Callable[..., dict[str, np.ndarray]],
    chunks: Iterator[Chunk],
    path: Path,
    on_rows: Callable[[int], None] | None = None,
) -> tuple[int, list[str]]:
    scored = (_chunk_columns(c, scorer(c[1], c[2], c[0])) for c in chunks)
    return write_parquet_stream(scored, path, on_rows=on_rows)


def _score_shard(
    scorer: Callable[..., dict[str, np.ndarray]],
    source: Any,
    lo: int,
    hi: int,
    chunk_size: int,
    part: str,
) -> int:
    """Top-level task: score rows ``[lo, hi)`` of ``source`` into the Parquet file ``part``."""
    rows, _ = _write_stream(scorer, source.chunks(lo, hi, chunk_size), Path(part))
    return rows


def _bar(total: int | None, enabled: bool, desc: str) -> Any:
    return progress_bar(total, enabled, desc, unit="img", unit_scale=True, smoothing=0.1)


def stream_scores(
    scorer: Callable[[np.ndarray, np.ndarray | None, int], dict[str, np.ndarray]],
    source: Any,
    out: str | os.PathLike,
    *,
    chunk_size: int = 4096,
    progress: bool = True,
    executor: Any = None,
    shard_size: int | None = None,
    workers: int | None = None,
    address: str | None = None,
) -> StreamResult:
    """Score every row of ``source`` chunk by chunk and write a Parquet ScoreTable to ``out``.

    Args:
        scorer: ``scorer(x (b, ...) float32, y (b,) or None, start) -> {column: (b,)}``
            (e.g. :class:`LogitScorer`, :class:`StochasticScorer`); must return ``pred`` for
            an unlabelled source. Picklable when an executor is used.
        source: array, :class:`NpySource`, :class:`SyntheticPool` or an iterable of chunks.
        out: target ``.parquet`` path (written atomically).
        chunk_size: rows per chunk (memory is bounded by one chunk).
        progress: a tqdm bar with the throughput in images/s.
        executor: None (in-process) or any executor of :func:`samplescope.executors.run_tasks`;
            then shards of ``shard_size`` rows are scored in parallel (sources with
            ``chunks`` only, i.e. not a one-shot iterator).
        shard_size: rows per shard (default ``64 · chunk_size``), rounded up to a multiple
            of ``chunk_size``.
        workers, address: for an executor created from a name (:mod:`samplescope.executors`).

    Returns:
        :class:`StreamResult` (path, rows, seconds, columns, rows_per_s).
    """
    path = Path(out)
    if path.suffix.lower() != ".parquet":
        raise ValueError(f"out: expected a .parquet file name, got {str(out)!r}")
    chunk_size = check_integer(chunk_size, "chunk_size")
    if shard_size is not None:
        shard_size = check_integer(shard_size, "shard_size")
    if not callable(scorer):
        raise ValueError(f"scorer: expected a callable, got {type(scorer).__name__}")
    if source is None or isinstance(source, (str, bytes, dict)):
        raise ValueError(
            "source: expected an array, an NpySource, a SyntheticPool or an iterable of chunks, "
            f"got {type(source).__name__}"
        )
    try:  # the output folder, before any scoring
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"out: cannot create the folder of {str(out)!r}: {exc}") from exc
    if isinstance(source, np.ndarray):
        with renamed_argument("x", "source"):
            source = ArraySource(source)
    t0 = time.perf_counter()
    if executor is None or executor == "inprocess":
        total = len(source) if hasattr(source, "__len__") else None
        bar = _bar(total, progress, "scoring")
        try:
            rows, columns = _write_stream(scorer, iter_source(source, chunk_size), path, bar.update)
        finally:
            bar.close()
        return StreamResult(path, rows, time.perf_counter() - t0, columns)
    if not (hasattr(source, "chunks") and hasattr(source, "__len__")):
        raise ValueError(
            "source: sharded scoring (executor given) needs an array, NpySource or SyntheticPool, "
            f"got {type(source).__name__}"
        )
    shard = int(shard_size or 64 * chunk_size)
    shard = max(chunk_size, -(-shard // chunk_size) * chunk_size)
    n = len(source)
    parts_dir = path.with_name(path.name + ".parts")
    parts_dir.mkdir(parents=True, exist_ok=True)
    bounds = [(lo, min(n, lo + shard)) for lo in range(0, n, shard)]
    parts = [parts_dir / f"rows_{lo:012d}_{hi:012d}.parquet" for lo, hi in bounds]
    todo = [
        (lo, hi, chunk_size, str(p))
        for (lo, hi), p in zip(bounds, parts, strict=True)
        if not p.is_file()
    ]
    run_tasks(
        _score_shard,
        todo,
        executor,
        workers=workers,
        address=address,
        common=(scorer, source),
        progress=progress,
        desc="shards",
    )
    rows, columns = concat_parquet(parts, path)
    shutil.rmtree(parts_dir, ignore_errors=True)
    return StreamResult(path, rows, time.perf_counter() - t0, columns)
