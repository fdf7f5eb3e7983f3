"""``samplescope train`` (weighted training) and ``samplescope weightings`` (the registry)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from .app import app
from .common import check_data_flags, echo, prepare_data
from .options import (
    batch_size_option,
    check_choice,
    check_model_name,
    check_out_dir,
    check_positive,
    data_dir_option,
    data_option,
    default_epochs,
    epochs_option,
    imbalance_option,
    lr_option,
    model_option,
    noise_kind_option,
    noise_option,
    quiet_option,
    seed_option,
    train_subset_option,
)

if TYPE_CHECKING:
    import numpy as np

__all__ = ["parse_params", "per_class_accuracy"]


def parse_params(items: list[str] | None) -> dict[str, Any]:
    """``["t=0.5", "method=rank"]`` → ``{"t": 0.5, "method": "rank"}`` (int, float, bool, none, str)."""
    out: dict[str, Any] = {}
    for item in items or []:
        if "=" not in item:
            raise ValueError(f"--param: expected KEY=VALUE, got {item!r}")
        k, v = item.split("=", 1)
        low = v.strip().lower()
        val: Any
        if low in ("none", "null"):
            val = None
        elif low in ("true", "false"):
            val = low == "true"
        else:
            try:
                val = int(v)
            except ValueError:
                try:
                    val = float(v)
                except ValueError:
                    val = v
        out[k.strip()] = val
    return out


def per_class_accuracy(pred: np.ndarray, labels: np.ndarray, num_classes: int) -> np.ndarray:
    """Accuracy per true class ``(C,)`` (NaN for classes absent from ``labels``)."""
    import numpy as np

    acc = np.full(num_classes, np.nan)
    for c in range(num_classes):
        m = labels == c
        if m.any():
            acc[c] = float((pred[m] == c).mean())
    return acc


def _balanced_acc_callback(test: Any, num_classes: int) -> Any:
    """A callback adding ``val_balanced_acc`` (mean per-class test accuracy) to every epoch."""
    import numpy as np

    from ..training import Callback

    class _BalancedAcc(Callback):
        def on_epoch_end(self, state: Any) -> None:
            ev = state.evaluate(test)
            acc = per_class_accuracy(ev.logits.argmax(1), ev.labels, num_classes)
            state.history[-1]["val_balanced_acc"] = float(np.nanmean(acc))

    return _BalancedAcc()


@app.command("weightings")
def weightings_cmd() -> None:
    """List the registered weighting schemes: name, kind, formula, and the --param names."""
    from ..weighting import get_weighting, list_weightings

    for name in list_weightings():
        s = get_weighting(name)
        kind = s.kind + ("*" if s.needs_difficulty else "")
        echo(f"{name:<23}{kind:<9}{s.description}")
        params = s.parameters()
        if params:
            echo(" " * 32 + "--param " + "  ".join(f"{k}={v!r}" for k, v in params.items()))
    echo("\n(* = static scheme reading a difficulty column: pass --weights-from and --column)")
    echo("(--param KEY=VALUE sets a parameter; the values shown are the defaults)")


@app.command("train")
def train_cmd(
    data: str = data_option(),
    out: Path = typer.Option(
        Path("train_run"),
        "--out",
        help="output folder (model.pt, metrics.csv, per_class.csv, summary.json)",
    ),
    weighting: str = typer.Option(
        "uniform", "--weighting", help="scheme name (see `samplescope weightings`)"
    ),
    param: list[str] = typer.Option(
        None, "--param", help="scheme parameter KEY=VALUE (repeatable)"
    ),
    weights_from: Path = typer.Option(
        None, "--weights-from", help="ScoreTable (.parquet/.csv) with difficulty"
    ),
    column: str = typer.Option("gen_error", "--column", help="difficulty column of --weights-from"),
    weight_mode: str = typer.Option(
        "loss", "--weight-mode", help="loss | sampler (static schemes)"
    ),
    noise: float = noise_option(),
    noise_kind: str = noise_kind_option(),
    imbalance: float = imbalance_option(),
    epochs: int = epochs_option(),
    model: str = model_option(),
    lr: float = lr_option(),
    batch_size: int = batch_size_option(),
    train_subset: int = train_subset_option(),
    seed: int = seed_option(),
    data_dir: Path = data_dir_option(),
    quiet: bool = quiet_option(),
) -> None:
    """Train with a weighting scheme; write model.pt, metrics.csv, per_class.csv and summary.json.

    model.pt holds the architecture with the weights: --model-path run/model.pt reloads it.
    """
    from ..weighting import get_weighting, list_weightings

    try:
        spec = get_weighting(weighting)
    except ValueError:
        raise ValueError(
            f"--weighting: expected one of {list_weightings()}, got {weighting!r}"
        ) from None
    params = parse_params(param)
    spec.check_params(params, "--param")
    check_data_flags(
        data, noise=noise, noise_kind=noise_kind, imbalance=imbalance, train_subset=train_subset
    )
    check_choice(weight_mode, ("loss", "sampler"), "--weight-mode")
    check_positive(epochs, "--epochs")
    check_model_name(model)
    check_positive(batch_size, "--batch-size", allow_none=False)
    check_positive(lr, "--lr", allow_none=False)
    if weights_from is not None and not weights_from.is_file():
        raise ValueError(
            f"--weights-from: expected an existing ScoreTable file, got {str(weights_from)!r}"
        )
    out = check_out_dir(out)
    if spec.needs_difficulty and weights_from is None:
        raise ValueError(
            f"--weights-from: weighting {weighting!r} reads a difficulty column; pass a ScoreTable"
        )
    if weights_from is not None and not spec.needs_difficulty:
        raise ValueError(
            f"--weights-from: weighting {weighting!r} does not read a difficulty column"
        )
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
    import numpy as np
    import pandas as pd
    import torch

    from ..io import atomic_path, atomic_write_json
    from ..models import build_model, model_spec, save_model
    from ..training import predict_logits
    from ..weighting import chi2_divergence, difficulty_from_table, fit_weighted

    difficulty = None
    if weights_from is not None:
        difficulty = difficulty_from_table(weights_from, column, ds.train.sample_id)
    ep = epochs if epochs is not None else default_epochs(ds.name)
    torch.manual_seed(seed)
    arch = model_spec(model, ds.train.x.shape[1:], ds.num_classes)
    net = build_model(arch)
    res = fit_weighted(
        net,
        ds.train,
        weighting,
        params=params,
        difficulty=difficulty,
        weight_mode=weight_mode,
        num_classes=ds.num_classes,
        epochs=ep,
        batch_size=batch_size,
        lr=lr,
        seed=seed,
        val=ds.test,
        callbacks=[_balanced_acc_callback(ds.test, ds.num_classes)],
        progress=not quiet,
    )
    save_model(res.model, out / "model.pt", arch)
    hist = pd.DataFrame(res.history)
    with atomic_path(out / "metrics.csv") as tmp:
        hist.to_csv(tmp, index=False)
    pred = predict_logits(res.model, ds.test).argmax(1)
    acc_c = per_class_accuracy(pred, ds.test.y, ds.num_classes)
    counts = np.bincount(ds.train.y, minlength=ds.num_classes)
    pc = pd.DataFrame(
        {
            "class": np.arange(ds.num_classes),
            "name": list(ds.class_names),
            "n_train": counts,
            "test_acc": acc_c,
        }
    )
    with atomic_path(out / "per_class.csv") as tmp:
        pc.to_csv(tmp, index=False)
    overall = float((pred == ds.test.y).mean())
    balanced = float(np.nanmean(acc_c))
    summary: dict[str, Any] = {
        "data": prep.description,
        "weighting": weighting,
        "params": params,
        "weight_mode": weight_mode,
        "model": arch,
        "epochs": ep,
        "seed": seed,
        "test_acc": overall,
        "test_balanced_acc": balanced,
        "tail_class_acc": float(acc_c[int(np.argmin(counts))]),
    }
    if weights_from is not None or spec.kind == "static":
        from ..weighting import static_weights

        w = static_weights(
            weighting, ds.train.y, difficulty, num_classes=ds.num_classes, params=params
        )
        summary["chi2_divergence"] = chi2_divergence(w)
        echo(
            f"static weights: min {w.min():.3g}, max {w.max():.3g}, D_chi2(weighted||uniform) "
            f"{summary['chi2_divergence']:.4g}"
        )
    atomic_write_json(out / "summary.json", summary)
    echo(pc.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    echo(
        f"final test accuracy {overall:.4f}, balanced accuracy {balanced:.4f}  ({weighting}, {ep} epochs)"
    )
    echo(f"wrote {out}/model.pt, metrics.csv, per_class.csv, summary.json")
