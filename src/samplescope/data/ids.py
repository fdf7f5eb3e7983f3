"""``with_ids(dataset)``: a torch ``Dataset`` whose items also carry a stable sample id.

The recorder callbacks of :mod:`samplescope.integrations` need, for every training batch,
which samples it holds. Wrapping the training set once gives each item its id, and the
framework's own ``DataLoader`` collates the ids into a ``(B,)`` tensor beside the inputs:

- tuple items ``(x, y, ...)`` become ``(x, y, sample_id)`` (extra fields dropped);
- dict items (Hugging Face style, ``{"input_ids": ..., "labels": ...}``) get a
  ``"sample_id"`` key.

The id of position ``i`` is ``ids[i]`` when ``ids`` is given, else ``i + id_offset``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .._validation import check_ids, check_integer

__all__ = ["WithIds", "with_ids", "ID_KEY"]

ID_KEY = "sample_id"


class WithIds(torch.utils.data.Dataset):
    """``dataset`` with each item's sample id added (see the module docstring)."""

    def __init__(self, dataset: Any, ids: Any = None, *, id_offset: int = 0) -> None:
        try:
            n = len(dataset)
        except TypeError as exc:
            raise ValueError(
                f"dataset: expected a map-style Dataset with __len__, got {type(dataset).__name__}"
            ) from exc
        id_offset = check_integer(id_offset, "id_offset", minimum=0)
        self.dataset = dataset
        if ids is None:
            self.ids = np.arange(n, dtype=np.int64) + id_offset
        else:
            self.ids = check_ids(ids, "ids", n=n)

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: int) -> Any:
        item = self.dataset[i]
        sid = int(self.ids[i])
        if isinstance(item, dict):
            if ID_KEY in item:
                raise ValueError(f"dataset: items already have a {ID_KEY!r} key")
            return {**item, ID_KEY: sid}
        if isinstance(item, (tuple, list)) and len(item) >= 2:
            return item[0], item[1], sid
        raise ValueError(
            f"dataset: expected items (x, y, ...) or dicts, got {type(item).__name__} at index {i}"
        )


def with_ids(dataset: Any, ids: Any = None, *, id_offset: int = 0) -> WithIds:
    """Wrap ``dataset`` so its items carry sample ids (``ids`` or positions + ``id_offset``)."""
    return WithIds(dataset, ids, id_offset=id_offset)
