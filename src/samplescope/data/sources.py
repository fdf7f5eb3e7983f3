"""Chunked sources of pool rows: arrays, memory-mapped ``.npy`` files, synthetic pools.

A *source* yields chunks ``(start, x (b, ...) float32, y (b,) or None, sample_id (b,))`` in
row order; :func:`iter_source` turns an array, a source or any iterable of arrays /
``(x, y)`` / ``(x, y, sample_id)`` tuples into such chunks. Sources with ``chunks(lo, hi,
size)`` and ``__len__`` can be cut into shards (one per task of an executor).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .._validation import check_array, check_positive

__all__ = ["ArraySource", "Chunk", "NpySource", "SyntheticPool", "iter_source"]

Chunk = tuple[int, np.ndarray, "np.ndarray | None", np.ndarray]


class ArraySource:
    """Rows of an array ``x`` ``(N, ...)`` (a ``np.memmap`` stays on disk), optional ``y``, ids."""

    def __init__(self, x: Any, y: Any = None, sample_id: Any = None) -> None:
        if not isinstance(x, np.ndarray) or x.ndim < 2:
            x = check_array(x, "x", ndim=tuple(range(2, 6)), dtype=np.float32)
        elif x.dtype.kind not in "fiub" or x.ndim > 5:  # checked without reading a memmap
            raise ValueError(
                f"x: expected real numbers of 2 to 5 dimensions, got shape {x.shape} and dtype {x.dtype}"
            )
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
            # a copy (memmaps stay on disk), checked chunk by chunk (NaN/inf)
            x = check_array(np.array(self.x[a:b]), f"source rows [{a}, {b})", dtype=np.float32)
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
