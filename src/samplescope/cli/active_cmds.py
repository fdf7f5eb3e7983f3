"""``samplescope active``: pool-based deep Bayesian active learning (Gal et al. 2017).

``samplescope active --data ...`` simulates (an oracle answers, learning curves come out);
``samplescope active query`` / ``teach`` (:mod:`.active_label_cmds`) let a person label.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import typer

from .active_group import ACQUISITIONS, BATCH_MODES, active_app
from .common import check_data_flags, echo, prepare_data, warn
from .executor_option import address_option, executor_option, parse_executor, workers_option
from .options import (
    batch_size_option,
    check_choice,
    check_out_dir,
    check_positive,
    data_dir_option,
    data_option,
    lr_option,
    noise_option,
    quiet_option,
    repeats_option,
    samples_option,
    seed_option,
)


def _model_factory(kind: str, input_shape: tuple[int, ...], num_classes: int) -> Any:
    """The MC-dropout learner's network (retrained from scratch on small labelled sets, so
    its digits MLP is narrower than the other commands': one hidden layer of 128)."""
    from ..models import gal_cnn, mlp, small_cnn

    if kind == "auto":
        kind = "mlp" if input_shape[-1] <= 8 else "gal_cnn"
    if kind == "gal_cnn":
        return lambda: gal_cnn(num_classes, input_shape[0], input_shape[1])
    if kind == "mlp":
        return lambda: mlp(input_shape, num_classes, hidden=(128,), dropout=0.5)
    if kind == "cnn":
        return lambda: small_cnn(num_classes, input_shape[0], input_shape[1], dropout=0.5)
    raise ValueError(f"model: expected one of ['auto', 'gal_cnn', 'mlp', 'cnn'], got {kind!r}")


