"""Offline data set loaders.

``digits`` (scikit-learn, embedded) is the default everywhere. ``mnist`` and
``fashion-mnist`` are read from ``mnist.npz`` / ``fashion_mnist.npz`` (arrays
``x_train``, ``y_train``, ``x_test``, ``y_test``) in a data directory: the ``root``
argument, else the ``SAMPLESCOPE_DATA_DIR`` environment variable. Nothing is downloaded.

Sample ids: training samples get ``0..N_train-1``, test samples
``N_train..N_train+N_test-1``, in the original order.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .split import Dataset, DataSplit

__all__ = ["DATA_ENV", "DatasetInfo", "list_datasets", "load_dataset", "data_dir", "dataset_file"]

DATA_ENV = "SAMPLESCOPE_DATA_DIR"


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    filename: str | None
    n_train: int
    n_test: int
    num_classes: int
    input_shape: tuple[int, ...]
    class_names: tuple[str, ...]
    description: str


_FASHION = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
_DIGITS = tuple(str(i) for i in range(10))

_REGISTRY: dict[str, DatasetInfo] = {
    "digits": DatasetInfo(
        "digits",
        None,
        1347,
        450,
        10,
        (1, 8, 8),
        _DIGITS,
        "scikit-learn 8x8 digits, embedded (stratified 75/25 split, seed 0)",
    ),
    "mnist": DatasetInfo(
        "mnist",
        "mnist.npz",
        60000,
        10000,
        10,
        (1, 28, 28),
        _DIGITS,
        "MNIST handwritten digits, 28x28",
    ),
    "fashion-mnist": DatasetInfo(
        "fashion-mnist",
        "fashion_mnist.npz",
        60000,
        10000,
        10,
        (1, 28, 28),
        _FASHION,
        "Fashion-MNIST clothing images, 28x28",
    ),
}
_ALIASES = {"fashion_mnist": "fashion-mnist", "fmnist": "fashion-mnist"}


def list_datasets() -> list[DatasetInfo]:
    """The built-in data sets."""
    return list(_REGISTRY.values())


def _resolve(name: str) -> DatasetInfo:
    key = _ALIASES.get(str(name).lower(), str(name).lower())
    if key not in _REGISTRY:
        raise ValueError(f"name: expected one of {sorted(_REGISTRY)}, got {name!r}")
    return _REGISTRY[key]


def data_dir(root: str | os.PathLike | None = None) -> Path | None:
    """The data directory: ``root`` if given, else ``$SAMPLESCOPE_DATA_DIR``, else None."""
    if root is not None:
        return Path(root)
    env = os.environ.get(DATA_ENV)
    return Path(env) if env else None


def dataset_file(name: str, root: str | os.PathLike | None = None) -> Path | None:
    """Path of the ``.npz`` file of a file-backed data set (None for embedded ones)."""
    info = _resolve(name)
    if info.filename is None:
        return None
    d = data_dir(root)
    return None if d is None else d / info.filename


def load_dataset(name: str = "digits", root: str | os.PathLike | None = None) -> Dataset:
    """Load a built-in data set into memory.

    Args:
        name: ``"digits"`` (default), ``"mnist"`` or ``"fashion-mnist"``.
        root: directory holding the ``.npz`` files; default ``$SAMPLESCOPE_DATA_DIR``.

    Returns:
        :class:`Dataset` with images ``(N, 1, H, W)`` float32 in [0, 1].

    Raises:
        ValueError: unknown name, or the file is missing (the message says where we looked).
    """
    info = _resolve(name)
    if info.filename is None:
        return _load_digits(info)
    path = dataset_file(info.name, root)
    if path is None or not path.is_file():
        where = "no directory given" if path is None else f"looked for {path}"
        raise ValueError(
            f"name: data set {info.name!r} needs the file {info.filename} ({where}); "
            f"pass root=DIR (CLI: --data-dir DIR) or set {DATA_ENV}=DIR to the folder holding it"
        )
    with np.load(path) as z:
        missing = {"x_train", "y_train", "x_test", "y_test"} - set(z.files)
        if missing:
            raise ValueError(
                f"root: {path} lacks arrays {sorted(missing)}; expected x_train, y_train, x_test, y_test"
            )
        x_tr, y_tr, x_te, y_te = z["x_train"], z["y_train"], z["x_test"], z["y_test"]
    train = DataSplit(_images(x_tr), y_tr.astype(np.int64), np.arange(len(y_tr), dtype=np.int64))
    test = DataSplit(
        _images(x_te), y_te.astype(np.int64), np.arange(len(y_te), dtype=np.int64) + len(y_tr)
    )
    return Dataset(info.name, train, test, info.num_classes, list(info.class_names))


def _images(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.float32)
    if x.max() > 1.0:
        x /= 255.0
    return x[:, None] if x.ndim == 3 else x


def _load_digits(info: DatasetInfo) -> Dataset:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    x = (d.images.astype(np.float32) / 16.0)[:, None]
    y = d.target.astype(np.int64)
    ids = np.arange(len(y), dtype=np.int64)
    tr, te = train_test_split(ids, test_size=0.25, stratify=y, random_state=0)
    tr, te = np.sort(tr), np.sort(te)
    # ids follow the train-then-test convention of the other data sets
    train = DataSplit(x[tr], y[tr], np.arange(len(tr), dtype=np.int64))
    test = DataSplit(x[te], y[te], np.arange(len(te), dtype=np.int64) + len(tr))
    return Dataset(info.name, train, test, info.num_classes, list(info.class_names))
