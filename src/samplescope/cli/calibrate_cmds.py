"""``samplescope calibrate``: fit calibrators on validation logits, report them on test logits."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

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


# written out so that --help needs no torch; a test checks them against the registry
CALIBRATORS = (
    "identity",
    "ts",
    "vector",
    "matrix",
    "dirichlet",
    "dirichlet_cv",
    "ets",
    "histogram",
    "isotonic",
    "platt",
)
DEFAULT_METHODS = "ts,ets,vector,dirichlet,histogram,isotonic"


@app.command("calibrate")
def calibrate_cmd(
    data: str = typer.Option(
        None, "--data", help="digits | mnist | fashion-mnist (trains, or loads --model-path)"
    ),
    logits: Path = typer.Option(
        None, "--logits", help="validation .npz with arrays logits, labels"
    ),
    test: Path = typer.Option(None, "--test", help="test .npz with arrays logits, labels"),
    method: str = typer.Option(
        DEFAULT_METHODS,
        "--method",
        help=f"comma-separated calibrators from {list(CALIBRATORS)} (aliases accepted); "
        "the identity row is always shown",
    ),
    cv: int = typer.Option(
        5,
        "--cv",
        help="folds of the cross-validated check on validation (0 = no check); a "
        "calibrator that does not lower the CV NLL falls back to the identity",
    ),  # fmt: skip
    ci: float = typer.Option(0.95, "--ci", help="level of the bootstrap intervals"),
    n_boot: int = typer.Option(100, "--n-boot", help="bootstrap resamples of the test set"),
    model_path: Path = model_path_option(),
    model: str = model_option(),
    epochs: int = epochs_option(),
    val_fraction: float = typer.Option(
        0.1, "--val-fraction", help="training data held out to fit the calibrators"
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
    """Calibrators side by side: NLL, ECE, smooth ECE, Brier (with intervals), accuracy and
    failure prediction before/after on test data.

    Either --data (a model is trained, or loaded with --model-path, and the calibrators are
    fitted on --val-fraction of the training split) or --logits VAL.npz --test TEST.npz.
    Writes reliability.png (identity vs the method chosen by validation CV NLL) and
    summary.json into --out.
    """
    if (data is None) == (logits is None):
        raise ValueError("--data: expected exactly one of --data NAME or --logits VAL.npz")
    methods = [m.strip() for m in method.split(",") if m.strip()]
    if not methods:
        raise ValueError("--method: expected at least one calibrator name")
    if not 0 < val_fraction < 1:
        raise ValueError(f"--val-fraction: expected a number in (0, 1), got {val_fraction}")
    if not 0 < ci < 1:
        raise ValueError(f"--ci: expected a level in (0, 1), got {ci}")
    if cv < 0 or cv == 1:
        raise ValueError(f"--cv: expected 0 (no check) or >= 2 folds, got {cv}")
    check_positive(n_bins, "--n-bins", allow_none=False)
    check_positive(n_boot, "--n-boot", allow_none=False)
    check_positive(epochs, "--epochs")
    check_model_name(model)
    if data is not None:
        check_data_flags(data, train_subset=train_subset)
    from ..uncertainty import get_calibrator

    for m in methods:
        try:
            get_calibrator(m)
        except ValueError:
            raise ValueError(
                f"--method: expected names from {list(CALIBRATORS)}, got {m!r}"
            ) from None
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
    if "platt" in methods and z_val.shape[1] != 2:
        raise ValueError(
            f"--method: platt is for binary problems, these logits have {z_val.shape[1]} classes"
        )
    import warnings

    import numpy as np

    from ..uncertainty import compare_calibrators, format_calibration_table

    echo(source)
    if len(y_val) < 500:
        warn(
            f"the calibrators are fitted on only {len(y_val)} validation samples"
            + (
                "; the cross-validated check keeps the identity where they do not help"
                if cv
                else ""
            )
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # fall-backs are marked in the table
        rows = compare_calibrators(
            methods,
            val_logits=z_val,
            val_labels=y_val,
            test_logits=z_test,
            test_labels=y_test,
            ci=ci,
            n_boot=n_boot,
            cv=cv or None,
            n_bins=n_bins,
            seed=seed,
        )
    echo(
        format_calibration_table(
            rows,
            title=f"{len(y_val)} validation / {len(y_test)} test samples; "
            f"{100 * ci:g}% bootstrap intervals over the test samples ({n_boot} resamples)",
        )
    )
    fitted = [
        r for r in rows if r["fitted"] and r["method"] != "identity" and r["cv_nll"] is not None
    ]
    best = min(fitted, key=lambda r: r["cv_nll"]) if fitted else None
    if best is not None:
        echo(f"chosen by validation CV NLL: {best['method']} ({best['cv_nll']:.4f})")
    else:
        echo("no calibrator beats the identity on validation: keep the model's own probabilities")
    for r in rows:
        if r["method"] != "identity" and r["nll"][0] > rows[0]["nll"][0]:
            warn(
                f"{r['method']} makes the test NLL worse ({rows[0]['nll'][0]:.4f} -> {r['nll'][0]:.4f})"
            )
    from ..functional import softmax
    from ..io import atomic_write_json
    from ..metrics import plot_reliability_diagram
    from ..report import plt, save_figure

    y_test = np.asarray(y_test)
    before = softmax(np.asarray(z_test, dtype=np.float64), 1)
    fig, axes = plt().subplots(1, 2, figsize=(9.6, 4.8))
    warnings.filterwarnings("ignore", category=RuntimeWarning)  # empty bins of the band
    plot_reliability_diagram(before, y_test, n_bins, ax=axes[0], title="identity")
    if best is not None:
        from ..uncertainty import fit_calibrator

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cal = fit_calibrator(
                best["method"], logits=z_val, labels=y_val, cv=cv or None, seed=seed
            )
        after = cal.predict_proba(logits=z_test)
        plot_reliability_diagram(after, y_test, n_bins, ax=axes[1], title=best["method"])
    else:
        axes[1].axis("off")
    save_figure(fig, out / "reliability.png")
    atomic_write_json(
        out / "summary.json",
        {
            "source": source,
            "n_val": int(len(y_val)),
            "n_test": int(len(y_test)),
            "ci": ci,
            "chosen": None if best is None else best["method"],
            "rows": rows,
        },
    )
    echo(f"wrote {out}/reliability.png, {out}/summary.json")