@active_app.callback(invoke_without_command=True)
def active_cmd(
    ctx: typer.Context,
    data: str = data_option(),
    acquisition: str = typer.Option(
        "mutual_information",
        "--acquisition",
        help=f"comma-separated, from {list(ACQUISITIONS)} (and their aliases, e.g. bald)",
    ),
    initial: int = typer.Option(20, "--initial", help="class-balanced initial labelled set"),
    per_step: int = typer.Option(10, "--per-step", help="labels acquired per step"),
    steps: int = typer.Option(100, "--steps", help="acquisition steps"),
    pool_subset: int = typer.Option(
        2000, "--pool-subset", help="random pool subset scored per step (0 = all)"
    ),
    mc_samples: int = samples_option(
        20, "--mc-samples", help="S, MC-dropout samples, scoring and test (alias --mc-samples)"
    ),
    repeats: int = repeats_option(3),
    out: Path = typer.Option(
        Path("active_out"), "--out", help="output folder (curves.csv, curves.png, runs/)"
    ),
    resume: bool = typer.Option(False, "--resume", help="continue the runs checkpointed in --out"),
    model: str = typer.Option(
        "auto", "--model", help="auto | gal_cnn | mlp | cnn (auto: mlp for 8x8, else gal_cnn)"
    ),
    updates: int = typer.Option(
        100, "--updates", help="gradient updates per retrain (when --epochs is 0)"
    ),
    epochs: int = typer.Option(0, "--epochs", help="fixed epochs per retrain (0 = use --updates)"),
    batch_size: int = batch_size_option(64),
    lr: float = lr_option(),
    test_subset: int = typer.Option(
        0, "--test-subset", help="evaluate on a fixed random test subset (0 = all)"
    ),
    deterministic: bool = typer.Option(
        False, "--deterministic", help="no MC dropout (deterministic CNN)"
    ),
    label_noise: float = noise_option(
        "--label-noise",
        help="label-noise rate in [0, 1): the labeller answers a wrong label with this rate "
        "(alias --label-noise)",
    ),
    filter_tau: str = typer.Option(
        "", "--filter-tau", help="label filter: a threshold in [0,1] or 'dynamic'"
    ),
    batch_mode: str = typer.Option("topk", "--batch-mode", help=" | ".join(BATCH_MODES)),
    diversity: float = typer.Option(
        0.0, "--diversity", help="λ of the cosine-similarity penalty (diverse)"
    ),
    init: str = typer.Option(
        "balanced", "--init", help="balanced | kmeans | random | typiclust initial set"
    ),
    seed: int = seed_option(help="seed of repeat 0 (repeat r uses seed + r)"),
    data_dir: Path | None = data_dir_option(),
    dense_l2: float = typer.Option(
        0.0,
        "--dense-l2",
        help="Gal's L2 (c/N)·Σw² on the first dense layer (his code: 3.5 with --epochs 50 --batch-size 128)",
    ),
    device: str = typer.Option("cpu", "--device", help="torch device: cpu | cuda | cuda:1 ..."),
    executor: str = executor_option(),
    address: str = address_option(),
    workers: int = workers_option(),
    quiet: bool = quiet_option(),
) -> None:
    """Active learning curves: test accuracy vs acquired labels, per acquisition and repeat.

    Subcommands query / teach: a person labels the queries of an unlabelled pool."""
    if ctx.invoked_subcommand is not None:
        return
    import numpy as np

    from ..active import (
        LabelFilter,
        MCDropoutLearner,
        NoisyOracle,
        RunSpec,
        get_acquisition,
        labels_to_reach,
        list_acquisitions,
        plot_curves,
        run_grid,
    )

    acqs = [a.strip() for a in acquisition.split(",") if a.strip()]
    if not acqs:
        raise ValueError("--acquisition: expected at least one name")
    for a in acqs:
        if a not in list_acquisitions(include_aliases=True):
            raise ValueError(f"--acquisition: expected names from {list_acquisitions()}, got {a!r}")
    acqs = list(dict.fromkeys(get_acquisition(a).name for a in acqs))  # canonical labels
    check_data_flags(data, noise=label_noise)
    for flag, v in (
        ("--repeats", repeats),
        ("--initial", initial),
        ("--per-step", per_step),
        ("--steps", steps),
        ("--samples", mc_samples),
        ("--batch-size", batch_size),
        ("--lr", lr),
    ):
        check_positive(v, flag, allow_none=False)
    for flag, v in (
        ("--pool-subset", pool_subset),
        ("--test-subset", test_subset),
        ("--epochs", epochs),
        ("--updates", updates),
    ):
        if v < 0:
            raise ValueError(f"{flag}: expected a count >= 0, got {v}")
    if epochs == 0 and updates == 0:
        raise ValueError(
            "--updates: expected > 0 when --epochs is 0 (one of them sets the training length)"
        )
    check_choice(model, ("auto", "gal_cnn", "mlp", "cnn"), "--model")
    check_choice(batch_mode, BATCH_MODES, "--batch-mode")
    check_choice(init, ("balanced", "kmeans", "random", "typiclust"), "--init")
    if filter_tau and filter_tau != "dynamic":
        try:
            tau = float(filter_tau)
        except ValueError:
            tau = float("nan")
        if not 0 <= tau <= 1:
            raise ValueError(
                f"--filter-tau: expected a threshold in [0, 1] or 'dynamic', got {filter_tau!r}"
            )
    if mc_samples == 1 and not deterministic:
        warn("--samples 1: one MC-dropout sample has no spread; mutual_information is 0 everywhere")
    spec = parse_executor(executor, address=address, workers=workers)
    out = check_out_dir(out)
    runs = out / "runs"
    if not resume and runs.exists() and any(runs.glob("*/state.npz")):
        raise ValueError(
            f"--out: {out} already holds checkpointed runs; pass --resume or choose a new --out"
        )
    prep = prepare_data(data, data_dir=data_dir, seed=seed)
    ds = prep.dataset
    echo(prep.description)
    test = ds.test
    if test_subset and test_subset < len(test):
        test = test.subset(
            np.sort(np.random.default_rng(seed).choice(len(test), test_subset, replace=False))
        )
    per_class = max(1, initial // ds.num_classes)
    if per_class * ds.num_classes != initial:
        warn(
            f"--initial {initial}: the class-balanced initial set takes {per_class} per class, "
            f"so it holds {per_class * ds.num_classes} labels, not {initial}"
        )
    factory = _model_factory(model, ds.input_shape, ds.num_classes)

    def learner() -> MCDropoutLearner:
        return MCDropoutLearner(
            factory,
            epochs=epochs or None,
            updates=updates,
            batch_size=batch_size,
            lr=lr,
            mc_samples=mc_samples,
            bayesian=not deterministic,
            dense_l2=dense_l2,
            device=device,
        )

    learner()  # validate the learner's arguments before any run starts

    specs = []
    for r in range(repeats):
        for a in acqs:
            kw: dict = {
                "initial": initial,
                "per_step": per_step,
                "steps": steps,
                "pool_subset": pool_subset or None,
                "seed": seed + r,
                "initial_method": init,
                "batch_mode": batch_mode,
                "diversity": diversity,
            }
            if label_noise > 0:
                kw["oracle"] = NoisyOracle(ds.train, label_noise, ds.num_classes, seed=seed + r)
            if filter_tau:
                kw["label_filter"] = LabelFilter(
                    filter_tau if filter_tau == "dynamic" else float(filter_tau)
                )
            specs.append(RunSpec(a, a, r, kw))
    if spec.executor is not None:
        echo(f"runs fanned out over: {spec.describe()}")
        with spec.context() as ex:
            curves = run_grid(specs, learner, ds.train, test, out, resume=resume, executor=ex)
    else:
        curves = run_grid(
            specs, learner, ds.train, test, out, resume=resume, progress=not quiet, log=echo
        )
    plot_curves(curves, out / "curves.png", title=f"{data}: test accuracy vs acquired labels")
    r10, r5 = labels_to_reach(curves, 0.10), labels_to_reach(curves, 0.05)
    echo(f"\n{'acquisition':<20}{'to 10% err':>12}{'to 5% err':>12}{'final acc':>11}")
    for a in acqs:
        g = curves[curves["label"] == a]
        last = g[g["n_acquired"] == g["n_acquired"].max()]["accuracy"].mean()

        def show(v: float) -> str:
            return "not reached" if math.isnan(v) else str(int(v))

        echo(f"{a:<20}{show(r10[a]):>12}{show(r5[a]):>12}{last:>11.4f}")
    echo(f"\ncurves: {out / 'curves.csv'}  plot: {out / 'curves.png'}")
