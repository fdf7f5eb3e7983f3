"""with_ids: items carry their sample id (tuples and dicts); bad datasets are refused."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from samplescope.data import with_ids


def test_tuple_and_dict_items_get_their_ids():
    ds = torch.utils.data.TensorDataset(torch.arange(6).float(), torch.arange(6) % 2)
    w = with_ids(ds, id_offset=10)
    assert len(w) == 6 and w[3][2] == 13 and float(w[3][0]) == 3.0
    batch = next(iter(torch.utils.data.DataLoader(w, batch_size=4)))
    np.testing.assert_array_equal(batch[2].numpy(), [10, 11, 12, 13])
    d = with_ids([{"input_ids": torch.zeros(2), "labels": 1}] * 3, ids=[7, 8, 9])
    assert d[1]["sample_id"] == 8 and d[1]["labels"] == 1


def test_bad_datasets():
    with pytest.raises(ValueError, match="dataset"):
        with_ids(object())
    with pytest.raises(ValueError, match="ids"):
        with_ids([(0, 1), (1, 0)], ids=[1, 1])
    with pytest.raises(ValueError, match="dataset"):
        with_ids([3, 4])[0]
    with pytest.raises(ValueError, match="sample_id"):
        with_ids([{"sample_id": 1}])[0]
