"""Offline data sets, user data adapters and corruption tools (label noise, imbalance)."""

from .imbalance import imbalanced_counts, make_imbalanced
from .loaders import DATA_ENV, DatasetInfo, data_dir, dataset_file, list_datasets, load_dataset
from .noise import ASYMMETRIC_MAPS, NOISE_KINDS, inject_label_noise, transition_matrix
from .split import (
    Dataset,
    DataSplit,
    IndexedTorchDataset,
    as_split,
    from_arrays,
    from_torch_dataset,
)

__all__ = [
    "ASYMMETRIC_MAPS",
    "DATA_ENV",
    "NOISE_KINDS",
    "Dataset",
    "DatasetInfo",
    "DataSplit",
    "IndexedTorchDataset",
    "as_split",
    "data_dir",
    "dataset_file",
    "from_arrays",
    "from_torch_dataset",
    "imbalanced_counts",
    "inject_label_noise",
    "list_datasets",
    "load_dataset",
    "make_imbalanced",
    "transition_matrix",
]
