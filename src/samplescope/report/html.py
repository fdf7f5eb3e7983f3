"""The audit report: one self-contained HTML file (no network: figures inline, data as JSON).

:func:`render_report` takes the joined per-sample audit table (a ``pandas.DataFrame`` with
``sample_id``, ``label`` and whatever of the audit columns exist) and writes, readable
without the table: headline numbers (samples, classes, estimated label issues, held-out
accuracy, ECE), a per-class table, a gallery of flagged samples (given vs suggested label;
images for image data, feature rows for tabular data), the data map, the reliability diagram,
the risk–coverage curve, difficulty by class, and a sortable, filterable sample table (plain
JavaScript embedded in the page). Sections whose columns are absent are left out, with a note.
"""

from __future__ import annotations

import html
import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import audit_figures as figs
from .assets import SCRIPT, STYLE

__all__ = ["render_report"]

_TABLE_ROWS = 5000  # rows embedded in the sample table (flagged first, then by difficulty)
_GALLERY = 48


def _esc(v: Any) -> str:
    return html.escape(str(v))


def _num(v: Any) -> Any:
    if isinstance(v, (np.floating, float)):
        return None if not math.isfinite(float(v)) else round(float(v), 5)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return v


def _difficulty_column(df: Any) -> str | None:
    for name in ("gen_error_fast", "gen_error", "oof_loss", "aum", "loss", "margin"):
        if name in df:
            return name
    return None


def _name(class_names: Sequence[str], c: Any) -> str:
    try:
        return str(class_names[int(c)])
    except (IndexError, TypeError, ValueError):
        return str(c)


def _headline(df: Any, class_names: Sequence[str], meta: dict[str, Any]) -> list[tuple[str, str]]:
    n = len(df)
    out = [("samples", f"{n:,}"), ("classes", str(len(class_names)))]
    if "is_label_issue" in df:
        k = int(df["is_label_issue"].sum())
        out.append(("estimated label issues", f"{k:,} ({100 * k / max(n, 1):.1f}%)"))
    if "oof_correct" in df:
        out.append(("held-out accuracy", f"{100 * df['oof_correct'].mean():.2f}%"))
    if "ece" in meta:
        out.append(("ECE (calibrated, held-out)", f"{100 * meta['ece']:.2f}%"))
    if "is_noisy" in df and "is_label_issue" in df:
        truth = df["is_noisy"].to_numpy(bool)
        flag = df["is_label_issue"].to_numpy(bool)
        tp = int((truth & flag).sum())
        prec = tp / max(int(flag.sum()), 1)
        rec = tp / max(int(truth.sum()), 1)
        out.append(
            ("flags vs known noise", f"precision {100 * prec:.1f}%, recall {100 * rec:.1f}%")
        )
    return out


