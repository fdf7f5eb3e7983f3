"""Offline data sets, the user's own files (:func:`read_data`), corruption tools (label noise, imbalance)."""

from .ids import WithIds, with_ids
from .imbalance import imbalanced_counts, make_imbalanced
from .lazy import LazyInputs, LazySplit, from_torch_dataset
from .loaders import DATA_ENV, DatasetInfo, data_dir, dataset_file, list_datasets, load_dataset
from .noise import ASYMMETRIC_MAPS, NOISE_KINDS, inject_label_noise, transition_matrix
from .readers import read_data
from .split import (
    Dataset,
    DataSplit,
    IndexedTorchDataset,
    as_input_array,
    as_split,
    from_arrays,
)
from .user_data import USER_DATA_KINDS, UserData

__all__ = [
    "ASYMMETRIC_MAPS",
    "DATA_ENV",
    "NOISE_KINDS",
    "USER_DATA_KINDS",
    "Dataset",
    "DatasetInfo",
    "DataSplit",
    "IndexedTorchDataset",
    "LazyInputs",
    "LazySplit",
    "WithIds",
    "as_input_array",
    "with_ids",
    "UserData",
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
    "read_data",
    "transition_matrix",
]
