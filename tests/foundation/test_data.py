import numpy as np
import pytest
import torch

from samplescope.data import (
    DataSplit,
    as_split,
    from_arrays,
    from_torch_dataset,
    list_datasets,
    load_dataset,
)

MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_mnist_known_facts(mnist):
    assert len(mnist.train) == 60000 and len(mnist.test) == 10000
    assert mnist.train.y[0] == 5
    assert np.bincount(mnist.train.y).tolist() == MNIST_TRAIN_COUNTS
    assert np.bincount(mnist.test.y).tolist() == MNIST_TEST_COUNTS
    assert mnist.train.x.shape == (60000, 1, 28, 28) and mnist.train.x.dtype == np.float32
    assert abs(float(mnist.train.x.mean()) - 0.1307) < 5e-4
    assert abs(float(mnist.train.x.std()) - 0.3081) < 5e-4


def test_fashion_mnist_known_facts(data_dir):
    ds = load_dataset("fashion-mnist", data_dir)
    assert ds.train.y[0] == 9
    assert np.bincount(ds.train.y).tolist() == [6000] * 10
    assert np.bincount(ds.test.y).tolist() == [1000] * 10
    assert ds.class_names[0] == "T-shirt/top" and ds.class_names[9] == "Ankle boot"


def test_sample_ids_stable_and_unique(mnist, digits):
    for ds in (mnist, digits):
        ids = np.concatenate([ds.train.sample_id, ds.test.sample_id])
        assert len(np.unique(ids)) == len(ids)
        assert ds.train.sample_id[0] == 0 and ds.test.sample_id[0] == len(ds.train)
    sub = mnist.train.subset([10, 3, 7])
    assert sub.sample_id.tolist() == [10, 3, 7]
    assert sub.positions([7, 10]).tolist() == [2, 0]


def test_digits_is_default_and_deterministic():
    a, b = load_dataset(), load_dataset("digits")
    assert a.name == "digits" and len(a.train) == 1347 and len(a.test) == 450
    np.testing.assert_array_equal(a.train.y, b.train.y)
    assert a.train.x.shape[1:] == (1, 8, 8) and a.train.x.min() >= 0 and a.train.x.max() <= 1


def test_missing_file_error_says_where(tmp_path):
    with pytest.raises(ValueError, match=r"mnist\.npz.*SAMPLESCOPE_DATA_DIR"):
        load_dataset("mnist", tmp_path)


def test_unknown_dataset_name():
    with pytest.raises(ValueError, match="name: expected one of"):
        load_dataset("cifar10")


def test_list_datasets():
    names = {d.name for d in list_datasets()}
    assert {"digits", "mnist", "fashion-mnist"} <= names


def test_user_arrays_and_torch_dataset():
    x = np.random.default_rng(0).random((12, 5)).astype(np.float32)
    y = np.arange(12) % 3
    s = from_arrays(x, y)
    assert s.sample_id.tolist() == list(range(12))
    tds = torch.utils.data.TensorDataset(torch.as_tensor(x), torch.as_tensor(y))
    s2 = from_torch_dataset(tds, id_offset=100)
    np.testing.assert_allclose(s2.x, x)
    assert s2.sample_id[0] == 100
    assert isinstance(as_split((x, y)), DataSplit)


@pytest.mark.parametrize(
    "x, y, match",
    [
        (np.full((3, 2), np.nan), [0, 1, 0], "x: expected finite"),
        (np.zeros((3, 2)), [0, 1], "y: expected 3 labels"),
        (np.zeros((3, 2)), [0, -1, 0], r"y: expected labels in \[0"),
        (np.zeros((3, 2)), [0.5, 1, 0], "y: expected integer"),
        (np.zeros((0, 2)), [], "x: expected a non-empty"),
        (np.zeros(3), [0, 1, 0], "x: expected 2"),
    ],
)
def test_from_arrays_bad_input(x, y, match):
    with pytest.raises(ValueError, match=match):
        from_arrays(x, y)


def test_duplicate_ids_rejected():
    with pytest.raises(ValueError, match="sample_id: expected unique"):
        from_arrays(np.zeros((3, 2)), [0, 1, 0], [1, 1, 2])
