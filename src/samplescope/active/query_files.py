"""Files a person labels from: ``queries.csv`` out, ``answers.csv`` in.

``write_queries(out, ids, data)`` writes ``out/queries.csv`` — one row per queried sample, in
query order: ``sample_id``, an empty ``label`` column to fill in, and what to show:

- tables: the sample's original feature columns (``data.raw``);
- image folders: ``image``, the image file;
- image arrays (``.npy`` / ``.npz``): ``image``, a PNG written to ``out/images/<id>.png``;
- feature arrays ``(N, D)``: the feature row, columns ``x0 .. x{D-1}``.

``read_answers(path)`` reads a CSV / Parquet with columns ``sample_id`` and ``label`` (the
edited ``queries.csv`` works as it is); rows whose label is empty are skipped (still pending).
Labels are kept as strings: the class vocabulary is the caller's.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from .._validation import check_ids
from ..io import atomic_path

__all__ = ["write_queries", "read_answers"]


def _png(img: np.ndarray, path: Path) -> None:
    from PIL import Image

    a = np.clip(np.asarray(img, dtype=np.float64), 0, 1)
    a = (a * 255).round().astype(np.uint8)
    a = a[0] if a.shape[0] == 1 else np.moveaxis(a, 0, -1)
    with atomic_path(path) as tmp:
        Image.fromarray(a).save(tmp, format="PNG")


def write_queries(out: str | os.PathLike, ids: Any, data: Any) -> Path:
    """Write ``out/queries.csv`` for the queried ``ids`` of ``data`` (a :class:`UserData`)."""
    import pandas as pd

    ids = check_ids(ids, "ids", allow_empty=True)
    out = Path(out)
    split = data.split
    pos = split.positions(ids)
    frame = pd.DataFrame({"sample_id": ids, "label": [""] * len(ids)})
    if data.raw is not None:
        raw = data.raw.iloc[pos].reset_index(drop=True)
        raw = raw[[c for c in raw.columns if c not in ("sample_id", "label")]]
        frame = pd.concat([frame, raw], axis=1)
    elif data.files is not None:
        frame["image"] = [str(data.files[p]) for p in pos]
    elif split.x.ndim == 4:
        (out / "images").mkdir(parents=True, exist_ok=True)
        names = []
        for sid, p in zip(ids, pos, strict=True):
            f = out / "images" / f"{int(sid)}.png"
            _png(split.x[p], f)
            names.append(str(f))
        frame["image"] = names
    else:
        x = split.x[pos].reshape(len(pos), -1)
        frame = pd.concat(
            [frame, pd.DataFrame(x, columns=[f"x{j}" for j in range(x.shape[1])])], axis=1
        )
    path = out / "queries.csv"
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False)
    return path


def read_answers(path: str | os.PathLike, flag: str = "--answers") -> tuple[np.ndarray, list[str]]:
    """``(sample_ids (k,), labels (k,) as strings)`` of the answered rows of ``path``."""
    import pandas as pd

    p = Path(path)
    if not p.is_file():
        raise ValueError(f"{flag}: no such file {str(path)!r}")
    try:
        df = (
            pd.read_parquet(p)
            if p.suffix.lower() in (".parquet", ".pq")
            else pd.read_csv(p, dtype={"label": str}, keep_default_na=False)
        )
    except Exception as exc:  # pandas raises many kinds for a bad file
        raise ValueError(f"{flag}: cannot read {p} ({type(exc).__name__}: {exc})") from None
    missing = [c for c in ("sample_id", "label") if c not in df.columns]
    if missing:
        raise ValueError(
            f"{flag}: expected columns sample_id and label in {p.name}, missing {missing}; "
            f"columns: {list(map(str, df.columns))}"
        )
    labels = df["label"].astype(str).str.strip()
    keep = (labels != "") & (labels.str.lower() != "nan")
    try:
        ids = check_ids(
            df.loc[keep, "sample_id"].to_numpy(), f"{flag}: sample_id", allow_empty=True
        )
    except ValueError as exc:
        raise ValueError(f"{flag}: {exc}") from None
    return ids, labels[keep].tolist()
