"""Splits whose inputs stay in a torch ``Dataset``: read on demand, augmentations live.

``from_torch_dataset(ds, lazy=True)`` returns a :class:`LazySplit`: labels ``y`` (N,) and
ids are read once (one pass through a ``DataLoader``; the inputs of that pass are dropped),
the inputs ``x`` are a :class:`LazyInputs` view that calls ``ds[i]`` only for the rows
asked for. So memory is bounded by a batch, not by N, and a ``Dataset`` that draws a random
augmentation in ``__getitem__`` gives fresh inputs at every read: :func:`samplescope.fit`
reads each training batch through a ``DataLoader`` (``num_workers`` workers) over the
batch order of :func:`samplescope.training.batch_order`, so every epoch sees new views.

Everything that slices ``split.x[lo:hi]`` (evaluation, prediction, gradient norms,
stochastic predictions) reads through the dataset too. Eval passes then see the dataset's
augmentations as well: give them a split of the un-augmented dataset. Integer inputs
(token ids) keep their dtype as int64; floating inputs become float32.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .._validation import check_integer, check_labels, to_numpy
from .split import DataSplit, materialise_torch_dataset

__all__ = ["LazyInputs", "LazySplit", "lazy_split", "from_torch_dataset"]


def _item(dataset: Any, i: int) -> tuple[Any, Any]:
    item = dataset[int(i)]
    if not isinstance(item, (tuple, list)) or len(item) < 2:
        raise ValueError(
            f"dataset: expected items (x, y, ...), got {type(item).__name__} at index {i}"
        )
    return item[0], item[1]


def _as_row(x: Any) -> np.ndarray:
    a = to_numpy(x)
    if a.dtype.kind in "iu" and a.dtype != np.uint8:  # token ids; uint8 pixels become floats
        return a.astype(np.int64, copy=False)
    return a.astype(np.float32, copy=False)


class LazyInputs:
    """Array-like inputs ``(N, ...)`` read from ``dataset`` at rows ``index`` on demand.

    ``x[i]`` → one input; ``x[slice]`` / ``x[positions]`` → a stacked numpy array;
    ``np.asarray(x)`` materialises all N (avoid it for large sets).
    """

    def __init__(self, dataset: Any, index: np.ndarray, item_shape: tuple, dtype: Any) -> None:
        self.dataset = dataset
        self.index = np.asarray(index, dtype=np.int64)
        self.item_shape = tuple(item_shape)
        self.dtype = np.dtype(dtype)

    def __len__(self) -> int:
        return len(self.index)

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self.index), *self.item_shape)

    @property
    def ndim(self) -> int:
        return 1 + len(self.item_shape)

    def read(self, rows: np.ndarray) -> np.ndarray:
        """Inputs of split rows ``rows`` ``(b, ...)`` (dataset reads, in that order)."""
        out = [_as_row(_item(self.dataset, self.index[r])[0]) for r in rows]
        if not out:
            return np.zeros((0, *self.item_shape), dtype=self.dtype)
        shapes = {a.shape for a in out}
        if shapes != {self.item_shape}:
            raise ValueError(
                f"dataset: expected inputs of shape {self.item_shape}, got {sorted(shapes)[:3]}"
            )
        return np.stack(out).astype(self.dtype, copy=False)

    def __getitem__(self, key: Any) -> np.ndarray:
        if isinstance(key, (int, np.integer)):
            return self.read(np.array([int(key)]))[0]
        rows = np.arange(len(self.index))[key]
        return self.read(np.atleast_1d(rows))

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        a = self.read(np.arange(len(self.index)))
        return a if dtype is None else a.astype(dtype)


class _Rows(torch.utils.data.Dataset):
    """Split rows → dataset inputs, for a DataLoader with a batch sampler of split rows."""

    def __init__(self, inputs: LazyInputs) -> None:
        self.inputs = inputs

    def __len__(self) -> int:
        return len(self.inputs)

    def __getitem__(self, r: int) -> torch.Tensor:
        return torch.as_tensor(_as_row(_item(self.inputs.dataset, self.inputs.index[r])[0]))


class LazySplit(DataSplit):
    """A :class:`DataSplit` whose ``x`` is a :class:`LazyInputs` (see the module docstring)."""

    num_workers: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.x, LazyInputs):
            raise ValueError(f"x: expected LazyInputs, got {type(self.x).__name__}")
        n = len(self.x)
        self.y = check_labels(self.y, "y", n=n, allow_empty=True)
        self.sample_id = check_labels(self.sample_id, "sample_id", n=n, allow_empty=True)
        if len(np.unique(self.sample_id)) != n:
            raise ValueError("sample_id: expected unique ids, got duplicates")
        if self.true_y is not None:
            self.true_y = check_labels(self.true_y, "true_y", n=n, allow_empty=True)

    def _like(self, x: LazyInputs, y: Any, ids: Any, true_y: Any) -> LazySplit:
        s = LazySplit(x, y, ids, true_y)
        s.num_workers = self.num_workers
        return s

    def subset(self, index: Any) -> LazySplit:
        idx = np.arange(len(self))[np.asarray(index)]
        x = LazyInputs(self.x.dataset, self.x.index[idx], self.x.item_shape, self.x.dtype)
        t = None if self.true_y is None else self.true_y[idx]
        return self._like(x, self.y[idx], self.sample_id[idx], t)

    def with_labels(self, y: Any) -> LazySplit:
        y = check_labels(y, "y", n=len(self))
        return self._like(self.x, y, self.sample_id, self.y if self.true_y is None else self.true_y)

    def tensors(self, device: Any = "cpu") -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Materialises ``x`` (all N rows): prefer :meth:`loader` for training."""
        return (
            torch.as_tensor(np.asarray(self.x), device=device),
            torch.as_tensor(self.y, device=device),
            torch.as_tensor(self.sample_id, device=device),
        )

    def loader(self, batches: list[torch.Tensor]) -> torch.utils.data.DataLoader:
        """A DataLoader yielding the inputs ``(b, ...)`` of each batch of split rows, in order."""
        return torch.utils.data.DataLoader(
            _Rows(self.x),
            batch_sampler=[b.tolist() for b in batches],
            num_workers=self.num_workers,
        )


