"""Helpers shared by CLI commands: loading a data set with the usual corruption options."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from .options import DATA_NAMES, NOISE_KINDS

if TYPE_CHECKING:
    from ..data import Dataset

__all__ = [
    "PreparedData",
    "check_data_flags",
    "check_data_source",
    "echo",
    "prepare_data",
    "warn",
]


def echo(msg: str = "") -> None:
    typer.echo(msg)


def warn(msg: str) -> None:
    """A ``warning: ...`` line on stderr: the run goes on, but its result needs a caveat."""
    typer.echo(f"warning: {msg}", err=True)


@dataclass
class PreparedData:
    dataset: Dataset
    description: str
    extra: dict[str, Any] | None = None


def prepare_data(
    name: str,
    *,
    data_dir: Path | None = None,
    noise: float = 0.0,
    noise_kind: str = "symmetric",
    imbalance: float = 1.0,
    imbalance_profile: str = "exponential",
    train_subset: int | None = None,
    seed: int = 0,
) -> PreparedData:
    """Load ``name`` and apply, in order: training subset, imbalance, label noise (train split only).

    The test split keeps its clean labels; with imbalance the test split is left balanced.
    Flag values are checked before anything is loaded (a ValueError naming the flag).
    """
    check_data_flags(
        name, noise=noise, noise_kind=noise_kind, imbalance=imbalance, train_subset=train_subset
    )
    import numpy as np

    from ..data import Dataset, inject_label_noise, load_dataset, make_imbalanced

    ds = load_dataset(name, data_dir)
    train = ds.train
    desc = [f"{ds.name}: {len(train)} train / {len(ds.test)} test"]
    if train_subset is not None and train_subset >= len(train):
        warn(
            f"--train-subset {train_subset} >= the {len(train)} training samples of "
            f"{ds.name}: using all of them"
        )
    if train_subset is not None and train_subset < len(train):
        idx = np.sort(
            np.random.default_rng(seed).choice(len(train), size=train_subset, replace=False)
        )
        train = train.subset(idx)
        desc.append(f"subset {train_subset}")
    if imbalance != 1.0:
        idx = make_imbalanced(
            train.y, imbalance, imbalance_profile, seed, num_classes=ds.num_classes
        )
        train = train.subset(idx)
        counts = np.bincount(train.y, minlength=ds.num_classes)
        desc.append(
            f"imbalance {imbalance:g}:1 ({imbalance_profile}) -> {len(train)} samples, counts {counts.tolist()}"
        )
    if noise > 0:
        mapping = ds.name if noise_kind == "asymmetric" else None
        y_noisy, noisy = inject_label_noise(
            train.y, noise, noise_kind, ds.num_classes, seed, mapping=mapping
        )
        train = train.with_labels(y_noisy)
        desc.append(f"{noise_kind} noise {noise:g}: {int(noisy.sum())} noisy labels")
    ds = Dataset(ds.name, train, ds.test, ds.num_classes, ds.class_names)
    return PreparedData(ds, "; ".join(desc))


def check_data_flags(
    name: str,
    *,
    noise: float = 0.0,
    noise_kind: str = "symmetric",
    imbalance: float = 1.0,
    train_subset: int | None = None,
) -> None:
    """The data flags' values, checked before anything is loaded (ValueError naming the flag)."""
    import math

    if name not in DATA_NAMES:
        raise ValueError(f"--data: expected one of {list(DATA_NAMES)}, got {name!r}")
    if not (math.isfinite(noise) and 0.0 <= noise < 1.0):
        raise ValueError(f"--noise: expected a rate in [0, 1), got {noise!r}")
    if noise_kind not in NOISE_KINDS:
        raise ValueError(f"--noise-kind: expected one of {list(NOISE_KINDS)}, got {noise_kind!r}")
    if not math.isfinite(imbalance) or imbalance < 1.0:
        raise ValueError(f"--imbalance: expected a head:tail ratio >= 1, got {imbalance!r}")
    if train_subset is not None and train_subset <= 0:
        raise ValueError(f"--train-subset: expected a positive count, got {train_subset}")


_TABLES = (".csv", ".tsv", ".parquet", ".pq")
_ARRAYS = (".npz", ".npy")
_BUILTIN_ALIASES = {"fashion_mnist": "fashion-mnist", "fmnist": "fashion-mnist"}


def check_data_source(
    data: str, label: str | None, features: str | None
) -> tuple[str, list[str] | None]:
    """``(kind, features)`` of ``--data`` (``"builtin"``, ``"table"``, ``"npz"``, ``"npy"``,
    ``"folder"``), with ``--label`` / ``--features`` checked against it, before any reading."""
    if not data or not data.strip():
        raise ValueError("--data: expected a built-in name or a path, got an empty value")
    path = Path(data)
    key = _BUILTIN_ALIASES.get(data.lower(), data.lower())
    if key in DATA_NAMES and not path.exists():
        kind = "builtin"
    elif not path.exists():
        raise ValueError(
            f"--data: expected one of {list(DATA_NAMES)} or an existing file or folder, got {data!r}"
        )
    elif path.is_dir():
        kind = "folder"
    elif path.suffix.lower() in _TABLES:
        kind = "table"
    elif path.suffix.lower() in _ARRAYS:
        kind = path.suffix.lower()[1:]
    else:
        raise ValueError(
            f"--data: unknown suffix {path.suffix!r} of {data!r}; expected a folder or one of "
            f"{list(_TABLES + _ARRAYS)}"
        )
    if label is not None:
        if not label.strip():
            raise ValueError("--label: expected a column name, got an empty value")
        if kind in ("builtin", "folder"):
            what = (
                "a built-in data set"
                if kind == "builtin"
                else "an image folder (sub-folders are the classes)"
            )
            raise ValueError(f"--label: only for files, got {label!r} with {what}")
        if kind == "npy" and not Path(label).is_file():
            raise ValueError(f"--label: expected the labels .npy file of {data}, got {label!r}")
    feats = None
    if features is not None:
        feats = [f.strip() for f in features.split(",") if f.strip()]
        if not feats:
            raise ValueError("--features: expected comma-separated column names, got none")
        if kind != "table":
            raise ValueError(f"--features: only for CSV / Parquet files, got {features!r}")
        if len(set(feats)) != len(feats):
            raise ValueError(f"--features: expected distinct column names, got {feats}")
        if label is not None and label in feats:
            raise ValueError(f"--features: the label column {label!r} cannot also be a feature")
    return kind, feats
