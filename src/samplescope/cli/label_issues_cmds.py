"""``samplescope label-issues``: which labels of a data set (built-in or the user's own file) are wrong.

Every flag is checked before anything is read or trained (a ``ValueError`` naming the flag,
exit code 2). Nothing heavy is imported at module level: numpy, torch, pandas and the
library's sub-packages are imported inside the command.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import typer

from .app import app
from .common import check_data_source, echo, warn
from .executor_option import address_option, executor_option, parse_executor, workers_option
from .options import (
    batch_size_option,
    check_choice,
    check_model_name,
    check_out_dir,
    check_table_format,
    data_dir_option,
    epochs_option,
    folds_option,
    format_option,
    lr_option,
    model_option,
    quiet_option,
    repeats_option,
    seed_option,
)

__all__ = ["COUNT_CHOICES", "RANK_CHOICES", "label_issues_cmd"]

# written out here so that --help needs no import; a test checks them against samplescope.labels
COUNT_CHOICES = ("posterior", "confident_joint", "mixture")
RANK_CHOICES = ("auto", "posterior", "margin", "self_confidence", "gen_error")
_DATA_HELP = (
    "built-in data set (digits | mnist | fashion-mnist) or a path: CSV / TSV / Parquet "
    "(with --label), .npz, .npy, or a folder with one sub-folder of images per class"
)
_EPOCHS_HELP = (
    "training epochs of every fit (default: 30 for digits, 3 for mnist / fashion-mnist; "
    "for your own data about 1000 steps, 10 to 100 epochs)"
)


def _user_epochs(n: int, batch_size: int) -> int:
    steps = max(1, math.ceil(n / batch_size))
    return int(min(100, max(10, math.ceil(1000 / steps))))


def _read(data: str, label: str | None, features: list[str] | None, data_dir: Path | None):
    """``read_data`` with its argument names turned into the flags that set them."""
    from ..data import read_data

    try:
        return read_data(data, label=label, features=features, data_dir=data_dir)
    except ValueError as exc:
        msg = str(exc)
        for arg, flag in (
            ("source:", "--data:"),
            ("label:", "--label:"),
            ("features:", "--features:"),
            ("name:", "--data:"),
        ):
            if msg.startswith(arg):
                raise ValueError(flag + msg[len(arg) :]) from None
        raise


@app.command("label-issues")
def label_issues_cmd(
    data: str = typer.Option("digits", "--data", help=_DATA_HELP),
    label: str = typer.Option(
        None,
        "--label",
        help="CSV / Parquet: the label column (default: label, target, class or y); .npz: the "
        "labels array; .npy: the labels .npy file",
    ),
    features: str = typer.Option(
        None,
        "--features",
        help="CSV / Parquet: comma-separated feature columns (default: all others)",
    ),
    method: str = typer.Option(
        "posterior",
        "--method",
        help="count estimator: posterior (noise-transition posterior, default) | confident_joint "
        "(Northcutt et al. 2021) | mixture (two-component mixture on the score)",
    ),
    rank_by: str = typer.Option(
        "auto",
        "--rank-by",
        help="auto | posterior | margin | self_confidence | gen_error (the K-fold generalization error)",
    ),
    folds: int = folds_option(),
    repeats: int = repeats_option(1, help="R repeats of the K-fold split (R x K training runs)"),
    epochs: int = epochs_option(help=_EPOCHS_HELP),
    model: str = model_option(),
    lr: float = lr_option(),
    batch_size: int = batch_size_option(),
    top: int = typer.Option(10, "--top", help="how many flagged samples to print (0: none)"),
    out: Path = typer.Option(
        Path("label_issues_out"), "--out", help="output folder (label_issues.parquet or .csv)"
    ),
    table_format: str = format_option(),
    executor: str = executor_option(),
    address: str = address_option(),
    workers: int = workers_option(),
    seed: int = seed_option(),
    data_dir: Path = data_dir_option(),
    quiet: bool = quiet_option(),
) -> None:
    """Flag the training samples whose label is probably wrong, with a suggested label.

    Trains R x K held-out models (cross-fitting), estimates how many labels of each class
    are wrong and flags that many; writes label_issues.parquet (the given label, the flags,
    label_quality in [0, 1], suggested_label, and the class names for named classes) and
    prints the per-class counts and the most likely wrong samples.
    """
    kind, feats = check_data_source(data, label, features)
    check_choice(method, COUNT_CHOICES, "--method")
    check_choice(rank_by, RANK_CHOICES, "--rank-by")
    if folds < 2:
        raise ValueError(f"--folds: expected K >= 2, got {folds}")
    if repeats < 1:
        raise ValueError(f"--repeats: expected R >= 1, got {repeats}")
    if epochs is not None and epochs < 1:
        raise ValueError(f"--epochs: expected a positive number of epochs, got {epochs}")
    if not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"--lr: expected a positive learning rate, got {lr!r}")
    if batch_size < 1:
        raise ValueError(f"--batch-size: expected a positive batch size, got {batch_size}")
    if top < 0:
        raise ValueError(f"--top: expected a count >= 0, got {top}")
    if seed < 0:
        raise ValueError(f"--seed: expected a seed >= 0, got {seed}")
    check_model_name(model)
    fmt = check_table_format(table_format)
    if data_dir is not None and kind != "builtin":
        warn(f"--data-dir is used by the built-in data sets only; reading {data}")
    if data_dir is not None and not Path(data_dir).is_dir():
        raise ValueError(f"--data-dir: expected an existing folder, got {str(data_dir)!r}")
    spec = parse_executor(executor, address=address, workers=workers)
    out_file = check_out_dir(out) / f"label_issues.{fmt}"

    ud = _read(data, label, feats, data_dir)
    if model in ("cnn", "gal_cnn", "resnet") and not ud.is_image:
        raise ValueError(
            f"--model: {model!r} needs images (C, H, W), got inputs of shape {ud.input_shape}; "
            "use --model mlp"
        )
    if kind == "builtin":
        from .options import default_epochs

        ep = epochs if epochs is not None else default_epochs(ud.name)
    else:
        ep = epochs if epochs is not None else _user_epochs(len(ud), batch_size)
    import numpy as np

    counts = np.bincount(ud.split.y, minlength=ud.num_classes).tolist()
    if min(counts) < folds:
        raise ValueError(
            f"--folds: the smallest class ({ud.class_names[counts.index(min(counts))]!r}) has "
            f"{min(counts)} samples, fewer than {folds} folds; lower --folds"
        )
    echo(
        f"{ud.name}: {len(ud)} samples, {ud.num_classes} classes, inputs {ud.input_shape} "
        f"({ud.kind}); {repeats} x {folds}-fold = {repeats * folds} fits of {ep} epochs"
    )
    from ..labels import label_issues_from_data

    with spec.context() as ex:
        res = label_issues_from_data(
            ud.split,
            num_classes=ud.num_classes,
            folds=folds,
            repeats=repeats,
            count=method,
            rank_by=rank_by,
            model_kind=None if model == "auto" else model,
            epochs=ep,
            batch_size=batch_size,
            lr=lr,
            seed=seed,
            executor=None if spec.executor is None else ex,
            progress=not quiet,
        )
    issues = res.issues
    named = ud.class_names != [str(i) for i in range(ud.num_classes)]
    table = issues.to_table(
        ud.split.sample_id,
        true_labels=ud.split.true_y,
        class_names=ud.class_names if named else None,
    )
    if ud.files is not None:
        table.df["file"] = [os.path.relpath(f, data) for f in ud.files]
    table.save(out_file)
    _report(issues, ud, table, top)
    echo(f"\nwrote {out_file} ({len(table)} samples)")


def _report(issues, ud, table, top: int) -> None:
    n, k = len(issues), issues.num_issues
    echo(
        f"\nestimated label issues: {k} of {n} ({100 * k / max(n, 1):.1f}%), "
        f"count {issues.count}, ranked by {issues.rank_by}"
    )
    summary = issues.summary(ud.class_names)
    echo(summary.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    if top and k:
        df = table.df.iloc[issues.ranked()[:top]]
        cols = ["sample_id", "label", "suggested_label", "label_quality"]
        if "label_name" in df:
            cols += ["label_name", "suggested_label_name"]
        if "file" in df:
            cols.append("file")
        echo(f"\ntop {min(top, k)} flagged (most likely wrong first):")
        echo(df[cols].to_string(index=False, float_format=lambda v: f"{v:.4f}"))
