"""``samplescope audit`` (the joined per-sample table and report) and ``samplescope report``."""

from __future__ import annotations

from pathlib import Path

import typer

from .app import app
from .common import check_data_source, echo
from .executor_option import address_option, executor_option, parse_executor, workers_option
from .options import (
    NOISE_KINDS,
    check_choice,
    check_out_dir,
    check_positive,
    data_dir_option,
    epochs_option,
    noise_kind_option,
    noise_option,
    quiet_option,
    samples_option,
    seed_option,
    train_subset_option,
)


def _check_model(model: str) -> str:
    if model.endswith(".pt"):
        if not Path(model).is_file():
            raise ValueError(f"--model: no such model file {model!r}")
        return model
    return check_choice(model, ("auto", "mlp", "cnn", "gal_cnn", "resnet"), "--model")


@app.command("audit")
def audit_cmd(
    data: str = typer.Option(
        "digits",
        "--data",
        help="digits | mnist | fashion-mnist | a .csv/.parquet/.npz/.npy "
        "file | an image folder with one sub-folder per class",
    ),  # fmt: skip
    label: str = typer.Option(None, "--label", help="label column of a CSV / Parquet file"),
    model: str = typer.Option(
        "auto",
        "--model",
        help="auto | mlp | cnn | gal_cnn | resnet | a model.pt to retrain "
        "(auto: an MLP for 8x8 inputs, the small CNN otherwise; with --uncertainty "
        "mc_dropout an MLP with dropout 0.5 or Gal's CNN)",
    ),  # fmt: skip
    uncertainty: str = typer.Option(
        "ensemble",
        "--uncertainty",
        help="ensemble (the held-out predictions of the "
        "cross-fitting repeats, free) | mc_dropout (--samples passes of a dropout model)",
    ),  # fmt: skip
    gen_error: str = typer.Option(
        "fast",
        "--gen-error",
        help="fast (one stacked 2 folds x 2 repeats run; adds gen_error_fast, the one-run "
        "estimate of the K-fold measure) | kfold (Zhou's 5 folds x 3 repeats, ~10x the cost)",
    ),
    epochs: int = epochs_option(),
    samples: int = samples_option(20),
    noise: float = noise_option(help="built-in data only: label-noise rate injected (a demo)"),
    noise_kind: str = noise_kind_option(),
    train_subset: int = train_subset_option(),
    out: Path = typer.Option(
        Path("audit_out"), "--out", help="output folder (audit.parquet, report.html)"
    ),
    seed: int = seed_option(),
    executor: str = executor_option(),
    address: str = address_option(),
    workers: int = workers_option(),
    data_dir: Path = data_dir_option(),
    quiet: bool = quiet_option(),
) -> None:
    """Audit a data set: difficulty, uncertainty, trust and label issues per sample, one table
    (audit.parquet) and a self-contained report.html."""
    kind, _ = check_data_source(data, label, None)
    if kind != "builtin" and (noise or train_subset is not None):
        raise ValueError("--noise: injected noise and --train-subset are for built-in data only")
    _check_model(model)
    check_choice(gen_error, ("fast", "kfold"), "--gen-error")
    check_choice(uncertainty, ("ensemble", "mc_dropout"), "--uncertainty")
    check_choice(noise_kind, NOISE_KINDS, "--noise-kind")
    if not (0.0 <= noise < 1.0):
        raise ValueError(f"--noise: expected a rate in [0, 1), got {noise!r}")
    check_positive(epochs, "--epochs")
    check_positive(samples, "--samples", allow_none=False)
    check_positive(train_subset, "--train-subset")
    spec = parse_executor(executor, address=address, workers=workers)
    out = check_out_dir(out)

    from ..auditing import audit

    with spec.context() as ex:
        res = audit(
            data,
            label=label,
            model=model,
            gen_error=gen_error,
            uncertainty=uncertainty,
            epochs=epochs,
            samples=samples,
            seed=seed,
            noise=noise,
            noise_kind=noise_kind,
            train_subset=train_subset,
            data_dir=data_dir,
            out=out,
            executor=None if spec.executor is None else ex,
            progress=not quiet,
        )
    s = res.summary
    echo(res.data.description)
    echo(
        f"{len(res.table)} samples, {res.data.num_classes} classes; held-out accuracy "
        f"{100 * s['oof_accuracy']:.2f}%, ECE {100 * s['ece']:.2f}% ({s['gen_error']}, "
        f"{s['epochs']} epochs, {s['seconds']:.0f} s)"
    )
    echo(
        f"estimated label issues: {s['estimated_issues']} "
        f"({100 * s['estimated_issues'] / len(res.table):.1f}%), per class "
        f"{s['estimated_issues_per_class']}"
    )
    df = res.table.df
    if "is_noisy" in df:
        flag, truth = df["is_label_issue"].to_numpy(bool), df["is_noisy"].to_numpy(bool)
        tp = int((flag & truth).sum())
        echo(
            f"vs the {int(truth.sum())} injected flips: precision {tp / max(flag.sum(), 1):.3f}, "
            f"recall {tp / max(truth.sum(), 1):.3f}"
        )
    echo(f"trust column = {s['trust_name']}")
    echo(f"wrote {res.table_path} and {res.report_path}")


@app.command("report")
def report_cmd(
    table: Path = typer.Argument(
        ..., metavar="TABLE", help="a ScoreTable (.parquet or .csv), e.g. audit.parquet"
    ),
    data: str = typer.Option(
        None,
        "--data",
        help="the data the table scores (built-in name, file or image folder): "
        "images or feature rows for the gallery",
    ),  # fmt: skip
    label: str = typer.Option(None, "--label", help="label column of a CSV / Parquet --data"),
    out: Path = typer.Option(Path("report_out"), "--out", help="output folder (report.html)"),
    data_dir: Path = data_dir_option(),
) -> None:
    """Render report.html from an existing ScoreTable (any columns of the audit that it has)."""
    if table.suffix.lower() not in (".parquet", ".csv"):
        raise ValueError(f"TABLE: expected a .parquet or .csv ScoreTable, got {str(table)!r}")
    if not table.is_file():
        raise ValueError(f"TABLE: no such file {str(table)!r}")
    if data is not None:
        check_data_source(data, label, None)
    out = check_out_dir(out)

    from ..auditing import load_audit_data
    from ..io import ScoreTable
    from ..report import render_report

    df = ScoreTable.load(table).df
    images = features = None
    class_names = None
    if data is not None:
        ad = load_audit_data(data, label=label, data_dir=data_dir)
        pos = ad.split.positions(df["sample_id"].to_numpy())
        images = None if ad.images is None else ad.images[pos]
        features = None if ad.features is None else ad.features.iloc[pos].reset_index(drop=True)
        class_names = ad.class_names
    path = render_report(
        df, out / "report.html", class_names=class_names, title=f"samplescope report: {table.name}",
        description=f"{len(df)} samples from {table}", images=images, features=features,
    )  # fmt: skip
    echo(f"wrote {path}")
