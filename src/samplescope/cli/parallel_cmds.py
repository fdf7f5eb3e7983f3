"""``samplescope score-pool`` and ``samplescope executor``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import typer

from .app import app
from .common import check_data_flags, echo, prepare_data, warn
from .executor_option import address_option, executor_option, parse_executor, workers_option
from .options import (
    check_choice,
    check_model_name,
    check_out_dir,
    check_positive,
    chunk_size_option,
    data_dir_option,
    data_option,
    default_epochs,
    epochs_option,
    model_option,
    quiet_option,
    samples_option,
    seed_option,
    train_subset_option,
)


def _check_pool(pool: str, labels: Path | None) -> None:
    """``--pool`` / ``--pool-labels`` checked before any data is loaded or model trained."""
    if pool.startswith("synthetic:"):
        n = pool.split(":", 1)[1].replace("_", "")
        if not n.isdigit() or int(n) < 1:
            raise ValueError(f"--pool: expected synthetic:N with a positive N, got {pool!r}")
        return
    p = Path(pool)
    if p.suffix.lower() != ".npy":
        raise ValueError(
            f"--pool: expected synthetic:N or a .npy file of inputs (N, ...), got {pool!r}"
        )
    if not p.is_file():
        raise ValueError(f"--pool: expected an existing .npy file, got {pool!r}")
    if labels is not None and not Path(labels).is_file():
        raise ValueError(f"--pool-labels: expected an existing .npy file, got {str(labels)!r}")


def _pool_source(
    pool: str, data: str, data_dir: Path | None, labels: Path | None, seed: int
) -> Any:
    from ..data.sources import NpySource, SyntheticPool

    _check_pool(pool, labels)
    if pool.startswith("synthetic:"):
        n = int(pool.split(":", 1)[1].replace("_", ""))
        return SyntheticPool(n, data, seed=seed, data_dir=data_dir)
    try:
        return NpySource(Path(pool), labels)
    except ValueError as exc:
        raise ValueError(f"--pool: {exc}") from None


@app.command("score-pool")
def score_pool_cmd(
    pool: str = typer.Option(
        "synthetic:100000", "--pool", help="synthetic:N (data-set images + noise) or inputs.npy"
    ),
    pool_labels: Path = typer.Option(
        None, "--pool-labels", help="optional labels .npy for the pool"
    ),
    data: str = data_option(help="training data: digits | mnist | fashion-mnist"),
    model: str = model_option(
        help="auto | mlp | cnn | gal_cnn (auto, mc_dropout: an MLP with dropout 0.5 for 8x8 "
        "inputs, Gal's CNN otherwise; deterministic: as everywhere)"
    ),
    epochs: int = epochs_option(),
    train_subset: int = train_subset_option(),
    method: str = typer.Option("mc_dropout", "--method", help="mc_dropout | deterministic"),
    samples: int = samples_option(20),
    chunk_size: int = chunk_size_option(4096),
    out: Path = typer.Option(Path("pool_out"), "--out", help="output folder (pool_scores.parquet)"),
    seed: int = seed_option(),
    executor: str = executor_option(),
    address: str = address_option(),
    workers: int = workers_option(),
    data_dir: Path = data_dir_option(),
    quiet: bool = quiet_option(),
) -> None:
    """Train a model, then stream-score a (large) pool into Parquet with bounded memory."""
    check_choice(method, ("mc_dropout", "deterministic"), "--method")
    check_model_name(model)
    check_data_flags(data, train_subset=train_subset)
    check_positive(samples, "--samples", allow_none=False)
    check_positive(chunk_size, "--chunk-size", allow_none=False)
    check_positive(epochs, "--epochs")
    _check_pool(pool, pool_labels)
    spec = parse_executor(executor, address=address, workers=workers)
    out = check_out_dir(out) / "pool_scores.parquet"
    if samples == 1 and method == "mc_dropout":
        warn("--samples 1: one MC-dropout sample has no spread; mutual_information is 0 everywhere")

    import torch

    from ..models import build_model, model_spec
    from ..scoring import LogitScorer, StochasticScorer, stream_scores
    from ..training import fit

    prep = prepare_data(data, data_dir=data_dir, train_subset=train_subset, seed=seed)
    ds = prep.dataset
    echo(prep.description)
    source = _pool_source(pool, ds.name, data_dir, pool_labels, seed)
    shape = getattr(source, "input_shape", None) or tuple(source.x.shape[1:])
    if tuple(shape) != ds.input_shape:
        raise ValueError(f"--pool: expected inputs of shape {ds.input_shape}, got {tuple(shape)}")
    arch = model_spec(model, ds.input_shape, ds.num_classes, need_dropout=method == "mc_dropout")
    torch.manual_seed(seed)
    net = build_model(arch)
    ep = epochs if epochs is not None else default_epochs(ds.name)
    t0 = time.perf_counter()
    fit(net, ds.train, epochs=ep, seed=seed, progress=not quiet)
    echo(f"trained {arch['kind']} for {ep} epochs in {time.perf_counter() - t0:.1f}s")
    scorer = (
        StochasticScorer(net, samples=samples, seed=seed)
        if method == "mc_dropout"
        else LogitScorer(net)
    )
    echo(f"scoring {len(source)} samples ({method}) with {spec.describe()}")
    res = stream_scores(
        scorer,
        source,
        out,
        chunk_size=chunk_size,
        progress=not quiet,
        executor=spec.executor,
        workers=spec.workers,
        address=spec.address,
    )
    echo(
        f"wrote {res.path}: {res.rows} rows, columns {res.columns}, "
        f"{res.seconds:.1f}s ({res.rows_per_s:,.0f} images/s)"
    )
    import pyarrow.parquet as pq

    key = "mutual_information" if method == "mc_dropout" else "entropy"
    df = pq.read_table(res.path, columns=["sample_id", "label", "pred", key]).to_pandas()
    echo(f"\n5 most uncertain by {key}:")
    echo(df.nlargest(5, key).to_string(index=False, float_format=lambda v: f"{v:.4f}"))


@app.command("executor")
def executor_cmd(
    executor: str = executor_option("process"),
    address: str = address_option(),
    workers: int = workers_option(),
    tasks: int = typer.Option(4, "--tasks", help="seeded probe tasks to run"),
) -> None:
    """Check an executor: run seeded probe tasks on it and compare with in-process results."""
    from ..executors import run_tasks
    from .executor_probe import probe_task

    check_positive(tasks, "--tasks", allow_none=False)
    spec = parse_executor(executor, address=address, workers=workers)
    echo(f"executor: {spec.describe()}")
    args = [(s,) for s in range(tasks)]
    t0 = time.perf_counter()
    remote = run_tasks(probe_task, args, spec.executor, workers=spec.workers, address=spec.address)
    dt = time.perf_counter() - t0
    local = run_tasks(probe_task, args, None)
    same = all(r[0] == loc[0] for r, loc in zip(remote, local, strict=True))
    hosts = sorted({r[1] for r in remote})
    echo(
        f"{tasks} tasks in {dt:.2f}s on {len(hosts)} host/process(es); results identical to in-process: {same}"
    )
    if not same:
        raise typer.Exit(1)
