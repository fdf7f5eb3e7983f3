"""``samplescope calibrate``: fit calibrators on validation logits, report them on test logits."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from .app import app
from .common import check_data_flags, echo, prepare_data, warn
from .options import (
    check_model_name,
    check_out_dir,
    check_positive,
    data_dir_option,
    default_epochs,
    epochs_option,
    model_option,
    model_path_option,
    quiet_option,
    seed_option,
    train_subset_option,
)

if TYPE_CHECKING:
    import numpy as np

    from ..data.split import DataSplit


def load_logits_file(path: Path, flag: str) -> tuple[np.ndarray, np.ndarray]:
    """``(logits (N, C), labels (N,))`` from a ``.npz`` holding arrays ``logits`` and ``labels``.

    Anything else (a missing file, another suffix, a pickled or corrupt file, missing arrays,
    mismatched lengths) raises ``ValueError`` naming ``flag``.
    """
    import zipfile

    import numpy as np

    path = Path(path)
    if path.suffix.lower() != ".npz":
        raise ValueError(
            f"{flag}: expected a .npz file with arrays 'logits' and 'labels', got {str(path)!r}"
        )
    if not path.is_file():
        raise ValueError(f"{flag}: expected an existing .npz file, got {str(path)!r}")
    try:
        with np.load(path, allow_pickle=False) as f:
            missing = {"logits", "labels"} - set(f.files)
            if missing:
                raise ValueError(
                    f"{flag}: expected arrays 'logits' and 'labels' in {path}, got {sorted(f.files)}"
                )
            z, y = np.asarray(f["logits"]), np.asarray(f["labels"])
    except (OSError, zipfile.BadZipFile, EOFError) as exc:
        raise ValueError(f"{flag}: cannot read {str(path)!r} as .npz ({exc})") from None
    if z.ndim != 2 or z.shape[1] < 2 or y.shape != (len(z),):
        raise ValueError(
            f"{flag}: expected logits (N, C >= 2) and labels (N,), got {z.shape} and {y.shape}"
        )
    if not np.issubdtype(z.dtype, np.number) or not np.isfinite(z).all():
        raise ValueError(f"{flag}: expected finite numeric logits in {path}")
    if not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= z.shape[1]:
        raise ValueError(f"{flag}: expected integer labels in [0, {z.shape[1]}) in {path}")
    return z, y


def _split_val(train: DataSplit, fraction: float, seed: int) -> tuple[DataSplit, DataSplit]:
    import numpy as np

    perm = np.random.default_rng(seed).permutation(len(train))
    k = max(1, int(round(fraction * len(train))))
    return train.subset(np.sort(perm[k:])), train.subset(np.sort(perm[:k]))


def _metrics() -> tuple[tuple[str, Any], ...]:
    from ..metrics import adaptive_ece, brier, ece, mce, nll

    return (
        ("NLL", nll),
        ("ECE", ece),
        ("MCE", mce),
        ("adaptive ECE", adaptive_ece),
        ("Brier", brier),
    )


def _calibration_table(
    probs_before: np.ndarray, probs_after: np.ndarray, y: np.ndarray, n_bins: int
) -> dict[str, dict[str, float]]:
    from ..metrics import brier, nll

    out: dict[str, dict[str, float]] = {"before": {}, "after": {}}
    for key, p in (("before", probs_before), ("after", probs_after)):
        out[key]["accuracy"] = float((p.argmax(1) == y).mean())
        for name, fn in _metrics():
            out[key][name] = float(fn(p, y) if fn in (nll, brier) else fn(p, y, n_bins))
    return out


def _logits_from_data(
    data: str,
    *,
    data_dir: Path | None,
    train_subset: int | None,
    model: str,
    model_path: Path | None,
    epochs: int | None,
    val_fraction: float,
    seed: int,
    quiet: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, str]:
    import torch

    from ..models import build_model, load_model, model_spec
    from ..training import fit, predict_logits

    net = None
    if model_path is not None:  # read (and check) the model before loading any data
        net, arch = load_model(model_path, flag="--model-path")
    prep = prepare_data(data, data_dir=data_dir, train_subset=train_subset, seed=seed)
    ds = prep.dataset
    fit_split, val = _split_val(ds.train, val_fraction, seed)
    if net is not None:
        if (
            tuple(arch["input_shape"]) != tuple(ds.input_shape)
            or arch["num_classes"] != ds.num_classes
        ):
            raise ValueError(
                f"--model-path: the model takes inputs {arch['input_shape']} with "
                f"{arch['num_classes']} classes, --data {data} has {list(ds.input_shape)} and "
                f"{ds.num_classes}"
            )
        source = f"{prep.description}; {arch['kind']} loaded from {model_path}"
    else:
        torch.manual_seed(seed)
        net = build_model(model_spec(model, ds.input_shape, ds.num_classes))
        ep = epochs if epochs is not None else default_epochs(ds.name)
        fit(net, fit_split, epochs=ep, seed=seed, progress=not quiet)
        source = f"{prep.description}; {len(fit_split)} fit / {len(val)} val; {ep} epochs"
    z_val, y_val = predict_logits(net, val), val.y
    z_test, y_test = predict_logits(net, ds.test), ds.test.y
    return z_val, y_val, z_test, y_test, source


@app.command("calibrate")
def calibrate_cmd(
    data: str = typer.Option(
        None, "--data", help="digits | mnist | fashion-mnist (trains, or loads --model-path)"
    ),
    logits: Path = typer.Option(
        None, "--logits", help="validation .npz with arrays logits, labels"
    ),
    test: Path = typer.Option(None, "--test", help="test .npz with arrays logits, labels"),
    model_path: Path = model_path_option(),
    model: str = model_option(),
    epochs: int = epochs_option(),
    val_fraction: float = typer.Option(
        0.1, "--val-fraction", help="training data held out to fit the calibrator"
    ),
    train_subset: int = train_subset_option(),
    n_bins: int = typer.Option(15, "--n-bins", help="equal-width confidence bins"),
    out: Path = typer.Option(
        Path("calibration"), "--out", help="output folder (reliability.png, summary.json)"
    ),
    seed: int = seed_option(),
    data_dir: Path = data_dir_option(),
    quiet: bool = quiet_option(),
) -> None:
    """Temperature scaling: NLL, ECE, MCE, adaptive ECE and Brier before/after on test data.

    Either --data (a model is trained, or loaded with --model-path, and the temperature is
    fitted on --val-fraction of the training split) or --logits VAL.npz --test TEST.npz.
    Writes reliability.png and summary.json into --out.
    """
    if (data is None) == (logits is None):
        raise ValueError("--data: expected exactly one of --data NAME or --logits VAL.npz")
    if not 0 < val_fraction < 1:
        raise ValueError(f"--val-fraction: expected a number in (0, 1), got {val_fraction}")
    check_positive(n_bins, "--n-bins", allow_none=False)
    check_positive(epochs, "--epochs")
    check_model_name(model)
    if data is not None:
        check_data_flags(data, train_subset=train_subset)
    out = check_out_dir(out)
    if logits is not None:
        if test is None:
            raise ValueError("--test: expected --test TEST.npz together with --logits")
        z_val, y_val = load_logits_file(logits, "--logits")
        z_test, y_test = load_logits_file(test, "--test")
        if z_val.shape[1] != z_test.shape[1]:
            raise ValueError(
                f"--test: expected {z_val.shape[1]} classes like --logits, got {z_test.shape[1]}"
            )
        source = f"logits {logits} (val) / {test} (test)"
    else:
        z_val, y_val, z_test, y_test, source = _logits_from_data(
            data,
            data_dir=data_dir,
            train_subset=train_subset,
            model=model,
            model_path=model_path,
            epochs=epochs,
            val_fraction=val_fraction,
            seed=seed,
            quiet=quiet,
        )
    import numpy as np

    from ..functional import softmax
    from ..metrics import nll, plot_reliability_diagram
    from ..uncertainty import TemperatureScaling

    echo(source)
    ts = TemperatureScaling().fit(z_val, y_val)
    y_test = np.asarray(y_test)
    before, after = softmax(np.asarray(z_test, dtype=np.float64), 1), ts.predict_proba(z_test)
    val_before = nll(softmax(np.asarray(z_val, dtype=np.float64), 1), y_val)
    val_after = nll(ts.predict_proba(z_val), y_val)
    table = _calibration_table(before, after, y_test, n_bins)
    echo(f"fitted temperature T = {ts.temperature_:.4f} on {len(y_val)} validation samples")
    if len(y_val) < 500:
        warn(
            f"the temperature is fitted on only {len(y_val)} validation samples; "
            "its test metrics can be worse than the identity's"
        )
    echo(f"{'test metric':<14}{'before':>10}{'after':>10}")
    for key in ["accuracy"] + [n for n, _ in _metrics()]:
        echo(f"{key:<14}{table['before'][key]:>10.4f}{table['after'][key]:>10.4f}")
    if table["after"]["NLL"] > table["before"]["NLL"]:
        warn(
            f"temperature scaling made the test NLL worse ({table['before']['NLL']:.4f} -> "
            f"{table['after']['NLL']:.4f}; validation NLL {val_before:.4f} -> {val_after:.4f})"
        )
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
    from ..io import atomic_write_json

    atomic_write_json(
        out / "summary.json",
        {"source": source, "temperature": ts.temperature_, "n_bins": n_bins, **table},
    )
    echo(f"wrote {out}/reliability.png, {out}/summary.json")
