"""``samplescope uncertainty``: per-sample predictive uncertainty and its decomposition."""

from __future__ import annotations

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
    check_table_format,
    chunk_size_option,
    data_dir_option,
    data_option,
    default_epochs,
    epochs_option,
    format_option,
    model_option,
    model_path_option,
    noise_kind_option,
    noise_option,
    quiet_option,
    samples_option,
    seed_option,
    train_subset_option,
)

# written out so that --help needs no torch; a test checks it against uncertainty.METHODS
UNCERTAINTY_METHODS = ("mc_dropout", "ensemble", "tta")


@app.command("uncertainty")
def uncertainty_cmd(
    data: str = data_option(),
    method: str = typer.Option("mc_dropout", "--method", help=" | ".join(UNCERTAINTY_METHODS)),
    samples: int = samples_option(20),
    out: Path = typer.Option(
        Path("uncertainty_out"),
        "--out",
        help="output folder (uncertainty.parquet or uncertainty.csv)",
    ),
    table_format: str = format_option(),
    split: str = typer.Option("test", "--split", help="test | train: the samples scored"),
    model: str = model_option(
        help="auto | mlp | cnn | gal_cnn | resnet (auto, mc_dropout: an MLP with dropout 0.5 "
        "for 8x8 inputs, Gal's CNN otherwise; else as everywhere)"
    ),
    model_path: Path = model_path_option(),
    epochs: int = epochs_option(),
    consistent_masks: bool = typer.Option(
        False, "--consistent-masks", help="MC dropout: the same S masks for every sample"
    ),
    chunk_size: int = chunk_size_option(256),
    noise: float = noise_option(),
    noise_kind: str = noise_kind_option(),
    train_subset: int = train_subset_option(),
    seed: int = seed_option(),
    executor: str = executor_option(),
    address: str = address_option(),
    workers: int = workers_option(),
    data_dir: Path = data_dir_option(),
    quiet: bool = quiet_option(),
) -> None:
    """Per-sample predictive entropy, expected entropy, mutual information (higher = more uncertain).

    Trains a model (MC dropout, TTA; or loads --model-path) or --samples members (ensemble,
    fanned out over --executor) and writes a ScoreTable with columns predictive_entropy
    (total), expected_entropy (aleatoric), mutual_information (epistemic, BALD),
    predictive_variance and correct (0/1 of the mean prediction).
    """
    check_choice(method, UNCERTAINTY_METHODS, "--method")
    check_choice(split, ("test", "train"), "--split")
    check_data_flags(data, noise=noise, noise_kind=noise_kind, train_subset=train_subset)
    check_positive(samples, "--samples", allow_none=False)
    check_positive(chunk_size, "--chunk-size", allow_none=False)
    check_positive(epochs, "--epochs")
    check_model_name(model)
    fmt = check_table_format(table_format)
    spec = parse_executor(executor, address=address, workers=workers)
    if model_path is not None and method == "ensemble":
        raise ValueError("--model-path: an ensemble trains --samples members; drop --model-path")
    if samples == 1 and method != "tta":
        warn(
            "--samples 1: one stochastic prediction has no spread, so mutual_information "
            "(epistemic) is 0 for every sample; use --samples 10 or more"
        )
    out = check_out_dir(out) / f"uncertainty.{fmt}"

    import numpy as np
    import torch

    from ..io import ScoreTable
    from ..metrics import failure_report
    from ..models import build_model, has_dropout, load_model, model_spec
    from ..training import fit
    from ..uncertainty import (
        decompose,
        predict_stochastic,
        predictive_variance,
        shift_views,
        train_ensemble,
    )

    net = None
    if model_path is not None:
        net, arch = load_model(model_path, flag="--model-path")
        if method == "mc_dropout" and not has_dropout(net):
            raise ValueError(f"--model-path: the {arch['kind']} model has no dropout layer")
    prep = prepare_data(
        data,
        data_dir=data_dir,
        noise=noise,
        noise_kind=noise_kind,
        train_subset=train_subset,
        seed=seed,
    )
    ds = prep.dataset
    echo(prep.description)
    ep = epochs if epochs is not None else default_epochs(ds.name)
    target = ds.test if split == "test" else ds.train
    kwargs: dict[str, Any] = {"batch_size": chunk_size, "seed": seed}
    arch = model_spec(model, ds.input_shape, ds.num_classes, need_dropout=method == "mc_dropout")
    if method == "ensemble":
        from functools import partial

        from ..models import default_model

        factory = partial(
            default_model, ds.input_shape, ds.num_classes, kind=None if model == "auto" else model
        )
        with spec.context() as ex:
            members = train_ensemble(
                factory,
                ds.train,
                members=samples,
                epochs=ep,
                executor=None if spec.executor is None else ex,
            )
        probs = predict_stochastic(
            None, target, "ensemble", samples=None, members=members, **kwargs
        )
    else:
        if net is None:
            torch.manual_seed(seed)
            net = build_model(arch)
            if method == "mc_dropout" and not has_dropout(net):
                raise ValueError(
                    f"--model: {arch['kind']!r} has no dropout layer; use gal_cnn or cnn for mc_dropout"
                )
            fit(net, ds.train, epochs=ep, seed=seed, progress=not quiet)
        if method == "mc_dropout":
            probs = predict_stochastic(
                net,
                target,
                "mc_dropout",
                samples=samples,
                consistent_masks=consistent_masks,
                **kwargs,
            )
        else:
            views = shift_views(1)
            if samples < len(views):
                views = views[:samples]
            elif samples > len(views):
                warn(f"--samples {samples}: TTA has {len(views)} views; using all {len(views)}")
            probs = predict_stochastic(net, target, "tta", samples=None, transforms=views, **kwargs)
    d = decompose(probs)
    correct = (probs.mean(0).argmax(1) == target.y).astype(np.float64)
    table = ScoreTable.from_arrays(
        target.sample_id,
        target.y,
        true_label=target.true_y,
        **d,
        predictive_variance=predictive_variance(probs),
        correct=correct,
    )
    table.save(out)
    echo(
        f"{method}: S = {probs.shape[0]} stochastic predictions of {probs.shape[1]} {split} samples"
    )
    echo(f"accuracy of the mean prediction {correct.mean():.4f}")
    for k, v in d.items():
        rep = failure_report(correct.astype(bool), -v) if 0 < correct.mean() < 1 else None
        auroc = f", AUROC(correct vs error by -{k}) {rep['auroc']:.4f}" if rep else ""
        echo(f"  {k:<18} mean {v.mean():.4f}{auroc}")
    echo(f"wrote {out} ({len(table)} samples, columns {table.measures})")
