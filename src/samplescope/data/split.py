"""In-memory labelled splits with stable sample ids.

A :class:`DataSplit` holds ``x`` (N, ...) float32 (int64 for integer inputs such as token
ids: integer inputs keep an integer dtype end to end), ``y`` (N,) int64 and ``sample_id``
(N,) int64. :func:`samplescope.data.from_torch_dataset` with ``lazy=True`` keeps the inputs
in the torch ``Dataset`` instead (:mod:`samplescope.data.lazy`). Sample ids are stable: they
never change when a split is subset, shuffled, re-labelled or corrupted, so every
per-sample result can be joined back to its sample."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .._validation import (
    check_array,
    check_ids,
    check_integer,
    check_labels,
    check_num_classes,
    to_numpy,
)

__all__ = [
    "DataSplit",
    "Dataset",
    "IndexedTorchDataset",
    "as_input_array",
    "as_split",
    "from_arrays",
    "materialise_torch_dataset",
]


@dataclass
class DataSplit:
    """One labelled split kept in memory.

    Attributes:
        x: inputs, shape ``(N, ...)`` float32 (images are ``(N, C, H, W)`` in [0, 1]).
        y: labels, shape ``(N,)`` int64 in ``[0, num_classes)`` (the labels a model trains on,
            possibly corrupted).
        sample_id: stable integer ids, shape ``(N,)`` int64, unique.
        true_y: the clean labels when ``y`` was corrupted, else ``None``.
    """

    x: np.ndarray
    y: np.ndarray
    sample_id: np.ndarray
    true_y: np.ndarray | None = None

    def __post_init__(self) -> None:
        # x: numbers (finite when floating), one row per sample; labels and ids: int64 (N,)
        xa = check_array(self.x, "x", ndim=tuple(range(1, 6)), dtype=None, allow_empty=True)
        if xa.dtype.kind not in "fiub":
            raise ValueError(f"x: expected real numbers, got an array of dtype {xa.dtype}")
        n = len(xa)
        y = check_labels(self.y, "y", allow_empty=True)
        ids = check_labels(self.sample_id, "sample_id", allow_empty=True)
        if len(y) != n or len(ids) != n:
            raise ValueError(
                f"DataSplit: mismatched lengths: x={n}, y={len(y)}, sample_id={len(ids)}"
            )
        if len(np.unique(ids)) != n:
            raise ValueError("sample_id: expected unique ids, got duplicates")
        self.y, self.sample_id = y, ids
        if self.true_y is not None:
            self.true_y = check_labels(self.true_y, "true_y", allow_empty=True)
            if len(self.true_y) != n:
                raise ValueError(
                    f"true_y: expected {n} entries (one per sample), got {len(self.true_y)}"
                )

    def __len__(self) -> int:
        return len(self.y)

    @property
    def is_noisy(self) -> np.ndarray | None:
        """Boolean mask ``(N,)`` of samples whose label differs from the clean one."""
        return None if self.true_y is None else self.y != self.true_y

    def subset(self, index: Any) -> DataSplit:
        """Rows ``index`` (positions or boolean mask), ids preserved."""
        idx = np.asarray(index)
        return DataSplit(
            self.x[idx],
            self.y[idx],
            self.sample_id[idx],
            None if self.true_y is None else self.true_y[idx],
        )

    def with_labels(self, y: Any) -> DataSplit:
        """A copy with new (e.g. noisy) labels; the current labels become ``true_y``."""
        y = check_labels(y, "y", n=len(self))
        clean = self.y if self.true_y is None else self.true_y
        return DataSplit(self.x, y, self.sample_id, clean)

    def positions(self, sample_ids: Any) -> np.ndarray:
        """Positions of ``sample_ids`` in this split (ValueError for unknown ids)."""
        ids = np.asarray(sample_ids, dtype=np.int64)
        order = np.argsort(self.sample_id)
        pos = np.searchsorted(self.sample_id, ids, sorter=order)
        pos = np.clip(pos, 0, len(order) - 1)
        found = order[pos]
        if not np.array_equal(self.sample_id[found], ids):
            missing = ids[self.sample_id[found] != ids][:5]
            raise ValueError(
                f"sample_ids: expected ids present in the split, got unknown ids {missing.tolist()}"
            )
        return found

    def tensors(
        self, device: str | torch.device = "cpu"
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(x, y, sample_id)`` as torch tensors (x float32, others int64)."""
        return (
            torch.as_tensor(self.x, device=device),
            torch.as_tensor(self.y, device=device),
            torch.as_tensor(self.sample_id, device=device),
        )


