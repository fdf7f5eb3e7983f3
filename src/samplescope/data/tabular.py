"""CSV / TSV / Parquet files: one row per sample, a label column and feature columns.

- **Label**: the ``label=`` column, else the first column named ``label``, ``labels``,
  ``target``, ``class`` or ``y`` (case-insensitive). Any values (strings, integers, booleans)
  are mapped to ``0..C-1`` in sorted order; ``UserData.class_names`` maps them back.
- **Features**: ``features=``, else every other column except ``sample_id`` (used as the
  sample ids when present). Numeric and boolean columns are standardised
  (``(v - mean) / std``, std 1 for a constant column); text / categorical columns are one-hot
  encoded, one input per level (``col=level``, levels sorted). Both are recorded in
  ``UserData.encoding`` (``{"numeric": {col: {"mean", "std"}}, "categorical": {col: [levels]}}``).
- **Refused** (``ValueError`` naming the file, the column and the rows): a missing label
  column (the columns are listed), missing labels, a single class, NaN / inf in a numeric
  feature, missing values in a categorical one, a categorical column with more than 100 levels
  or more levels than half the rows (an identifier or free text: drop it with ``features=``),
  date/time columns, an empty file.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .split import DataSplit
from .user_data import UserData, encode_labels

__all__ = ["LABEL_CANDIDATES", "read_table"]

LABEL_CANDIDATES = ("label", "labels", "target", "class", "y")
_MAX_LEVELS = 100


def _read_frame(path: Path) -> Any:
    import pandas as pd

    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            df = pd.read_parquet(path)
        else:
            df = pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",")
    except ImportError:
        raise
    except Exception as exc:  # pandas/pyarrow raise many kinds of errors for a bad file
        raise ValueError(f"source: cannot read {path} ({type(exc).__name__}: {exc})") from None
    if len(df) == 0:
        raise ValueError(f"source: {path} has no rows (columns: {list(map(str, df.columns))})")
    df.columns = [str(c) for c in df.columns]
    if len(set(df.columns)) != len(df.columns):
        dup = sorted({c for c in df.columns if list(df.columns).count(c) > 1})
        raise ValueError(f"source: {path} has duplicate column names {dup}")
    return df.reset_index(drop=True)


def _label_column(df: Any, label: str | None, path: Path) -> str:
    cols = list(df.columns)
    if label is not None:
        if label not in cols:
            raise ValueError(f"label: no column {label!r} in {path.name}; columns: {cols}")
        return label
    lower = {c.lower(): c for c in cols}
    for cand in LABEL_CANDIDATES:
        if cand in lower:
            return lower[cand]
    raise ValueError(
        f"label: no label column given and none of {list(LABEL_CANDIDATES)} in {path.name}; "
        f"pass label= (CLI: --label) one of the columns {cols}"
    )


def _rows(mask: np.ndarray) -> str:
    """``"3 rows (rows 0, 4, 7)"``: data rows counted from 0, the header excluded."""
    rows = np.flatnonzero(mask)
    shown = ", ".join(map(str, rows[:5].tolist())) + (", ..." if len(rows) > 5 else "")
    return f"{len(rows)} rows (rows {shown})"


def _encode_features(
    df: Any, features: list[str], path: Path
) -> tuple[np.ndarray, list[str], dict]:
    import pandas as pd
    from pandas.api import types as pdt

    blocks: list[np.ndarray] = []
    names: list[str] = []
    numeric: dict[str, dict[str, float]] = {}
    categorical: dict[str, list[str]] = {}
    n = len(df)
    for col in features:
        v = df[col]
        if pdt.is_datetime64_any_dtype(v) or pdt.is_timedelta64_dtype(v):
            raise ValueError(
                f"features: column {col!r} of {path.name} holds dates/times ({v.dtype}); convert it "
                "to numbers or leave it out with features="
            )
        if pdt.is_bool_dtype(v) or pdt.is_numeric_dtype(v):
            if pdt.is_complex_dtype(v):
                raise ValueError(f"features: column {col!r} of {path.name} holds complex numbers")
            a = v.to_numpy(dtype=np.float64, na_value=np.nan)
            bad = ~np.isfinite(a)
            if bad.any():
                raise ValueError(
                    f"features: column {col!r} of {path.name} has NaN/inf in {_rows(bad)}; "
                    "fill or drop them (the model cannot take missing values)"
                )
            mean, std = float(a.mean()), float(a.std())
            std = std if std > 1e-12 else 1.0
            blocks.append(((a - mean) / std)[:, None])
            names.append(col)
            numeric[col] = {"mean": mean, "std": std}
            continue
        missing = pd.isna(v).to_numpy()
        if missing.any():
            raise ValueError(
                f"features: categorical column {col!r} of {path.name} has missing values in "
                f"{_rows(missing)}; fill them (e.g. with 'missing') or leave the column out"
            )
        s = v.astype(str).to_numpy()
        levels = sorted(set(s.tolist()))
        if len(levels) > _MAX_LEVELS or (len(levels) > 20 and len(levels) > n / 2):
            raise ValueError(
                f"features: categorical column {col!r} of {path.name} has {len(levels)} distinct "
                f"values in {n} rows (an identifier or free text?); leave it out with features="
            )
        index = {lv: k for k, lv in enumerate(levels)}
        codes = np.array([index[x] for x in s.tolist()], dtype=np.int64)
        blocks.append(np.eye(len(levels), dtype=np.float64)[codes])
        names += [f"{col}={lv}" for lv in levels]
        categorical[col] = levels
    x = np.concatenate(blocks, axis=1).astype(np.float32)
    return x, names, {"numeric": numeric, "categorical": categorical}


def read_table(
    path: str | Path, *, label: str | None = None, features: Sequence[str] | None = None
) -> UserData:
    """Read a CSV / TSV / Parquet file into :class:`UserData` (kind ``"tabular"``); see the module docstring."""
    from .._validation import check_ids

    path = Path(path)
    df = _read_frame(path)
    ycol = _label_column(df, label, path)
    cols = list(df.columns)
    if features is not None:
        feats = list(features)
        missing = [f for f in feats if f not in cols]
        if missing:
            raise ValueError(f"features: no columns {missing} in {path.name}; columns: {cols}")
        if ycol in feats:
            raise ValueError(f"features: the label column {ycol!r} cannot also be a feature")
        if len(set(feats)) != len(feats):
            raise ValueError(f"features: expected distinct column names, got {feats}")
    else:
        feats = [c for c in cols if c != ycol and c != "sample_id"]
    if not feats:
        raise ValueError(
            f"features: {path.name} has no feature columns besides the label {ycol!r}; columns: {cols}"
        )
    codes, class_names = encode_labels(
        df[ycol].to_numpy(), f"label: column {ycol!r} of {path.name}"
    )
    x, names, encoding = _encode_features(df, feats, path)
    if "sample_id" in cols and "sample_id" not in feats and ycol != "sample_id":
        ids = check_ids(df["sample_id"].to_numpy(), f"sample_id (column of {path.name})")
    else:
        ids = np.arange(len(df), dtype=np.int64)
    encoding["label"] = ycol
    return UserData(
        path.stem,
        "tabular",
        DataSplit(x, codes, ids),
        class_names,
        str(path),
        feature_names=names,
        raw=df[[*feats, ycol]].copy(),
        label_column=ycol,
        encoding=encoding,
    )
