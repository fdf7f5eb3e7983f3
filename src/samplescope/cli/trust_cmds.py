"""``samplescope trust`` (Luo et al. 2021 protocol) and ``samplescope trust-losses``."""

from __future__ import annotations

from pathlib import Path

import typer

from .app import app
from .common import check_data_flags, echo, prepare_data, warn
from .executor_option import address_option, executor_option, parse_executor, workers_option
from .options import (
    check_choice,
    check_model_name,
    check_out_dir,
    check_positive,
    data_dir_option,
    data_option,
    default_epochs,
    epochs_option,
    folds_option,
    model_option,
    quiet_option,
    repeats_option,
    train_subset_option,
)


@app.command("trust-losses")
def trust_losses_cmd() -> None:
    """List the registered trust losses and the baselines."""
    from ..trust import describe_baseline, describe_trust_loss, list_baselines, list_trust_losses

    for name in list_trust_losses():
        echo(f"{name:<15}loss      {describe_trust_loss(name)}")
    for name in list_baselines():
        echo(f"{name:<15}baseline  {describe_baseline(name)}")


def _names(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


@app.command("trust")
def trust_cmd(
    data: str = data_option(),
    losses: str = typer.Option(
        "ce,focal,tcp,ss",
        "--losses",
        help="comma-separated oracles: loss[:head[:correctness]], e.g. ss or ss:msp:crossfit "
        "('' = none)",
    ),
    baselines: str = typer.Option(
        "mcp,mc_dropout,trustscore",
        "--baselines",
        help="comma-separated: mcp, maxlogit, maxlogit_pnorm, energy, doctor, rel_u, "
        "mc_dropout, ensemble, trustscore ('' = none; rel_u and ensemble cross-fit --folds "
        "models)",
    ),
    correctness: str = typer.Option(
        "insample",
        "--correctness",
        help="oracle correctness labels: insample (the classifier on its own training split) "
        "| crossfit (each sample labelled by a --folds model that did not train on it)",
    ),
    folds: int = folds_option(5),
    seeds: int = repeats_option(
        3, "--seeds", help="R, independent repeats with seeds 0, 1, ..., R-1 (alias --seeds)"
    ),
    out: Path = typer.Option(
        Path("trust_results"),
        "--out",
        help="output folder (histograms, risk-coverage curves, rows.csv, summary.csv, trust scores)",
    ),
    alpha_pos: float = typer.Option(1.0, "--alpha-pos", help="steep slope α⁺"),
    alpha_neg: float = typer.Option(3.0, "--alpha-neg", help="steep slope α⁻"),
    epochs: int = epochs_option(help="classifier epochs (default: 30 for digits, 3 otherwise)"),
    oracle_epochs: int = typer.Option(
        None, "--oracle-epochs", help="oracle epochs (default: 10 digits, 2 otherwise)"
    ),
    oracle_lr: float = typer.Option(1e-4, "--oracle-lr", help="oracle learning rate (Adam)"),
    model: str = model_option(),
    head: str = typer.Option(
        "hyperplane", "--head", help="hyperplane | linear | msp (MSP-anchored: starts as MCP)"
    ),
    backbone: str = typer.Option("finetune", "--backbone", help="finetune | frozen"),
    freeze_layers: int = typer.Option(
        0, "--freeze-layers", help="leading trunk layers kept frozen"
    ),
    shift: str = typer.Option(
        "", "--shift", help="also evaluate on shifted test copies: noise,blur,rotation,pixelate"
    ),
    train_subset: int = train_subset_option(),
    fit_size: int = typer.Option(
        None, "--fit-size", help="fit oracles/TrustScore on a random subset of this many samples"
    ),
    executor: str = executor_option(),
    address: str = address_option(),
    workers: int = workers_option(),
    data_dir: Path = data_dir_option(),
    quiet: bool = quiet_option(),
) -> None:
    """Train a classifier, trust oracles and baselines; print the metrics table (mean ± std over
    seeds, %) and save histograms, risk–coverage curves, CSV summaries and per-sample trust."""
    import numpy as np
    import pandas as pd

    from ..io import ScoreTable
    from ..models import resolve_kind
    from ..trust import (
        BASELINES,
        HEADS,
        METRIC_COLUMNS,
        TrustConfig,
        format_table,
        plot_risk_coverage,
        plot_trust_histograms,
        run_trust_experiment,
        summarize,
    )
    from ..trust.shift import SHIFTS, shifted_copy

    if seeds <= 0:
        raise ValueError(f"--repeats: expected a positive number of repeats, got {seeds}")
    check_positive(epochs, "--epochs")
    check_positive(oracle_epochs, "--oracle-epochs")
    check_positive(fit_size, "--fit-size")
    check_positive(oracle_lr, "--oracle-lr", allow_none=False)
    check_data_flags(data, train_subset=train_subset)
    shifts = _names(shift)
    for s in shifts:
        if s not in SHIFTS:
            raise ValueError(f"--shift: expected names from {list(SHIFTS)}, got {s!r}")
    check_positive(alpha_pos, "--alpha-pos", allow_none=False)
    check_positive(alpha_neg, "--alpha-neg", allow_none=False)
    check_choice(head, HEADS, "--head")
    check_choice(correctness, ("insample", "crossfit"), "--correctness")
    if folds < 2:
        raise ValueError(f"--folds: expected an integer >= 2, got {folds}")
    from ..trust.methods import check_oracle_spec

    for name in _names(losses):
        try:
            check_oracle_spec(
                name, head, correctness, {"alpha_pos": alpha_pos, "alpha_neg": alpha_neg}
            )
        except ValueError as exc:
            raise ValueError(f"--losses: {exc}") from None
    for name in _names(baselines):
        if name not in BASELINES:
            raise ValueError(f"--baselines: expected names from {list(BASELINES)}, got {name!r}")
    if not _names(losses) and not _names(baselines):
        raise ValueError("--losses: expected at least one trust loss or --baselines name, got none")
    check_choice(backbone, ("finetune", "frozen"), "--backbone")
    if freeze_layers < 0:
        raise ValueError(f"--freeze-layers: expected a count >= 0, got {freeze_layers}")
    check_model_name(model)
    spec = parse_executor(executor, address=address, workers=workers)
    out = check_out_dir(out)
    prep = prepare_data(data, data_dir=data_dir, train_subset=train_subset, seed=0)
    ds = prep.dataset
    echo(prep.description)
    small = ds.name == "digits"
    cfg = TrustConfig(
        losses=tuple(_names(losses)),
        baselines=tuple(_names(baselines)),
        classifier_kind=resolve_kind(model, ds.input_shape),
        classifier_epochs=epochs if epochs is not None else default_epochs(ds.name),
        oracle_epochs=oracle_epochs if oracle_epochs is not None else (10 if small else 2),
        oracle_lr=oracle_lr,
        head=head,
        correctness=correctness,
        folds=folds,
        backbone=backbone,
        freeze_layers=freeze_layers,
        fit_size=fit_size,
        ss_params={"alpha_pos": alpha_pos, "alpha_neg": alpha_neg},
    )
    cfg.validate()
    tests = {"test": ds.test, **{s: shifted_copy(ds.test, s) for s in shifts}}
    with spec.context() as ex:
        results, infos = run_trust_experiment(
            ds.train,
            tests,
            ds.num_classes,
            cfg,
            list(range(seeds)),
            executor=None if spec.executor is None else ex,
            progress=not quiet,
        )
    from ..trust.correctness import MIN_ERRORS
    from ..trust.methods import parse_oracle

    for info in infos:
        echo(f"seed {info['seed']}: classifier train accuracy {info['train_acc']:.4f}")
    rows = [r.row() for r in results]
    few = sorted(
        {
            (r["seed"], r["method"], int(r["train_errors"]))
            for r in rows
            if np.isfinite(r["train_errors"]) and r["train_errors"] < MIN_ERRORS
        }
    )
    for seed_, method, n_err in few:
        hint = (
            "pass --correctness crossfit so that every sample is labelled by a model that "
            "did not train on it"
            if parse_oracle(method, head, correctness)[2] != "crossfit"
            else "train the classifier less (--epochs) or use more --folds"
        )
        warn(
            f"seed {seed_}: oracle {method} trained on correctness labels with only {n_err} "
            f"errors (< {MIN_ERRORS}); it cannot learn what an error looks like and its AUROC "
            f"is near chance; {hint}"
        )
    keys = [k for k, _, _ in METRIC_COLUMNS] + ["kl_avg", "bhattacharyya"]
    summary = []
    for split in tests:
        summ = summarize([r for r in rows if r["split"] == split], keys, ["method"])
        echo(f"\n{ds.name} / {split}: mean ± std over {seeds} seed(s), % (AURC, E-AURC in ‰)")
        echo(format_table(summ))
        echo(
            "separability (mean KL both ways / Bhattacharyya): "
            + ", ".join(
                f"{r['method']} {r['kl_avg_mean']:.3f}/{r['bhattacharyya_mean']:.3f}" for r in summ
            )
        )
        summary += [dict(r, split=split) for r in summ]
        first = [r for r in results if r.split == split and r.seed == 0]
        plot_trust_histograms(
            {r.method: (r.correct, r.trust, r.neg_threshold) for r in first},
            out / f"histograms_{split}.png",
            title=f"{ds.name} {split}, seed 0",
        )
        plot_risk_coverage(
            {r.method: (r.correct, r.trust) for r in first},
            out / f"risk_coverage_{split}.png",
            title=f"{ds.name} {split}, seed 0",
        )
    pd.DataFrame(rows).to_csv(out / "rows.csv", index=False)
    pd.DataFrame(summary).to_csv(out / "summary.csv", index=False)
    first = [r for r in results if r.split == "test" and r.seed == 0]
    table = ScoreTable.from_arrays(
        ds.test.sample_id,
        ds.test.y,
        correct=first[0].correct.astype(np.int64),
        **{f"trust_{r.method}": r.trust for r in first},
    )
    path = table.save(out / "trust_scores_seed0.csv")
    echo(f"\nsaved {out}/histograms_*.png, risk_coverage_*.png, rows.csv, summary.csv, {path.name}")
