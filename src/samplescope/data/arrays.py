"""``.npz`` / ``.npy`` arrays as user data (the layouts are documented in :mod:`samplescope.data.readers`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from .split import DataSplit
from .user_data import UserData, encode_labels

__all__ = ["NPZ_INPUT_NAMES", "NPZ_LABEL_NAMES", "prepare_inputs", "read_npy", "read_npz"]

NPZ_INPUT_NAMES = ("x", "X", "inputs", "data", "features", "images", "x_train")
NPZ_LABEL_NAMES = ("y", "labels", "label", "targets", "target", "y_train")


def prepare_inputs(x: Any, what: str) -> tuple[np.ndarray, str]:
    """Inputs as float32 ``(N, D)`` (kind ``"array"``) or images ``(N, C, H, W)`` in [0, 1]."""
    a = np.asarray(x)
    if a.dtype == object or a.dtype.kind not in "biuf":
        raise ValueError(f"{what}: expected numeric inputs, got dtype {a.dtype}")
    if a.ndim < 2 or a.ndim > 4:
        raise ValueError(
            f"{what}: expected (N, D) features or (N, H, W) / (N, C, H, W) / (N, H, W, C) images, "
            f"got shape {a.shape}"
        )
    if len(a) == 0:
        raise ValueError(f"{what}: expected at least one sample, got shape {a.shape}")
    if a.dtype.kind == "f" and not np.all(np.isfinite(a)):
        bad = ~np.isfinite(a.reshape(len(a), -1)).all(axis=1)
        raise ValueError(
            f"{what}: NaN/inf in {int(bad.sum())} samples (rows {np.flatnonzero(bad)[:5].tolist()})"
        )
    if a.ndim == 2:
        return a.astype(np.float32), "array"
    if a.ndim == 3:
        a = a[:, None]
    elif a.shape[3] in (1, 3, 4) and (a.shape[1] not in (1, 3, 4) or a.shape[3] < a.shape[1]):
        a = np.moveaxis(a, 3, 1)  # channels last (the smaller axis when both could be channels)
    if a.dtype.kind in "iu":
        a = a.astype(np.float32) / (65535.0 if a.max() > 255 else 255.0)
    elif a.dtype.kind == "b":
        a = a.astype(np.float32)
    else:
        a = a.astype(np.float32)
        if a.max() > 1.0:
            a = a / 255.0
    return np.ascontiguousarray(a), "image"


def _array_data(
    name: str,
    source: Path,
    x: Any,
    y: Any,
    *,
    x_what: str,
    y_what: str,
    ids: Any = None,
    test: tuple[Any, Any] | None = None,
    label_column: str | None = None,
) -> UserData:
    from .._validation import check_ids

    xa, kind = prepare_inputs(x, x_what)
    ya = np.asarray(y)
    if ya.ndim != 1 or len(ya) != len(xa):
        raise ValueError(
            f"{y_what}: expected {len(xa)} labels (one per input of {x_what}), got shape {ya.shape}"
        )
    codes, names = encode_labels(ya, y_what)
    sid = (
        np.arange(len(xa), dtype=np.int64)
        if ids is None
        else check_ids(np.asarray(ids), f"sample_id ({source.name})", n=len(xa))
    )
    test_split = None
    if test is not None:
        xt, _ = prepare_inputs(test[0], f"{x_what} (x_test)")
        yt = np.asarray(test[1])
        if yt.dtype.kind == "f" and np.all(np.isfinite(yt)) and np.all(yt == np.round(yt)):
            yt = yt.astype(np.int64)
        lookup = {v: k for k, v in enumerate(names)}
        unknown = sorted({str(v) for v in yt.tolist()} - set(lookup))
        if unknown or len(yt) != len(xt) or xt.shape[1:] != xa.shape[1:]:
            raise ValueError(
                f"source: x_test/y_test of {source} do not match the training arrays "
                f"(shapes {xt.shape} / {yt.shape} vs {xa.shape}; unknown labels {unknown[:5]})"
            )
        yc = np.array([lookup[str(v)] for v in yt.tolist()], dtype=np.int64)
        test_split = DataSplit(xt, yc, np.arange(len(xt), dtype=np.int64) + int(sid.max()) + 1)
    split = DataSplit(xa, codes, sid)
    return UserData(
        name,
        kind,
        split,
        names,
        str(source),
        test=test_split,
        label_column=label_column,
        encoding={"layout": "NCHW" if kind == "image" else "ND"},
    )


def _load_array(path: Path, what: str) -> Any:
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as exc:
        raise ValueError(
            f"{what}: cannot read {path} without pickle ({exc}); save strings as a fixed-width "
            "unicode array (np.array(labels, dtype=str))"
        ) from None
    except OSError as exc:
        raise ValueError(f"{what}: cannot read {path} ({exc})") from None


def read_npz(path: Path, label: str | None) -> UserData:
    z = _load_array(path, "source")
    if not hasattr(z, "files"):
        raise ValueError(f"source: {path} is not an .npz archive")
    with z:
        files = list(z.files)
        xname = next((n for n in NPZ_INPUT_NAMES if n in files), None)
        if xname is None:
            raise ValueError(
                f"source: {path} has no inputs array; expected one of {list(NPZ_INPUT_NAMES)}, "
                f"got arrays {files}"
            )
        if label is not None:
            if label not in files:
                raise ValueError(f"label: no array {label!r} in {path}; arrays: {files}")
            yname = label
        else:
            pref = ("y_train",) if xname == "x_train" else ()
            yname = next((n for n in (*pref, *NPZ_LABEL_NAMES) if n in files), None)
            if yname is None:
                raise ValueError(
                    f"label: {path} has no labels array; expected one of {list(NPZ_LABEL_NAMES)} "
                    f"or label=NAME, got arrays {files}"
                )
        idname = next((n for n in ("sample_id", "ids") if n in files), None)
        test = (
            (z["x_test"], z["y_test"])
            if xname == "x_train" and {"x_test", "y_test"} <= set(files)
            else None
        )
        return _array_data(
            path.stem,
            path,
            z[xname],
            z[yname],
            x_what=f"source: array {xname!r} of {path.name}",
            y_what=f"label: array {yname!r} of {path.name}",
            ids=None if idname is None else z[idname],
            test=test,
            label_column=yname,
        )


def read_npy(path: Path, label: str | os.PathLike | None) -> UserData:
    x = _load_array(path, "source")
    if label is not None:
        lpath = Path(label)
        if not lpath.is_file():
            raise ValueError(
                f"label: expected the labels .npy file for {path.name}, got {str(label)!r}"
            )
    else:
        cands = [
            path.with_name(f"{path.stem}_labels.npy"),
            path.with_name("labels.npy"),
            path.with_name("y.npy"),
        ]
        lpath = next((c for c in cands if c.is_file() and c != path), None)
        if lpath is None:
            raise ValueError(
                f"label: {path.name} holds inputs only; pass label=LABELS.npy (CLI: --label) or put "
                f"the labels beside it as {cands[0].name}, labels.npy or y.npy"
            )
    y = _load_array(lpath, "label")
    return _array_data(
        path.stem,
        path,
        x,
        y,
        x_what=f"source: {path.name}",
        y_what=f"label: {lpath.name}",
    )
