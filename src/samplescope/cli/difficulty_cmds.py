"""``samplescope difficulty`` and ``samplescope measures``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from .app import app
from .common import check_data_flags, echo, prepare_data, warn
from .executor_option import address_option, executor_option, parse_executor, workers_option
from .options import (
    check_choice,
    check_model_name,
    check_out_dir,
    check_positive,
    check_table_format,
    data_dir_option,
    data_option,
    default_epochs,
    epochs_option,
    folds_option,
    format_option,
    imbalance_option,
    model_option,
    noise_kind_option,
    noise_option,
    quiet_option,
    repeats_option,
    seed_option,
    train_subset_option,
)

if TYPE_CHECKING:
    import numpy as np


@app.command("measures")
def measures_cmd() -> None:
    """List the registered difficulty measures (higher = harder), one line each."""
    from ..difficulty import get_measure, list_measures

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
    import numpy as np

    counts = np.bincount(labels, minlength=num_classes)
    order = np.argsort(-counts, kind="stable")
    half = num_classes // 2
    return order[:half], order[num_classes - half :]


@app.command("difficulty")
def difficulty_cmd(
    data: str = data_option(),
    out: Path = typer.Option(
        Path("difficulty_out"),
        "--out",
        help="output folder (scores.parquet or scores.csv, grid.png)",
    ),
    table_format: str = format_option(),
    measures: str = typer.Option(
        "loss,confidence,margin,entropy",
        "--measures",
        help="comma-separated registered names (samplescope measures)",
    ),
    folds: int = folds_option(),
    repeats: int = repeats_option(help="R repeats of the K-fold split (kfold/stochastic measures)"),
    noise: float = noise_option(),
    noise_kind: str = noise_kind_option(),
    imbalance: float = imbalance_option(),
    epochs: int = epochs_option(),
    model: str = model_option(),
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
    seed: int = seed_option(),
    data_dir: Path = data_dir_option(),
    quiet: bool = quiet_option(),
) -> None:
    """Score every training sample by the requested measures; write the table and a PNG grid.

    Prints, per measure, the AUROC of finding the injected noisy labels (with --noise) and
    the mean score of the head vs the tail classes.
    """
    from ..difficulty import get_measure, list_measures

    names = [m.strip() for m in measures.split(",") if m.strip()]
    if not names:
        raise ValueError("--measures: expected at least one measure name, got none")
    for n in names:
        try:
            get_measure(n)
        except ValueError:
            raise ValueError(
                f"--measures: expected names from {list_measures()} (or their aliases), got {n!r}"
            ) from None
    check_data_flags(
        data, noise=noise, noise_kind=noise_kind, imbalance=imbalance, train_subset=train_subset
    )
    for flag, v in (("--folds", folds), ("--repeats", repeats), ("--epochs", epochs)):
        check_positive(v, flag)
    check_model_name(model)
    if folds < 2:
        raise ValueError(f"--folds: expected K >= 2, got {folds}")
    check_choice(precision, ("fp32", "bf16"), "--precision")
    fmt = check_table_format(table_format)
    spec = parse_executor(executor, address=address, workers=workers)
    out = check_out_dir(out) / f"scores.{fmt}"
    if noise == 0 and noise_kind != "symmetric":
        warn(f"--noise-kind {noise_kind} has no effect without --noise")
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
    ep = epochs if epochs is not None else default_epochs(ds.name)
    import numpy as np

    from ..difficulty import compute_measures
    from ..report import hardest_easiest_grid

    with spec.context() as ex:
        res = compute_measures(
            ds.train,
            ds.num_classes,
            names,
            folds=folds,
            repeats=repeats,
            model_kind=None if model == "auto" else model,
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
    imbalanced = imbalance != 1.0
    if has_noise or imbalanced:
        parts = (["noise AUROC", "noisy vs clean mean"] if has_noise else []) + (
            [f"head classes {sorted(head.tolist())} vs tail classes {sorted(tail.tolist())}"]
            if imbalanced
            else []
        )
        echo("\nper measure (" + "; ".join(parts) + "):")
        hdr = f"  {'measure':<26}" + ("noise AUROC  noisy mean  clean mean  " if has_noise else "")
        echo(hdr + ("head mean   tail mean" if imbalanced else ""))
    for n in table.measures if (has_noise or imbalanced) else ():
        v = table.column(n)
        line = f"  {n:<26}"
        if has_noise:
            line += (
                f"{_noise_auroc(noisy, v):<13.4f}{v[noisy].mean():<12.4f}{v[~noisy].mean():<12.4f}"
            )
        if imbalanced:
            line += f"{v[in_head].mean():<12.4f}{v[in_tail].mean():.4f}"
        echo(line)
    fig = out.with_name("grid.png")
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
