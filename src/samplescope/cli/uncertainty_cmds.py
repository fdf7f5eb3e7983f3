"""``samplescope calibrate`` and ``samplescope uncertainty``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
import typer

from ..data.split import DataSplit
from ..functional import softmax
from ..io import ScoreTable, atomic_write_json
from ..metrics import (
    adaptive_ece,
    brier,
    ece,
    failure_report,
    mce,
    nll,
    plot_reliability_diagram,
)
from ..models import default_model, gal_cnn, has_dropout, mlp
from ..training import fit, predict_logits
from ..uncertainty import (
    METHODS,
    TemperatureScaling,
    decompose,
    predict_stochastic,
    predictive_variance,
    shift_views,
    train_ensemble,
)
from .app import app
from .common import data_dir_option, data_option, echo, noise_kind_option, prepare_data

_METRICS = (
    ("NLL", nll),
    ("ECE", ece),
    ("MCE", mce),
    ("adaptive ECE", adaptive_ece),
    ("Brier", brier),
)


def _load_npz(path: Path, name: str) -> tuple[np.ndarray, np.ndarray]:
    if not path.exists():
        raise ValueError(f"{name}: expected an existing .npz file, got {str(path)!r}")
    with np.load(path, allow_pickle=False) as f:
        missing = {"logits", "labels"} - set(f.files)
        if missing:
            raise ValueError(
                f"{name}: expected arrays 'logits' and 'labels' in {path}, got {sorted(f.files)}"
            )
        return np.asarray(f["logits"]), np.asarray(f["labels"])


def _split_val(train: DataSplit, fraction: float, seed: int) -> tuple[DataSplit, DataSplit]:
    if not 0 < fraction < 1:
        raise ValueError(f"val_fraction: expected a number in (0, 1), got {fraction}")
    perm = np.random.default_rng(seed).permutation(len(train))
    k = max(1, int(round(fraction * len(train))))
    return train.subset(np.sort(perm[k:])), train.subset(np.sort(perm[:k]))


def _calibration_table(
    probs_before: np.ndarray, probs_after: np.ndarray, y: np.ndarray, n_bins: int
) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {"before": {}, "after": {}}
    for key, p in (("before", probs_before), ("after", probs_after)):
        out[key]["accuracy"] = float((p.argmax(1) == y).mean())
        for name, fn in _METRICS:
            out[key][name] = float(fn(p, y) if fn in (nll, brier) else fn(p, y, n_bins))
    return out


@app.command("calibrate")
def calibrate_cmd(
    data: str = typer.Option(
        None, "--data", help="digits | mnist | fashion-mnist (trains or loads a model)"
    ),
    logits: Path = typer.Option(
        None, "--logits", help="validation .npz with arrays logits, labels"
    ),
    test: Path = typer.Option(None, "--test", help="test .npz with arrays logits, labels"),
    model_path: Path = typer.Option(
        None, "--model-path", help="state_dict (.pt) of the --model network to load"
    ),
    model: str = typer.Option(None, "--model", help="mlp | cnn | gal_cnn | resnet"),
    epochs: int = typer.Option(
        None, "--epochs", help="training epochs (default 30 digits, 3 else)"
    ),
    val_fraction: float = typer.Option(
        0.1, "--val-fraction", help="training data held out to fit the temperature"
    ),
    train_subset: int = typer.Option(None, "--train-subset", help="random training subset"),
    n_bins: int = typer.Option(15, "--n-bins", help="equal-width confidence bins"),
    out: Path = typer.Option(Path("calibration"), "--out", help="output folder"),
    seed: int = typer.Option(0, "--seed"),
    data_dir: Path = data_dir_option(),
    quiet: bool = typer.Option(False, "--quiet", help="no progress bar"),
) -> None:
    """Temperature scaling: NLL, ECE, MCE, adaptive ECE and Brier before/after on test data.

    Either ``--data`` (a model is trained, or loaded with ``--model-path``, and the
    temperature is fitted on ``--val-fraction`` of the training split) or ``--logits VAL.npz
    --test TEST.npz``. Writes reliability.png and summary.json into ``--out``.
    """
    if (data is None) == (logits is None):
        raise ValueError("data: expected exactly one of --data NAME or --logits VAL.npz")
    if logits is not None:
        if test is None:
            raise ValueError("test: expected --test TEST.npz together with --logits")
        z_val, y_val = _load_npz(logits, "logits")
        z_test, y_test = _load_npz(test, "test")
        source = f"logits {logits} (val) / {test} (test)"
    else:
        prep = prepare_data(data, data_dir=data_dir, train_subset=train_subset, seed=seed)
        ds = prep.dataset
        fit_split, val = _split_val(ds.train, val_fraction, seed)
        torch.manual_seed(seed)
        net = default_model(ds.input_shape, ds.num_classes, kind=model)
        if model_path is not None:
            net.load_state_dict(torch.load(model_path, map_location="cpu", weights_only=True))
            source = f"{prep.description}; model loaded from {model_path}"
        else:
            ep = epochs if epochs is not None else (30 if ds.name == "digits" else 3)
            fit(net, fit_split, epochs=ep, seed=seed, progress=not quiet)
            source = f"{prep.description}; {len(fit_split)} fit / {len(val)} val; {ep} epochs"
        z_val, y_val = predict_logits(net, val), val.y
        z_test, y_test = predict_logits(net, ds.test), ds.test.y
    echo(source)
    ts = TemperatureScaling().fit(z_val, y_val)
    y_test = np.asarray(y_test)
    before, after = softmax(np.asarray(z_test, dtype=np.float64), 1), ts.predict_proba(z_test)
    table = _calibration_table(before, after, y_test, n_bins)
    echo(f"fitted temperature T = {ts.temperature_:.4f} on {len(y_val)} validation samples")
    echo(f"{'test metric':<14}{'before':>10}{'after':>10}")
    for key in ["accuracy"] + [n for n, _ in _METRICS]:
        echo(f"{key:<14}{table['before'][key]:>10.4f}{table['after'][key]:>10.4f}")
    out.mkdir(parents=True, exist_ok=True)
    from ..report import plt, save_figure

    fig, axes = plt().subplots(1, 2, figsize=(8.4, 4.2))
    plot_reliability_diagram(
        before, y_test, n_bins, ax=axes[0], title=f"before: ECE {100 * table['before']['ECE']:.2f}%"
    )
    plot_reliability_diagram(
        after,
        y_test,
        n_bins,
        ax=axes[1],
        title=f"after T={ts.temperature_:.2f}: ECE {100 * table['after']['ECE']:.2f}%",
    )
    save_figure(fig, out / "reliability.png")
    atomic_write_json(
        out / "summary.json",
        {"source": source, "temperature": ts.temperature_, "n_bins": n_bins, **table},
    )
    echo(f"wrote {out}/reliability.png, {out}/summary.json")


def _mc_model(input_shape: tuple[int, ...], num_classes: int, kind: str | None) -> torch.nn.Module:
    if kind is None:
        if len(input_shape) == 3 and input_shape[-1] >= 16:
            return gal_cnn(num_classes, input_shape[0], input_shape[1])
        return mlp(input_shape, num_classes, hidden=(256, 128), dropout=0.5)
    net = default_model(input_shape, num_classes, kind=kind)
    if not has_dropout(net):
        raise ValueError(f"model: {kind!r} has no dropout layer; use gal_cnn or cnn for mc_dropout")
    return net


@app.command("uncertainty")
def uncertainty_cmd(
    data: str = data_option(),
    method: str = typer.Option("mc_dropout", "--method", help=" | ".join(METHODS)),
    samples: int = typer.Option(20, "--samples", help="S: MC passes / ensemble members"),
    out: Path = typer.Option(
        Path("uncertainty.parquet"), "--out", help="ScoreTable file (.parquet or .csv)"
    ),
    split: str = typer.Option("test", "--split", help="test | train: the samples scored"),
    model: str = typer.Option(
        None,
        "--model",
        help="mlp | cnn | gal_cnn | resnet (default: "
        "gal_cnn for images, an MLP with dropout 0.5 for digits)",
    ),
    epochs: int = typer.Option(
        None, "--epochs", help="training epochs (default 30 digits, 3 else)"
    ),
    consistent_masks: bool = typer.Option(
        False, "--consistent-masks", help="MC dropout: the same S masks for every sample"
    ),
    batch_size: int = typer.Option(256, "--batch-size", help="samples per chunk"),
    noise: float = typer.Option(0.0, "--noise", help="label-noise rate in the training split"),
    noise_kind: str = noise_kind_option(),
    train_subset: int = typer.Option(None, "--train-subset", help="random training subset"),
    seed: int = typer.Option(0, "--seed"),
    data_dir: Path = data_dir_option(),
    quiet: bool = typer.Option(False, "--quiet", help="no progress bar"),
) -> None:
    """Per-sample predictive entropy, expected entropy, mutual information (higher = more uncertain).

    Trains a model (MC dropout, TTA) or ``--samples`` members (ensemble) and writes a
    ScoreTable with columns predictive_entropy (total), expected_entropy (aleatoric),
    mutual_information (epistemic, BALD), predictive_variance and correct (0/1 of the mean
    prediction).
    """
    if method not in METHODS:
        raise ValueError(f"method: expected one of {list(METHODS)}, got {method!r}")
    if split not in ("test", "train"):
        raise ValueError(f"split: expected 'test' or 'train', got {split!r}")
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
    ep = epochs if epochs is not None else (30 if ds.name == "digits" else 3)
    target = ds.test if split == "test" else ds.train
    kwargs: dict[str, Any] = {"batch_size": batch_size, "seed": seed}
    if method == "ensemble":
        from functools import partial

        factory = partial(default_model, ds.input_shape, ds.num_classes, kind=model)
        members = train_ensemble(factory, ds.train, members=samples, epochs=ep)
        probs = predict_stochastic(
            None, target, "ensemble", samples=None, members=members, **kwargs
        )
    else:
        torch.manual_seed(seed)
        if method == "mc_dropout":
            net = _mc_model(ds.input_shape, ds.num_classes, model)
        else:
            net = default_model(ds.input_shape, ds.num_classes, kind=model)
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
