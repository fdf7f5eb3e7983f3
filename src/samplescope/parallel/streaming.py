"""Score pools far larger than memory: chunked scoring written to Parquet incrementally.

A *source* yields chunks ``(start, x (b, ...), y (b,) or None, sample_id (b,))``; a *scorer*
maps one chunk to per-sample columns ``{name: (b,)}``; :func:`stream_scores` writes every
chunk's columns to a Parquet file as it goes (pyarrow ``ParquetWriter`` into a temporary
file beside the target, renamed over it at the end, so a killed run never leaves a
half-written table). Memory is bounded by one chunk (plus one Parquet row group of the
scores), not by the pool: a pool of 1M MNIST-sized images is scored in well under 1 GB of
extra peak memory (``benchmarks/streaming.py``).

Sources: :class:`ArraySource` (in-memory or memory-mapped array), :class:`NpySource`
(a ``.npy`` file opened with ``mmap_mode="r"``), :class:`SyntheticPool` (images of a base
data set tiled with Gaussian noise, generated chunk by chunk — never materialised), or any
iterable of chunks (arrays ``x``, or ``(x, y)`` / ``(x, y, sample_id)`` tuples).

Scorers: :class:`LogitScorer` (one deterministic forward pass) and :class:`StochasticScorer`
(MC dropout through :func:`samplescope.uncertainty.iter_stochastic`). Columns are
``pred`` (argmax class) and uncertainties (higher = more uncertain); with labels also the
registered logit difficulty measures (higher = harder). The written table has the
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
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._validation import check_array, check_positive
from ..io.atomic import atomic_path
from .executors import run_tasks

__all__ = [
    "ArraySource",
    "NpySource",
    "SyntheticPool",
    "LogitScorer",
    "StochasticScorer",
    "StreamResult",
    "stream_scores",
    "iter_source",
]

Chunk = tuple[int, np.ndarray, "np.ndarray | None", np.ndarray]
_ROW_GROUP = 65536


# --------------------------------------------------------------------------------------------
# Sources
# --------------------------------------------------------------------------------------------


class ArraySource:
    """Rows of an array ``x`` ``(N, ...)`` (a ``np.memmap`` stays on disk), optional ``y``, ids."""

    def __init__(self, x: Any, y: Any = None, sample_id: Any = None) -> None:
        if not isinstance(x, np.ndarray) or x.ndim < 2:
            x = check_array(x, "x", ndim=tuple(range(2, 6)), dtype=np.float32)
        self.x = x
        self.y = None if y is None else np.asarray(y, dtype=np.int64)
        self.sample_id = None if sample_id is None else np.asarray(sample_id, dtype=np.int64)
        n = len(x)
        for name, a in (("y", self.y), ("sample_id", self.sample_id)):
            if a is not None and a.shape != (n,):
                raise ValueError(f"{name}: expected shape ({n},), got {a.shape}")

    def __len__(self) -> int:
        return len(self.x)

    def chunks(self, lo: int, hi: int, chunk_size: int) -> Iterator[Chunk]:
        for a in range(lo, hi, chunk_size):
            b = min(hi, a + chunk_size)
            x = np.array(self.x[a:b], dtype=np.float32)  # a copy: memmaps stay on disk
            y = None if self.y is None else self.y[a:b]
            ids = np.arange(a, b, dtype=np.int64) if self.sample_id is None else self.sample_id[a:b]
            yield a, x, y, ids


class NpySource(ArraySource):
    """A ``.npy`` file of inputs ``(N, ...)`` read by memory map (and optional ``.npy`` labels).

    Picklable by path: process/Dask workers re-open the memory map instead of copying data.
    """

    def __init__(self, path: str | os.PathLike, labels: str | os.PathLike | None = None) -> None:
        self.path = Path(path)
        self.labels_path = None if labels is None else Path(labels)
        if not self.path.is_file():
            raise ValueError(f"path: expected an existing .npy file, got {str(path)!r}")
        self._open()

    def _open(self) -> None:
        x = np.load(self.path, mmap_mode="r")
        if x.ndim < 2:
            raise ValueError(
                f"path: expected an array (N, ...) with ndim >= 2, got shape {x.shape}"
            )
        y = None if self.labels_path is None else np.load(self.labels_path, mmap_mode="r")
        super().__init__(x, None if y is None else np.asarray(y))

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path, "labels_path": self.labels_path}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.path, self.labels_path = state["path"], state["labels_path"]
        self._open()


_BASE_CACHE: dict[tuple[str, str | None], tuple[np.ndarray, np.ndarray]] = {}


class SyntheticPool:
    """A pool of ``n`` images: a base data set tiled and perturbed, generated chunk by chunk.

    Row ``i`` is ``clip(base_x[i mod K] + noise · ε_i, 0, 1)`` with ``ε_i ~ N(0, 1)`` drawn
    from a generator seeded by ``(seed, chunk index)``; its label is ``base_y[i mod K]``.
    ``base`` is a data-set name (loaded lazily, once per process) or ``(x, y)`` arrays.
    Never more than one chunk of the pool exists in memory.
    """

    def __init__(
        self,
        n: int,
        base: str | tuple[Any, Any] = "digits",
        *,
        noise: float = 0.1,
        seed: int = 0,
        data_dir: str | os.PathLike | None = None,
        labelled: bool = True,
    ) -> None:
        self.n = int(check_positive(n, "n"))
        self.base = base
        self.noise = float(check_positive(noise, "noise", strict=False))
        self.seed = int(seed)
        self.data_dir = None if data_dir is None else str(data_dir)
        self.labelled = labelled
        self._arrays: tuple[np.ndarray, np.ndarray] | None = None
        if not isinstance(base, str):
            x = check_array(base[0], "base x", ndim=tuple(range(2, 6)), dtype=np.float32)
            self._arrays = (x, np.asarray(base[1], dtype=np.int64))

    def __len__(self) -> int:
        return self.n

    def _base(self) -> tuple[np.ndarray, np.ndarray]:
        if self._arrays is not None:
            return self._arrays
        assert isinstance(self.base, str)
        key = (self.base, self.data_dir)
        if key not in _BASE_CACHE:
            from ..data import load_dataset

            tr = load_dataset(self.base, self.data_dir).train
            _BASE_CACHE[key] = (tr.x, tr.y)
        return _BASE_CACHE[key]

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self._base()[0].shape[1:])

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        if isinstance(self.base, str):
            state["_arrays"] = None  # workers load the base data set themselves
        return state

    def chunks(self, lo: int, hi: int, chunk_size: int) -> Iterator[Chunk]:
        bx, by = self._base()
        k = len(bx)
        for a in range(lo, hi, chunk_size):
            b = min(hi, a + chunk_size)
            idx = np.arange(a, b) % k
            x = bx[idx]
            if self.noise > 0:
                rng = np.random.default_rng([self.seed, a // chunk_size, chunk_size])
                x += self.noise * rng.standard_normal(x.shape, dtype=np.float32)
                np.clip(x, 0.0, 1.0, out=x)
            yield a, x, (by[idx] if self.labelled else None), np.arange(a, b, dtype=np.int64)


def iter_source(
    source: Any, chunk_size: int, lo: int = 0, hi: int | None = None
) -> Iterator[Chunk]:
    """Chunks ``(start, x, y|None, sample_id)`` of any supported source (see module docstring)."""
    if isinstance(source, (np.ndarray,)):
        source = ArraySource(source)
    if hasattr(source, "chunks") and hasattr(source, "__len__"):
        yield from source.chunks(lo, len(source) if hi is None else hi, chunk_size)
        return
    if not isinstance(source, Iterable):
        raise ValueError(
            "source: expected an array, a .npy NpySource, a SyntheticPool or an iterable of chunks, "
            f"got {type(source).__name__}"
        )
    start = 0
    for i, item in enumerate(source):
        y = ids = None
        if isinstance(item, (tuple, list)):
            if len(item) not in (2, 3):
                raise ValueError(f"source chunk {i}: expected x, (x, y) or (x, y, sample_id)")
            x, y = item[0], item[1]
            ids = item[2] if len(item) == 3 else None
        else:
            x = item
        x = check_array(x, f"source chunk {i}", ndim=tuple(range(2, 6)), dtype=np.float32)
        b = len(x)
        y = None if y is None else np.asarray(y, dtype=np.int64).reshape(b)
        ids = (
            np.arange(start, start + b, dtype=np.int64)
            if ids is None
            else np.asarray(ids, np.int64)
        )
        yield start, x, y, ids
        start += b


# --------------------------------------------------------------------------------------------
# Scorers
# --------------------------------------------------------------------------------------------


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(-1, keepdims=True)


def _entropy(p: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    return np.maximum(-t.sum(-1), 0.0)


class LogitScorer:
    """One deterministic (eval-mode) forward pass per chunk.

    Columns: ``pred``; ``max_prob`` (trust, higher = more confident); ``entropy`` (H[p],
    higher = more uncertain); with labels also each of ``measures`` (registered ``"logits"``
    difficulty measures, higher = harder; default ``loss``, ``margin``).
    """

    def __init__(
        self, model: Any, *, measures: Iterable[str] = ("loss", "margin"), batch_size: int = 1024
    ) -> None:
        self.model = model
        self.measures = tuple(measures)
        self.batch_size = int(check_positive(batch_size, "batch_size"))
        from ..difficulty import get_measure

        for m in self.measures:
            if get_measure(m).kind != "logits":
                raise ValueError(f"measures: expected 'logits' measures, got {m!r}")

    def __call__(self, x: np.ndarray, y: np.ndarray | None, start: int) -> dict[str, np.ndarray]:
        from ..difficulty import get_measure
        from ..training.trainer import predict_logits

        z = predict_logits(self.model, x, batch_size=self.batch_size)
        p = _softmax(z)
        out = {"pred": p.argmax(1).astype(np.int64), "max_prob": p.max(1), "entropy": _entropy(p)}
        if y is not None:
            for m in self.measures:
                out[m] = np.asarray(get_measure(m).fn(z, y), dtype=np.float64)
        return out


class StochasticScorer:
    """MC-dropout scores per chunk from :func:`samplescope.uncertainty.iter_stochastic`.

    ``S = samples`` passes with dropout active; masks seeded by ``(seed, chunk start)``, so
    results depend on the seed and the chunk boundaries only (not on the executor).
    Columns (higher = more uncertain): ``pred`` (argmax of p̄), ``max_prob`` (max p̄, trust),
    ``predictive_entropy`` H[p̄], ``expected_entropy`` mean_s H[p_s], ``bald`` (their
    difference, mutual information), ``variation_ratio`` 1 − (modal-class count)/S (Gal),
    ``mean_std`` mean_c sqrt(E p² − (E p)²); with labels also ``loss`` −log p̄[y].
    """

    def __init__(
        self,
        model: Any,
        *,
        samples: int = 20,
        seed: int = 0,
        batch_size: int = 256,
        consistent_masks: bool = False,
    ) -> None:
        self.model = model
        self.samples = int(check_positive(samples, "samples"))
        self.seed = int(seed)
        self.batch_size = int(check_positive(batch_size, "batch_size"))
        self.consistent_masks = consistent_masks

    def __call__(self, x: np.ndarray, y: np.ndarray | None, start: int) -> dict[str, np.ndarray]:
        from ..uncertainty import iter_stochastic
        from ..uncertainty.masks import mix_seed

        seed = self.seed if self.consistent_masks else mix_seed(self.seed, start)
        parts = list(
            iter_stochastic(
                self.model,
                x,
                "mc_dropout",
                samples=self.samples,
                batch_size=self.batch_size,
                seed=seed,
                consistent_masks=self.consistent_masks,
            )
        )
        p = np.concatenate(parts, axis=1).astype(np.float64)  # (S, b, C)
        pbar = p.mean(0)
        total = _entropy(pbar)
        aleatoric = _entropy(p).mean(0)
        S, b, C = p.shape
        votes = np.zeros((b, C), dtype=np.int64)
        np.add.at(votes, (np.arange(b)[None, :].repeat(S, 0), p.argmax(-1)), 1)
        out = {
            "pred": pbar.argmax(1).astype(np.int64),
            "max_prob": pbar.max(1),
            "predictive_entropy": total,
            "expected_entropy": np.minimum(aleatoric, total),
            "bald": np.clip(total - aleatoric, 0.0, None),
            "variation_ratio": 1.0 - votes.max(1) / S,
            "mean_std": np.sqrt(np.clip((p**2).mean(0) - pbar**2, 0.0, None)).mean(1),
        }
        if y is not None:
            out["loss"] = -np.log(np.clip(pbar[np.arange(b), y], 1e-12, None))
        return out


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


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


def _chunk_table(chunk: Chunk, cols: dict[str, np.ndarray]) -> Any:
    import pyarrow as pa

    _, x, y, ids = chunk
    b = len(x)
    data: dict[str, Any] = {"sample_id": ids}
    label = y if y is not None else cols.get("pred")
    if label is None:
        raise ValueError("scorer: expected a 'pred' column for an unlabelled source")
    data["label"] = np.asarray(label, dtype=np.int64)
    for k, v in cols.items():
        a = np.asarray(v)
        if a.shape != (b,):
            raise ValueError(f"scorer: expected column {k!r} of shape ({b},), got {a.shape}")
        data[k] = a
    return pa.table(data)


def _write_stream(
    scorer: Callable[..., dict[str, np.ndarray]],
    chunks: Iterator[Chunk],
    path: Path,
    bar: Any = None,
) -> tuple[int, list[str]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows, columns = 0, []
    with atomic_path(path) as tmp:
        writer = None
        pending: list[Any] = []
        pending_rows = 0
        try:
            for chunk in chunks:
                table = _chunk_table(chunk, scorer(chunk[1], chunk[2], chunk[0]))
                if writer is None:
                    writer = pq.ParquetWriter(tmp, table.schema)
                    columns = table.schema.names
                pending.append(table)
                pending_rows += table.num_rows
                rows += table.num_rows
                if pending_rows >= _ROW_GROUP:
                    writer.write_table(pa.concat_tables(pending))
                    pending, pending_rows = [], 0
                if bar is not None:
                    bar.update(table.num_rows)
            if writer is None:
                raise ValueError("source: expected at least one sample, got an empty source")
            if pending:
                writer.write_table(pa.concat_tables(pending))
        finally:
            if writer is not None:
                writer.close()
    return rows, columns


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
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="img", unit_scale=True, smoothing=0.1)


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
    scheduler: str | None = None,
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
        executor: None (in-process) or any executor of :func:`samplescope.parallel.run_tasks`;
            then shards of ``shard_size`` rows are scored in parallel (sources with
            ``chunks`` only, i.e. not a one-shot iterator).
        shard_size: rows per shard (default ``64 · chunk_size``), rounded up to a multiple
            of ``chunk_size``.

    Returns:
        :class:`StreamResult` (path, rows, seconds, columns, rows_per_s).
    """
    path = Path(out)
    if path.suffix.lower() != ".parquet":
        raise ValueError(f"out: expected a .parquet file name, got {str(out)!r}")
    chunk_size = int(check_positive(chunk_size, "chunk_size"))
    if not callable(scorer):
        raise ValueError(f"scorer: expected a callable, got {type(scorer).__name__}")
    if isinstance(source, np.ndarray):
        source = ArraySource(source)
    t0 = time.perf_counter()
    if executor is None or executor == "inprocess":
        total = len(source) if hasattr(source, "__len__") else None
        bar = _bar(total, progress, "scoring")
        try:
            rows, columns = _write_stream(scorer, iter_source(source, chunk_size), path, bar)
        finally:
            if bar is not None:
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
        scheduler=scheduler,
        common=(scorer, source),
        progress=progress,
        desc="shards",
    )
    rows, columns = _merge_parts(parts, path)
    shutil.rmtree(parts_dir, ignore_errors=True)
    return StreamResult(path, rows, time.perf_counter() - t0, columns)


def _merge_parts(parts: list[Path], path: Path) -> tuple[int, list[str]]:
    import pyarrow.parquet as pq

    rows, columns = 0, []
    with atomic_path(path) as tmp:
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
