"""What an audit reads: a built-in data set, the user's file or folder, or a ``DataSplit``.

:func:`load_audit_data` returns an :class:`AuditData`: the samples (one ``DataSplit``, every
row audited), class names, and what the report shows of a sample (``images`` for image
data, ``features``, a ``pandas.DataFrame`` of the raw feature columns, for tabular data).
Files and folders go through :func:`samplescope.data.read_data` (CSV, Parquet, ``.npz``,
``.npy``, an image folder with one sub-folder per class).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["AuditData", "load_audit_data"]

BUILTIN = ("digits", "mnist", "fashion-mnist")


@dataclass
class AuditData:
    """The audited samples and how to show them."""

    name: str
    split: Any  # DataSplit
    num_classes: int
    class_names: list[str]
    description: str
    images: np.ndarray | None = None
    features: Any = None


def load_audit_data(
    data: Any,
    *,
    label: str | None = None,
    data_dir: str | os.PathLike | None = None,
    noise: float = 0.0,
    noise_kind: str = "symmetric",
    train_subset: int | None = None,
    seed: int = 0,
) -> AuditData:
    """Read ``data``; for a built-in name, optionally subset it and flip ``noise`` of its labels."""
    from .._validation import check_choice, check_fraction, check_integer
    from ..data import NOISE_KINDS, DataSplit, inject_label_noise, load_dataset

    check_fraction(noise, "noise", inclusive_high=False)
    check_choice(noise_kind, "noise_kind", NOISE_KINDS)
    if train_subset is not None:
        train_subset = check_integer(train_subset, "train_subset")
    builtin = isinstance(data, str) and data in BUILTIN
    if not builtin and noise > 0:
        raise ValueError("noise: injected noise is for the built-in data sets only")
    if not builtin and train_subset is not None:
        raise ValueError("train_subset: subsets are for the built-in data sets only")
    if isinstance(data, DataSplit):
        c = int(data.y.max()) + 1
        return AuditData("arrays", data, c, [str(i) for i in range(c)], f"{len(data)} samples",
                         images=data.x if data.x.ndim >= 3 else None)  # fmt: skip
    if builtin:
        ds = load_dataset(data, data_dir)
        split = ds.train
        desc = [f"{ds.name}: the {len(split)} training samples"]
        if train_subset is not None and train_subset < len(split):
            idx = np.sort(
                np.random.default_rng(seed).choice(len(split), train_subset, replace=False)
            )
            split = split.subset(idx)
            desc.append(f"a random subset of {train_subset}")
        if noise > 0:
            mapping = ds.name if noise_kind == "asymmetric" else None
            y, noisy = inject_label_noise(
                split.y, noise, noise_kind, ds.num_classes, seed, mapping=mapping
            )
            split = split.with_labels(y)
            desc.append(f"{noise_kind} label noise {noise:g} injected ({int(noisy.sum())} flipped)")
        return AuditData(ds.name, split, ds.num_classes, [str(n) for n in ds.class_names],
                         "; ".join(desc), images=split.x)  # fmt: skip
    from ..data import read_data

    ud = read_data(data, label=label, data_dir=data_dir)
    features = None
    if ud.kind == "tabular" and ud.raw is not None:
        features = ud.raw.drop(columns=[c for c in [ud.label_column] if c in ud.raw])
    return AuditData(
        ud.name,
        ud.split,
        len(ud.class_names),
        [str(n) for n in ud.class_names],
        f"{ud.name} ({ud.kind}): {len(ud.split)} samples, {len(ud.class_names)} classes, "
        f"from {ud.source}",
        images=ud.split.x if ud.kind == "image" else None,
        features=features,
    )
