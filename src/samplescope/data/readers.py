"""Read the user's own data: one entry point, :func:`read_data`, one result, :class:`UserData`.

``source`` is one of

- a **built-in name** (``digits``, ``mnist``, ``fashion-mnist`` and their aliases, unless a
  file or folder of that name exists): :func:`samplescope.data.load_dataset`; the training
  split is ``split``, the test split ``test``;
- a **CSV / TSV / Parquet** file (``.csv``, ``.tsv``, ``.parquet``, ``.pq``): one row per
  sample, :mod:`samplescope.data.tabular` (label column, numeric and one-hot categorical
  features);
- an **image folder** with one sub-folder per class: :mod:`samplescope.data.images`;
- a **``.npz``** file: inputs under the first of :data:`NPZ_INPUT_NAMES` present, labels under
  the first of :data:`NPZ_LABEL_NAMES` (or the array named by ``label=``), optional ids under
  ``sample_id`` / ``ids``; the built-in layout ``x_train, y_train[, x_test, y_test]`` gives a
  test split too;
- a **``.npy``** file of inputs, with labels from ``label=`` (a ``.npy`` path), else a sibling
  ``<stem>_labels.npy``, else ``labels.npy`` / ``y.npy`` in the same folder.

Arrays (``.npz`` / ``.npy``): ``(N, D)`` features are used as they are (kind ``"array"``);
``(N, H, W)`` become images ``(N, 1, H, W)``; ``(N, H, W, C)`` with ``C`` in 1/3/4 are
transposed to ``(N, C, H, W)`` (when both axes 1 and 3 could hold channels, the smaller one
does); integer images are divided by 255
(65535 for 16-bit values), float images above 1 by 255. Labels of any kind (integers,
strings, booleans, integral floats) are mapped to ``0..C-1`` in sorted order of their
values, and ``class_names`` maps them back (``str`` of each value).

**The split the audit trains on** is :attr:`UserData.split`: every sample the user gave, ids
``0..N-1`` in file order (or the file's ``sample_id``); the audit scores all of them with
held-out (cross-fitted) models. ``test`` is only set where the source has one (built-in
sets, ``.npz`` with ``x_test``); :meth:`UserData.as_dataset` makes a stratified one otherwise.

**Unlabelled pools** (``labelled=False``, for active learning): a table without a label
column, a ``.npy`` without labels, an ``.npz`` without a labels array are read too; their
split carries placeholder labels 0, ``class_names`` is ``["?", "?"]`` and
``encoding["labelled"]`` is False (sources that do have labels are read as usual, and the
caller may ignore the labels). Image folders always need class sub-folders.

Every problem is a ``ValueError`` naming the argument and the file or column.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from .arrays import NPZ_INPUT_NAMES, NPZ_LABEL_NAMES
from .user_data import USER_DATA_KINDS, UserData, encode_labels

__all__ = [
    "NPZ_INPUT_NAMES",
    "NPZ_LABEL_NAMES",
    "USER_DATA_KINDS",
    "UserData",
    "encode_labels",
    "read_data",
]

TABLE_SUFFIXES = (".csv", ".tsv", ".parquet", ".pq")
ARRAY_SUFFIXES = (".npz", ".npy")


def _builtin(name: str, data_dir: str | os.PathLike | None) -> UserData:
    from .loaders import _resolve, load_dataset

    info = _resolve(name)
    ds = load_dataset(info.name, data_dir)
    return UserData(
        ds.name,
        "builtin",
        ds.train,
        list(ds.class_names) or [str(c) for c in range(ds.num_classes)],
        ds.name,
        test=ds.test,
        encoding={"layout": "NCHW"},
    )


def _is_builtin(source: str) -> bool:
    from .loaders import _ALIASES, _REGISTRY

    key = source.lower()
    return key in _REGISTRY or key in _ALIASES


def read_data(
    source: str | os.PathLike,
    *,
    label: str | os.PathLike | None = None,
    features: Sequence[str] | None = None,
    data_dir: str | os.PathLike | None = None,
    labelled: bool = True,
) -> UserData:
    """Read a data set the user brings (see the module docstring for the formats).

    Args:
        source: a path (CSV / TSV / Parquet, ``.npz``, ``.npy``, an image folder) or a
            built-in name (``digits``, ``mnist``, ``fashion-mnist``).
        label: CSV / Parquet: the label column (default: a column named ``label``,
            ``labels``, ``target``, ``class`` or ``y``); ``.npz``: the labels array name;
            ``.npy``: the labels ``.npy`` path. Not used by image folders and built-in names.
        features: CSV / Parquet only: the feature columns (default: every other column but
            ``sample_id``).
        data_dir: the folder of the built-in ``.npz`` files (default ``$SAMPLESCOPE_DATA_DIR``).
        labelled: False allows sources without labels (see the module docstring).

    Returns:
        :class:`UserData`.

    Raises:
        ValueError: naming ``source`` / ``label`` / ``features`` and the file, folder or
        column — unknown suffix, missing file, missing label column (the columns are listed),
        a single class, NaN/inf in features (the column and the rows), mismatched lengths,
        unreadable or non-image files, empty folders.
    """
    if not isinstance(source, (str, os.PathLike)):
        raise ValueError(f"source: expected a path or a built-in name, got {type(source).__name__}")
    if features is not None and (
        isinstance(features, (str, bytes))
        or not isinstance(features, Sequence)
        or not all(isinstance(f, str) for f in features)
    ):
        raise ValueError(f"features: expected a list of column names, got {features!r}")
    path = Path(source)
    if isinstance(source, str) and not path.exists() and _is_builtin(source):
        for arg, v in (("label", label), ("features", features)):
            if v is not None:
                raise ValueError(f"{arg}: only for files, got {v!r} with the built-in {source!r}")
        return _builtin(source, data_dir)
    if not path.exists():
        raise ValueError(
            f"source: no such file or folder {str(source)!r} (built-in names: digits, mnist, "
            "fashion-mnist)"
        )
    if path.is_dir():
        for arg, v in (("label", label), ("features", features)):
            if v is not None:
                raise ValueError(
                    f"{arg}: not used by an image folder (the sub-folders are the classes), got {v!r}"
                )
        from .images import read_image_folder

        return read_image_folder(path)
    suffix = path.suffix.lower()
    if not labelled and label is None:
        unl = _read_unlabelled(path, suffix, features)
        if unl is not None:
            return unl
    if suffix in TABLE_SUFFIXES:
        from .tabular import read_table

        return read_table(path, label=None if label is None else str(label), features=features)
    if features is not None:
        raise ValueError(
            f"features: only for CSV / Parquet files, got {features!r} for {path.name}"
        )
    from .arrays import read_npy, read_npz

    if suffix == ".npz":
        return read_npz(path, None if label is None else str(label))
    if suffix == ".npy":
        return read_npy(path, label)
    raise ValueError(
        f"source: unknown suffix {path.suffix!r} of {str(path)!r}; expected a folder of class "
        f"sub-folders or one of {list(TABLE_SUFFIXES + ARRAY_SUFFIXES)}"
    )


def _read_unlabelled(path: Path, suffix: str, features: Sequence[str] | None) -> UserData | None:
    """An unlabelled table / array as :class:`UserData` with placeholder labels, or None when
    the source has labels (then it is read as usual)."""
    import numpy as np

    from .split import DataSplit

    def placeholder(x: np.ndarray, ids: np.ndarray, kind: str, **kw: object) -> UserData:
        enc = dict(kw.pop("encoding", {}) or {})  # type: ignore[call-overload]
        enc["labelled"] = False
        return UserData(
            path.stem, kind, DataSplit(x, np.zeros(len(x), dtype=np.int64), ids), ["?", "?"],
            str(path), encoding=enc, **kw,  # type: ignore[arg-type]
        )  # fmt: skip

    if suffix in TABLE_SUFFIXES:
        from .tabular import LABEL_CANDIDATES, _encode_features, _read_frame

        df = _read_frame(path)
        if any(c in df.columns for c in LABEL_CANDIDATES):
            return None
        cols = list(df.columns)
        feats = list(features) if features is not None else [c for c in cols if c != "sample_id"]
        missing = [f for f in feats if f not in cols]
        if missing or not feats:
            raise ValueError(
                f"features: no columns {missing or feats} in {path.name}; columns: {cols}"
            )
        x, names, encoding = _encode_features(df, feats, path)
        ids = (
            df["sample_id"].to_numpy().astype(np.int64)
            if "sample_id" in cols and "sample_id" not in feats
            else np.arange(len(df), dtype=np.int64)
        )
        return placeholder(
            x, ids, "tabular", feature_names=names, raw=df[feats].copy(), encoding=encoding
        )
    if suffix not in ARRAY_SUFFIXES:
        return None
    from .arrays import _load_array, prepare_inputs

    if suffix == ".npy":
        sibling = [path.with_name(f"{path.stem}_labels.npy"), path.with_name("labels.npy"),
                   path.with_name("y.npy")]  # fmt: skip
        if any(c.is_file() and c != path for c in sibling):
            return None
        x, kind = prepare_inputs(_load_array(path, "source"), f"source: {path.name}")
        return placeholder(x, np.arange(len(x), dtype=np.int64), kind)
    z = _load_array(path, "source")
    if not hasattr(z, "files"):
        raise ValueError(f"source: {path} is not an .npz archive")
    with z:
        files = list(z.files)
        if any(n in files for n in (*NPZ_LABEL_NAMES, "y_train")):
            return None
        xname = next((n for n in NPZ_INPUT_NAMES if n in files), None)
        if xname is None:
            raise ValueError(
                f"source: {path} has no inputs array; expected one of {list(NPZ_INPUT_NAMES)}, "
                f"got arrays {files}"
            )
        x, kind = prepare_inputs(z[xname], f"source: array {xname!r} of {path.name}")
        idname = next((n for n in ("sample_id", "ids") if n in files), None)
        ids = np.arange(len(x)) if idname is None else np.asarray(z[idname]).astype(np.int64)
        return placeholder(x, ids, kind)