@dataclass
class Dataset:
    """A named data set: training and test splits plus metadata."""

    name: str
    train: DataSplit
    test: DataSplit
    num_classes: int
    class_names: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        for attr in ("train", "test"):
            if not isinstance(getattr(self, attr), DataSplit):
                raise ValueError(
                    f"{attr}: expected a DataSplit, got {type(getattr(self, attr)).__name__}"
                )
        self.num_classes = check_num_classes(self.num_classes)

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one input, e.g. ``(1, 28, 28)``."""
        return tuple(self.train.x.shape[1:])


class IndexedTorchDataset(torch.utils.data.Dataset):
    """A torch ``Dataset`` view of a :class:`DataSplit` yielding ``(x, y, sample_id)``."""

    def __init__(self, split: DataSplit) -> None:
        if not isinstance(split, DataSplit):
            raise ValueError(f"split: expected a DataSplit, got {type(split).__name__}")
        self.split = split

    def __len__(self) -> int:
        return len(self.split)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int, int]:
        s = self.split
        return torch.as_tensor(s.x[i]), int(s.y[i]), int(s.sample_id[i])


def as_input_array(x: Any, name: str = "x", ndim: tuple[int, ...] = (2, 3, 4, 5)) -> np.ndarray:
    """Model inputs ``(N, ...)`` as numpy: integer inputs as int64 (token ids reach an
    ``nn.Embedding`` as integers), anything else float32 (finite). ``uint8`` is taken as
    pixel data and becomes float32 (as before: values unchanged, not rescaled)."""
    a = check_array(x, name, ndim=ndim, dtype=None)
    if a.dtype.kind in "iu" and a.dtype != np.uint8:
        return a.astype(np.int64, copy=False)
    return check_array(a, name, ndim=ndim, dtype=np.float32)


def from_arrays(
    x: Any, y: Any, sample_id: Any = None, *, num_classes: int | None = None
) -> DataSplit:
    """Build a :class:`DataSplit` from numpy arrays (or tensors) a user brings.

    Args:
        x: inputs ``(N, ...)``; integer inputs (token ids) become int64, others (and
            ``uint8`` pixels) float32 (finite).
        y: integer labels ``(N,)`` in ``[0, num_classes)``.
        sample_id: optional unique integer ids ``(N,)``; default ``0..N-1``.
    """
    xa = as_input_array(x, "x")
    ya = check_labels(y, "y", num_classes=num_classes, n=len(xa))
    if sample_id is None:
        ids = np.arange(len(xa), dtype=np.int64)
    else:
        ids = check_ids(sample_id, "sample_id", n=len(xa))
    return DataSplit(xa, ya, ids)


def materialise_torch_dataset(
    dataset: torch.utils.data.Dataset, *, id_offset: int = 0
) -> DataSplit:
    """Read every item ``(x, y, ...)`` of a map-style torch ``Dataset`` into a DataSplit.

    Sample ids are the dataset positions plus ``id_offset``. The public entry point, with
    ``lazy=True`` as well, is :func:`samplescope.data.from_torch_dataset`.
    """
    id_offset = check_integer(id_offset, "id_offset", minimum=0)
    try:
        n = len(dataset)  # type: ignore[arg-type]
        getitem = dataset.__getitem__
    except (TypeError, AttributeError) as exc:
        raise ValueError(
            f"dataset: expected a map-style torch Dataset with __len__, got {type(dataset).__name__}"
        ) from exc
    if n == 0:
        raise ValueError("dataset: expected a non-empty Dataset, got length 0")
    xs, ys = [], []
    for i in range(n):
        item = getitem(i)
        if not isinstance(item, (tuple, list)) or len(item) < 2:
            raise ValueError(
                f"dataset: expected items (x, y, ...), got {type(item).__name__} at index {i}"
            )
        xs.append(to_numpy(item[0]))
        yi = to_numpy(item[1])
        if yi.ndim != 0:
            raise ValueError(
                f"dataset: expected a scalar label y, got shape {yi.shape} at index {i}"
            )
        ys.append(yi)
    shapes = {x.shape for x in xs}
    if len(shapes) > 1:
        raise ValueError(f"dataset: expected inputs of one shape, got shapes {sorted(shapes)[:3]}")
    try:
        x = np.stack(xs)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"dataset: expected array-like inputs x, got {type(xs[0]).__name__}"
        ) from exc
    # labels and inputs are checked by from_arrays (numbers, finite, integer classes)
    return from_arrays(x, np.stack(ys), np.arange(n, dtype=np.int64) + id_offset)


def as_split(data: Any) -> DataSplit:
    """Coerce ``DataSplit``, ``(x, y)`` / ``(x, y, ids)`` tuples or a torch Dataset to a DataSplit."""
    if isinstance(data, DataSplit):
        return data
    if isinstance(data, torch.utils.data.Dataset):
        if isinstance(data, IndexedTorchDataset):
            return data.split
        return materialise_torch_dataset(data)
    if isinstance(data, Sequence) and not isinstance(data, (str, bytes)) and len(data) in (2, 3):
        return from_arrays(*data)
    raise ValueError(
        "data: expected a DataSplit, an (x, y) tuple of arrays or a torch Dataset, "
        f"got {type(data).__name__}"
    )
