"""``samplescope difficulty`` and ``samplescope measures``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import typer

from ..difficulty import compute_measures, get_measure, list_measures
from ..report import hardest_easiest_grid
from .app import app
from .common import (
    check_out_file,
    data_dir_option,
    data_option,
    echo,
    imbalance_option,
    noise_kind_option,
    noise_option,
    prepare_data,
    train_subset_option,
)
from .executor_option import address_option, executor_option, parse_executor, workers_option


@app.command("measures")
def measures_cmd() -> None:
    """List the registered difficulty measures (higher = harder), one line each."""
    for name in list_measures():
        m = get_measure(name)
        echo(f"{name:<26}{m.kind:<11}{m.description}")


def _noise_auroc(is_noisy: np.ndarray, score: np.ndarray) -> float:
    """AUROC of ranking the noisy labels first by ``score`` (higher = harder)."""
    try:
        from ..metrics import noise_detection_report  # type: ignore[attr-defined]

        rep = noise_detection_report(is_noisy, score)
        val = rep["auroc"] if isinstance(rep, dict) else rep.auroc
        return float(val)
    except (ImportError, AttributeError, KeyError, TypeError):
        from sklearn.metrics import roc_auc_score

        return float(roc_auc_score(is_noisy, score))


def _head_tail(labels: np.ndarray, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Head = the half of the classes with the most samples, tail = the other half."""
    counts = np.bincount(labels, minlength=num_classes)
    order = np.argsort(-counts, kind="stable")
    half = num_classes // 2
    return order[:half], order[num_classes - half :]


@app.command("difficulty")
def difficulty_cmd(
    data: str = data_option(),
    out: Path = typer.Option(
        Path("scores.parquet"), "--out", help="ScoreTable file (.parquet or .csv)"
    ),
    measures: str = typer.Option(
        "loss,confidence,margin,entropy",
        "--measures",
        help="comma-separated registered names (samplescope measures)",
    ),
    folds: int = typer.Option(
        5, "--folds", help="K of the K-fold generalization error (kfold measures)"
    ),
    repeats: int = typer.Option(
        3, "--repeats", help="R repeats of the K-fold split (kfold/stochastic measures)"
    ),
    noise: float = noise_option(),
    noise_kind: str = noise_kind_option(),
    imbalance: float = imbalance_option(),
    epochs: int = typer.Option(
        None, "--epochs", help="training epochs (default: 30 digits, 3 otherwise)"
    ),
    model: str = typer.Option(
        None, "--model", help="mlp | cnn | gal_cnn | resnet (default by input size)"
    ),
    train_subset: int = train_subset_option(),
    executor: str = executor_option(),
    address: str = address_option(),
    workers: int = workers_option(),
    checkpoint_dir: Path = typer.Option(
        None, "--checkpoint-dir", help="resume K-fold fits from this folder"
    ),
    precision: str = typer.Option(
        "fp32",
        "--precision",
        help="fp32 | bf16: mixed-precision K-fold fits (MLPs, stacked trainer; fast on AMX/AVX512-BF16 CPUs)",
    ),
    exact: bool = typer.Option(
        False,
        "--exact",
        help="K-fold fits with op-by-op Adam (bit for bit the one-by-one fits) instead of the fused step",
    ),
    seed: int = typer.Option(0, "--seed"),
    data_dir: Path = data_dir_option(),
    quiet: bool = typer.Option(False, "--quiet", help="no progress bar"),
) -> None:
    """Score every training sample by the requested measures; write the table and a PNG grid.

    Prints, per measure, the AUROC of finding the injected noisy labels (with --noise) and
    the mean score of the head vs the tail classes.
    """
    names = [m.strip() for m in measures.split(",") if m.strip()]
    if not names:
        raise ValueError("measures: expected at least one measure name, got none")
    for n in names:
        get_measure(n)
    spec = parse_executor(executor, address=address, workers=workers)
    out = check_out_file(out, (".parquet", ".csv"))
    prep = prepare_data(
        data,
        data_dir=data_dir,
        noise=noise,
        noise_kind=noise_kind,
        imbalance=imbalance,
        train_subset=train_subset,
        seed=seed,
    )
    ds = prep.dataset
    echo(prep.description)
    ep = epochs if epochs is not None else (30 if ds.name == "digits" else 3)
    with spec.context() as ex:
        res = compute_measures(
            ds.train,
            ds.num_classes,
            names,
            folds=folds,
            repeats=repeats,
            model_kind=model,
            epochs=ep,
            seed=seed,
            executor=None if spec.executor is None else ex,
            checkpoint_dir=checkpoint_dir,
            progress=not quiet,
            val=ds.test,
            precision=precision,
            exact=exact,
        )
    if res.history:
        last = res.history[-1]
        echo(
            f"trained {ep} epochs: train acc {last['train_acc']:.4f}, test acc {last['val_acc']:.4f}"
        )
    if res.gen is not None:
        echo(f"K-fold: {repeats} x {folds}-fold = {repeats * folds} fits of {ep} epochs")
    table = res.table
    table.save(out)
    echo(f"wrote {out} ({len(table)} samples, measures {table.measures})")
    key = names[0]
    cols = ["sample_id", "label"] + (["true_label"] if "true_label" in table.df else []) + names
    echo(f"\n10 hardest samples by {key}:")
    echo(table.hardest(key, 10)[cols].to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    labels = table.column("label")
    head, tail = _head_tail(labels, ds.num_classes)
    in_head, in_tail = np.isin(labels, head), np.isin(labels, tail)
    noisy = table.df["is_noisy"].to_numpy() if "is_noisy" in table.df else None
    has_noise = noisy is not None and 0 < noisy.sum() < len(noisy)
    echo(
        f"\nper measure (head classes {sorted(head.tolist())}, tail classes {sorted(tail.tolist())}):"
    )
    hdr = f"  {'measure':<26}" + ("noise AUROC  noisy mean  clean mean  " if has_noise else "")
    echo(hdr + "head mean   tail mean")
    for n in table.measures:
        v = table.column(n)
        line = f"  {n:<26}"
        if has_noise:
            line += (
                f"{_noise_auroc(noisy, v):<13.4f}{v[noisy].mean():<12.4f}{v[~noisy].mean():<12.4f}"
            )
        line += f"{v[in_head].mean():<12.4f}{v[in_tail].mean():.4f}"
        echo(line)
    fig = out.with_name(out.stem + "_grid.png")
    pos = ds.train.positions(table.column("sample_id"))
    hardest_easiest_grid(
        ds.train.x[pos],
        labels,
        table.column(key),
        fig,
        true_labels=table.df["true_label"].to_numpy() if "true_label" in table.df else None,
        score_name=key,
        class_names=ds.class_names if ds.name == "fashion-mnist" else None,
    )
    echo(f"saved {fig}")
