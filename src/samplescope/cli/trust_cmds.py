"""``samplescope trust`` (Luo et al. 2021 protocol) and ``samplescope trust-losses``."""

from __future__ import annotations

from pathlib import Path

import typer

from .app import app
from .common import data_dir_option, data_option, echo, prepare_data, train_subset_option


@app.command("trust-losses")
def trust_losses_cmd() -> None:
    """List the registered trust losses and the baselines."""
    from ..trust import BASELINES, describe_trust_loss, list_trust_losses

    for name in list_trust_losses():
        echo(f"{name:<12}loss      {describe_trust_loss(name)}")
    for name, cls in BASELINES.items():
        echo(f"{name:<12}baseline  {(cls.__doc__ or '').strip().splitlines()[0]}")


def _names(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


@app.command("trust")
def trust_cmd(
    data: str = data_option(),
    losses: str = typer.Option(
        "ce,focal,tcp,ss", "--losses", help="comma-separated trust losses ('' = none)"
    ),
    baselines: str = typer.Option(
        "mcp,mc_dropout,trustscore", "--baselines", help="comma-separated ('' = none)"
    ),
    seeds: int = typer.Option(3, "--seeds", help="number of seeds (0, 1, ...)"),
    out: Path = typer.Option(Path("trust_results"), "--out", help="output folder"),
    alpha_pos: float = typer.Option(1.0, "--alpha-pos", help="steep slope α⁺"),
    alpha_neg: float = typer.Option(3.0, "--alpha-neg", help="steep slope α⁻"),
    epochs: int = typer.Option(
        None, "--epochs", help="classifier epochs (default: 30 digits, 2 otherwise)"
    ),
    oracle_epochs: int = typer.Option(
        None, "--oracle-epochs", help="oracle epochs (default: 10 digits, 2 otherwise)"
    ),
    oracle_lr: float = typer.Option(1e-4, "--oracle-lr", help="oracle learning rate (Adam)"),
    model: str = typer.Option("cnn", "--model", help="classifier: cnn | gal_cnn | resnet | mlp"),
    head: str = typer.Option("hyperplane", "--head", help="hyperplane | linear"),
    backbone: str = typer.Option("finetune", "--backbone", help="finetune | frozen"),
    freeze_layers: int = typer.Option(
        0, "--freeze-layers", help="leading trunk layers kept frozen"
    ),
    shift: str = typer.Option(
        "", "--shift", help="also evaluate on shifted test copies: noise,blur"
    ),
    train_subset: int = train_subset_option(),
    fit_size: int = typer.Option(
        None, "--fit-size", help="fit oracles/TrustScore on a random subset of this many samples"
    ),
    executor: str = typer.Option(
        "inprocess", "--executor", help="seed fan-out: inprocess | process | dask"
    ),
    data_dir: Path = data_dir_option(),
    quiet: bool = typer.Option(False, "--quiet", help="no progress bars"),
) -> None:
    """Train a classifier, trust oracles and baselines; print the metrics table (mean ± std over
    seeds, %) and save histograms, risk–coverage curves, CSV summaries and per-sample trust."""
    import numpy as np
    import pandas as pd

    from ..io import ScoreTable
    from ..trust import (
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
        raise ValueError(f"seeds: expected a positive number of seeds, got {seeds}")
    shifts = _names(shift)
    for s in shifts:
        if s not in SHIFTS:
            raise ValueError(f"shift: expected names from {list(SHIFTS)}, got {s!r}")
    prep = prepare_data(data, data_dir=data_dir, train_subset=train_subset, seed=0)
    ds = prep.dataset
    echo(prep.description)
    small = ds.name == "digits"
    cfg = TrustConfig(
        losses=tuple(_names(losses)),
        baselines=tuple(_names(baselines)),
        classifier_kind=model,
        classifier_epochs=epochs if epochs is not None else (30 if small else 2),
        oracle_epochs=oracle_epochs if oracle_epochs is not None else (10 if small else 2),
        oracle_lr=oracle_lr,
        head=head,
        backbone=backbone,
        freeze_layers=freeze_layers,
        fit_size=fit_size,
        ss_params={"alpha_pos": alpha_pos, "alpha_neg": alpha_neg},
    ).validate()
    tests = {"test": ds.test, **{s: shifted_copy(ds.test, s) for s in shifts}}
    results, infos = run_trust_experiment(
        ds.train,
        tests,
        ds.num_classes,
        cfg,
        list(range(seeds)),
        executor=None if executor == "inprocess" else executor,
        progress=not quiet,
    )
    for info in infos:
        echo(f"seed {info['seed']}: classifier train accuracy {info['train_acc']:.4f}")
    out.mkdir(parents=True, exist_ok=True)
    rows = [r.row() for r in results]
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