def lazy_split(
    dataset: Any,
    *,
    id_offset: int = 0,
    labels: Any = None,
    batch_size: int = 256,
    num_workers: int = 0,
) -> LazySplit:
    """A :class:`LazySplit` over a map-style ``dataset`` yielding ``(x, y, ...)``.

    ``labels`` ``(N,)``: the labels if known (skips the label pass). Sample ids are the
    dataset positions plus ``id_offset``.
    """
    id_offset = check_integer(id_offset, "id_offset", minimum=0)
    batch_size = check_integer(batch_size, "batch_size")
    num_workers = check_integer(num_workers, "num_workers", minimum=0)
    try:
        n = len(dataset)
    except TypeError as exc:
        raise ValueError(
            f"dataset: expected a map-style Dataset with __len__, got {type(dataset).__name__}"
        ) from exc
    if n == 0:
        raise ValueError("dataset: expected a non-empty Dataset, got length 0")
    x0 = _as_row(_item(dataset, 0)[0])
    if labels is None:
        ys = []
        loader = torch.utils.data.DataLoader(
            dataset, batch_size=batch_size, num_workers=num_workers, collate_fn=_labels_only
        )
        for yb in loader:
            ys.append(yb)
        y = np.concatenate(ys)
    else:
        y = labels
    y = check_labels(y, "labels", n=n)
    x = LazyInputs(dataset, np.arange(n), x0.shape, x0.dtype)
    s = LazySplit(x, y, np.arange(n, dtype=np.int64) + id_offset)
    s.num_workers = num_workers
    return s


def _labels_only(items: list[Any]) -> np.ndarray:
    ys = []
    for it in items:
        if not isinstance(it, (tuple, list)) or len(it) < 2:
            raise ValueError(f"dataset: expected items (x, y, ...), got {type(it).__name__}")
        yi = to_numpy(it[1])
        if yi.ndim != 0:
            raise ValueError(f"dataset: expected a scalar label y, got shape {yi.shape}")
        ys.append(yi)
    return np.stack(ys)


def from_torch_dataset(
    dataset: torch.utils.data.Dataset,
    *,
    id_offset: int = 0,
    lazy: bool = False,
    labels: Any = None,
    batch_size: int = 256,
    num_workers: int = 0,
) -> DataSplit:
    """Any map-style torch ``Dataset`` yielding ``(x, y, ...)`` as a DataSplit.

    Sample ids are the dataset positions plus ``id_offset``. ``lazy=False`` (default) reads
    every input once into memory (integer inputs as int64, others float32). ``lazy=True``
    returns a :class:`LazySplit`: the inputs stay in the dataset and are read per batch
    through a ``DataLoader`` (``num_workers`` workers), so random augmentations stay live
    and memory is bounded; ``labels`` ``(N,)`` skips its one label pass (read in batches
    of ``batch_size``).
    """
    if not isinstance(lazy, bool):
        raise ValueError(f"lazy: expected True or False, got {lazy!r}")
    if lazy:
        return lazy_split(
            dataset,
            id_offset=id_offset,
            labels=labels,
            batch_size=batch_size,
            num_workers=num_workers,
        )
    return materialise_torch_dataset(dataset, id_offset=id_offset)
