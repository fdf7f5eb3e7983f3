"""``samplescope difficulty`` and ``samplescope measures``."""

from __future__ import annotations

from pathlib import Path

import typer

from ..data import NOISE_KINDS
from ..difficulty import get_measure, list_measures, score_split
from ..report import hardest_easiest_grid
from .app import app
from .common import echo, prepare_data


@app.command("measures")
def measures_cmd() -> None:
    """List the registered difficulty measures (higher = harder), one line each."""
    for name in list_measures():
        m = get_measure(name)
        echo(f"{name:<22}{m.kind:<11}{m.description}")


@app.command("difficulty")
def difficulty_cmd(
    data: str = typer.Option("digits", "--data", help="digits | mnist | fashion-mnist"),
    out: Path = typer.Option(Path("scores.parquet"), "--out", help="ScoreTable file (.parquet or .csv)"),
    measures: str = typer.Option("loss,confidence,margin,entropy", "--measures", help="comma-separated"),
    noise: float = typer.Option(0.0, "--noise", help="label-noise rate injected into the training split"),
    noise_kind: str = typer.Option("symmetric", "--noise-kind", help=" | ".join(NOISE_KINDS)),
    imbalance: float = typer.Option(1.0, "--imbalance", help="imbalance ratio head:tail (1 = none)"),
    epochs: int = typer.Option(None, "--epochs", help="training epochs (default: 30 digits, 3 otherwise)"),
    model: str = typer.Option(None, "--model", help="mlp | cnn | gal_cnn | resnet (default by input size)"),
    train_subset: int = typer.Option(None, "--train-subset", help="use a random subset of the training split"),
    seed: int = typer.Option(0, "--seed"),
    data_dir: Path = typer.Option(None, "--data-dir", help="folder with the .npz files"),
    quiet: bool = typer.Option(False, "--quiet", help="no progress bar"),
) -> None:
    """Train the default model, score every training sample, write the table and a PNG grid."""
    names = [m.strip() for m in measures.split(",") if m.strip()]
    for n in names:
        get_measure(n)
    prep = prepare_data(data, data_dir=data_dir, noise=noise, noise_kind=noise_kind, imbalance=imbalance, seed=seed)
    ds = prep.dataset
    echo(prep.description)
    ep = epochs if epochs is not None else (30 if ds.name == "digits" else 3)
    run = score_split(ds.train, ds.num_classes, measures=names, model_kind=model, epochs=ep, seed=seed,
                      progress=not quiet, val=ds.test)
    last = run.history[-1]
    echo(f"trained {ep} epochs: train acc {last['train_acc']:.4f}, test acc {last['val_acc']:.4f}")
    table = run.table
    table.save(out)
    echo(f"wrote {out} ({len(table)} samples, measures {table.measures})")
    key = names[0]
    cols = ["sample_id", "label"] + (["true_label"] if "true_label" in table.df else []) + names
    echo(f"\n10 hardest samples by {key}:")
    echo(table.hardest(key, 10)[cols].to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    if "is_noisy" in table.df:
        noisy = table.df["is_noisy"].to_numpy()
        echo("\nmean score, noisy vs clean labels:")
        for n in names:
            v = table.column(n)
            echo(f"  {n:<12} noisy {v[noisy].mean():.4f}  clean {v[~noisy].mean():.4f}")
    fig = out.with_name(out.stem + "_grid.png")
    pos = ds.train.positions(table.column("sample_id"))
    hardest_easiest_grid(ds.train.x[pos], table.column("label"), table.column(key), fig,
                         true_labels=table.df["true_label"].to_numpy() if "true_label" in table.df else None,
                         score_name=key, class_names=ds.class_names if ds.name == "fashion-mnist" else None)
    echo(f"saved {fig}")