def _per_class(df: Any, class_names: Sequence[str], diff: str | None) -> str:
    rows = []
    for c, g in df.groupby("label", sort=True):
        cells = [_esc(_name(class_names, c)), f"{len(g):,}"]
        if "is_label_issue" in g:
            k = int(g["is_label_issue"].sum())
            cells += [f"{k:,}", f"{100 * k / len(g):.1f}%"]
        if diff is not None:
            cells.append(f"{g[diff].mean():.4f}")
        if "oof_correct" in g:
            cells.append(f"{100 * g['oof_correct'].mean():.1f}%")
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    head = ["class", "samples"]
    if "is_label_issue" in df:
        head += ["est. issues", "issue rate"]
    if diff is not None:
        head.append(f"mean {diff}")
    if "oof_correct" in df:
        head.append("held-out accuracy")
    th = "".join(f"<th>{_esc(h)}</th>" for h in head)
    return (
        f'<table class="plain"><thead><tr>{th}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )


def _gallery(
    df: Any,
    class_names: Sequence[str],
    images: np.ndarray | None,
    features: Any,
) -> str:
    if "is_label_issue" not in df or not df["is_label_issue"].any():
        return "<p>No sample is flagged as a label issue.</p>"
    flagged = df[df["is_label_issue"].astype(bool)]
    if "label_quality" in flagged:
        flagged = flagged.sort_values("label_quality", kind="stable")
    flagged = flagged.head(_GALLERY)
    cards = []
    for pos, r in flagged.iterrows():
        given = _name(class_names, r["label"])
        sugg = _name(class_names, r["suggested_label"]) if "suggested_label" in r else "?"
        q = f"quality {r['label_quality']:.3g}" if "label_quality" in r else ""
        if images is not None:
            body = f'<img alt="sample {int(r["sample_id"])}" src="{figs.thumbnail(images[pos])}">'
        elif features is not None:
            row = features.iloc[pos]
            items = "".join(
                f"<tr><td>{_esc(k)}</td><td>{_esc(_num(v))}</td></tr>" for k, v in row.items()
            )
            body = f'<table class="feat">{items}</table>'
        else:
            body = ""
        cards.append(
            f'<div class="card">{body}<div class="cap">#{int(r["sample_id"])}<br>'
            f"given <b>{_esc(given)}</b> → suggested <b>{_esc(sugg)}</b><br>{q}</div></div>"
        )
    more = int(df["is_label_issue"].sum()) - len(flagged)
    tail = f"<p>… and {more:,} more flagged samples in the table below.</p>" if more > 0 else ""
    return f'<div class="gallery">{"".join(cards)}</div>{tail}'


def _table_payload(df: Any, class_names: Sequence[str], diff: str | None) -> dict[str, Any]:
    order = df
    if diff is not None:
        order = df.sort_values(diff, ascending=False, kind="stable")
    if "is_label_issue" in df:
        order = order.sort_values("is_label_issue", ascending=False, kind="stable")
    order = order.head(_TABLE_ROWS)
    cols = [c for c in order.columns if order[c].dtype.kind in "biufO"]
    rows = [[_num(v) for v in rec] for rec in order[cols].itertuples(index=False)]
    if "label" in cols:
        li = cols.index("label")
        for r in rows:
            r[li] = _name(class_names, r[li])
    for name in ("suggested_label", "true_label", "oof_pred"):
        if name in cols:
            i = cols.index(name)
            for r in rows:
                r[i] = _name(class_names, r[i])
    return {"columns": cols, "rows": rows, "total": len(df)}


def render_report(
    df: Any,
    path: str | os.PathLike,
    *,
    class_names: Sequence[str] | None = None,
    title: str = "samplescope audit",
    description: str = "",
    images: np.ndarray | None = None,
    features: Any = None,
    meta: dict[str, Any] | None = None,
) -> Path:
    """Write the report of the audit table ``df`` (rows aligned with ``images`` / ``features``).

    ``meta`` may hold ``ece`` (of the calibrated held-out confidence), ``trust_name`` (which
    score the ``trust`` column is), ``notes`` (list of strings shown under the headline).
    Returns the path written (atomically).
    """
    from ..io import atomic_path

    meta = dict(meta or {})
    df = df.reset_index(drop=True)
    if "label" not in df or "sample_id" not in df:
        raise ValueError(f"df: expected columns 'sample_id' and 'label', got {list(df.columns)}")
    labels = df["label"].to_numpy()
    if class_names is None:
        class_names = [str(c) for c in range(int(labels.max()) + 1)]
    diff = _difficulty_column(df)
    parts: list[str] = []
    head = "".join(
        f'<div class="kpi"><div class="v">{_esc(v)}</div><div class="k">{_esc(k)}</div></div>'
        for k, v in _headline(df, class_names, meta)
    )
    parts.append(f'<section><div class="kpis">{head}</div>')
    for note in meta.get("notes", []):
        parts.append(f'<p class="note">{_esc(note)}</p>')
    parts.append("</section>")
    parts.append(f"<section><h2>Per class</h2>{_per_class(df, class_names, diff)}</section>")
    parts.append(
        f"<section><h2>Flagged samples</h2>{_gallery(df, class_names, images, features)}</section>"
    )
    plots = []
    if "cartography_confidence" in df and "cartography_variability" in df:
        flag = df["is_label_issue"].to_numpy(bool) if "is_label_issue" in df else None
        conf = 1 - df["cartography_confidence"].to_numpy(float)  # the column is 1 - mean p[y]
        plots.append(
            ("Data map", figs.data_map(conf, df["cartography_variability"].to_numpy(float), flag))
        )
    if "confidence_calibrated" in df and "oof_correct" in df:
        correct = df["oof_correct"].to_numpy(float)
        plots.append(
            ("Reliability", figs.reliability(df["confidence_calibrated"].to_numpy(float), correct))
        )
        if 0 < correct.mean() < 1:
            scores = {"calibrated max-prob": df["confidence_calibrated"].to_numpy(float)}
            if "trust" in df and meta.get("trust_name") not in (None, "calibrated max-prob"):
                scores[f"trust ({meta['trust_name']})"] = df["trust"].to_numpy(float)
            plots.append(("Risk–coverage", figs.risk_coverage(correct, scores)))
    if diff is not None:
        plots.append(
            (
                f"{diff} by class",
                figs.difficulty_by_class(df[diff].to_numpy(float), labels, class_names, diff),
            )
        )
    fig_html = "".join(
        f'<figure><img alt="{_esc(t)}" src="{uri}"><figcaption>{_esc(t)}</figcaption></figure>'
        for t, uri in plots
    )
    parts.append(f'<section><h2>Figures</h2><div class="figs">{fig_html}</div></section>')
    payload = _table_payload(df, class_names, diff)
    shown = len(payload["rows"])
    cap = (
        ""
        if shown == payload["total"]
        else f" (the first {shown:,} of {payload['total']:,}: flagged, then hardest)"
    )
    parts.append(
        f"<section><h2>Samples{_esc(cap)}</h2>"
        '<div class="controls"><input id="filter" type="search" placeholder="filter rows (any column)">'
        '<label><input id="flagged" type="checkbox"> flagged only</label>'
        '<span id="count"></span></div>'
        '<div class="scroll"><table id="samples" class="plain"><thead></thead><tbody></tbody></table></div>'
        "</section>"
    )
    data_json = json.dumps(payload, allow_nan=False).replace("</", "<\\/")
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{_esc(title)}</title><style>{STYLE}</style></head><body>"
        f'<h1>{_esc(title)}</h1><p class="desc">{_esc(description)}</p>'
        + "".join(parts)
        + f'<script id="data" type="application/json">{data_json}</script>'
        + f"<script>{SCRIPT}</script></body></html>"
    )
    path = Path(path)
    with atomic_path(path) as tmp:
        Path(tmp).write_text(page, encoding="utf-8")
    return path
