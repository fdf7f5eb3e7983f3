"""The user's data, ready to train on and to show: :class:`UserData` and :func:`encode_labels`.

Read by :func:`samplescope.data.read_data` (:mod:`samplescope.data.readers`); the formats are
documented there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .split import Dataset, DataSplit

__all__ = ["USER_DATA_KINDS", "UserData", "encode_labels"]

USER_DATA_KINDS = ("tabular", "image", "array", "builtin")


@dataclass
class UserData:
    """The user's data, ready to train on and to show.

    Attributes:
        name: the file / folder stem or the built-in name.
        kind: ``"tabular"`` | ``"image"`` | ``"array"`` | ``"builtin"``.
        split: every sample (:class:`DataSplit`: ``x`` float32 ``(N, ...)``, labels ``0..C-1``).
        class_names: ``C`` names; ``class_names[k]`` is the original value of label ``k``.
        source: the path read (or the built-in name).
        test: a held-out split where the source has one, else None.
        feature_names: tabular: the model's input columns after encoding (``col`` for numeric,
            ``col=level`` for one-hot); None otherwise.
        raw: tabular: the original feature columns and the label, one row per sample
            (pandas DataFrame, what a gallery shows); None otherwise.
        files: image folder: the file of every sample; None otherwise.
        label_column: tabular: the label column; ``.npz``: the labels array name.
        encoding: how the inputs were built (tabular: numeric means/stds and categorical
            levels; images: mode, size and how many were converted / resized).
    """

    name: str
    kind: str
    split: DataSplit
    class_names: list[str]
    source: str = ""
    test: DataSplit | None = None
    feature_names: list[str] | None = None
    raw: Any = field(default=None, repr=False)
    files: list[str] | None = field(default=None, repr=False)
    label_column: str | None = None
    encoding: dict[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in USER_DATA_KINDS:
            raise ValueError(f"kind: expected one of {list(USER_DATA_KINDS)}, got {self.kind!r}")
        if not isinstance(self.split, DataSplit):
            raise ValueError(f"split: expected a DataSplit, got {type(self.split).__name__}")
        self.class_names = [str(c) for c in self.class_names]
        if len(self.class_names) < 2:
            raise ValueError(f"class_names: expected at least 2 classes, got {self.class_names}")
        if len(self.split) and int(self.split.y.max()) >= len(self.class_names):
            raise ValueError(
                f"class_names: expected a name for every label (max label {int(self.split.y.max())}), "
                f"got {len(self.class_names)} names"
            )

    def __len__(self) -> int:
        return len(self.split)

    def __repr__(self) -> str:
        test = "" if self.test is None else f", test={len(self.test)}"
        return (
            f"UserData({self.name!r}, kind={self.kind!r}, samples={len(self)}{test}, "
            f"classes={self.num_classes}, input_shape={self.input_shape})"
        )

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one model input, e.g. ``(1, 28, 28)`` or ``(D,)``."""
        return tuple(self.split.x.shape[1:])

    @property
    def is_image(self) -> bool:
        return self.split.x.ndim == 4

    def label_names(self, labels: Any) -> np.ndarray:
        """Class names of integer ``labels`` (object array; ``-1`` → ``""``)."""
        y = np.asarray(labels, dtype=np.int64)
        names = np.asarray([*self.class_names, ""], dtype=object)
        if y.size and (y.min() < -1 or y.max() >= self.num_classes):
            raise ValueError(
                f"labels: expected values in [-1, {self.num_classes}), got [{y.min()}, {y.max()}]"
            )
        return names[y]

    def sample_view(self, index: int) -> np.ndarray | dict[str, Any]:
        """What a gallery shows for sample ``index`` (a position in ``split``).

        Images: ``(H, W)`` (grayscale) or ``(H, W, 3)`` float in [0, 1]. Tabular: the raw row
        as ``{column: value}``. Feature arrays: ``{feature_j: value}``.
        """
        i = int(index)
        if not 0 <= i < len(self):
            raise ValueError(f"index: expected a position in [0, {len(self)}), got {index!r}")
        x = self.split.x[i]
        if x.ndim == 3:
            return x[0] if x.shape[0] == 1 else np.moveaxis(x[:3], 0, -1)
        if self.raw is not None:
            return dict(self.raw.iloc[i].items())
        names = self.feature_names or [f"feature_{j}" for j in range(x.size)]
        return {n: float(v) for n, v in zip(names, x.reshape(-1), strict=False)}

    def as_dataset(self, test_fraction: float = 0.2, seed: int = 0) -> Dataset:
        """A :class:`Dataset`: ``test`` where the source has one, else a stratified split."""
        from .._validation import check_fraction, check_integer

        if self.test is not None:
            return Dataset(self.name, self.split, self.test, self.num_classes, self.class_names)
        frac = check_fraction(test_fraction, "test_fraction", inclusive_high=False)
        seed = check_integer(seed, "seed", minimum=0)
        if frac <= 0:
            raise ValueError(f"test_fraction: expected a number in (0, 1), got {test_fraction!r}")
        from sklearn.model_selection import train_test_split

        pos = np.arange(len(self))
        counts = np.bincount(self.split.y)
        strat = self.split.y if counts[counts > 0].min() >= 2 else None
        tr, te = train_test_split(pos, test_size=frac, stratify=strat, random_state=seed)
        return Dataset(
            self.name,
            self.split.subset(np.sort(tr)),
            self.split.subset(np.sort(te)),
            self.num_classes,
            self.class_names,
        )


def encode_labels(values: Any, what: str) -> tuple[np.ndarray, list[str]]:
    """Map label values (ints, strings, bools, integral floats) to ``0..C-1``; ``(codes, names)``.

    ``what`` names the source in errors (e.g. ``"label: column 'y' of data.csv"``). Refuses
    missing values, non-integral floats and a single class.
    """
    import pandas as pd

    a = np.asarray(values)
    if a.ndim != 1:
        raise ValueError(f"{what}: expected a 1-D array of labels, got shape {a.shape}")
    if a.size == 0:
        raise ValueError(f"{what}: expected at least one label, got none")
    missing = pd.isna(a) if a.dtype == object or a.dtype.kind in "fcmM" else np.zeros(len(a), bool)
    if np.any(missing):
        rows = np.flatnonzero(missing)
        raise ValueError(
            f"{what}: {len(rows)} missing labels (rows {rows[:5].tolist()}); every sample needs one"
        )
    if a.dtype.kind == "f":
        if not np.all(np.isfinite(a)) or not np.all(a == np.round(a)):
            raise ValueError(
                f"{what}: expected class labels, got non-integral numbers such as "
                f"{a[a != np.round(a)][:3].tolist()} (regression targets are not supported)"
            )
        a = a.astype(np.int64)
    if a.dtype.kind == "c":
        raise ValueError(f"{what}: expected class labels, got complex numbers")
    if a.dtype == object:
        kinds = {type(v).__name__ for v in a}
        a = a.astype(str) if len(kinds) > 1 else a
    classes, codes = np.unique(a, return_inverse=True)
    if len(classes) < 2:
        raise ValueError(
            f"{what}: a single class {str(classes[0])!r} in all {len(a)} samples; "
            "finding label issues needs at least 2 classes"
        )
    return codes.astype(np.int64).reshape(-1), [str(c) for c in classes]
