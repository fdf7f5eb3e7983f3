"""Temperature scaling of an over-confident CNN (Guo et al. 2017; Kornaev lecture 6).

A small CNN is trained far past fitting on a 5 000-image Fashion-MNIST subset (no
regularisation, 25 epochs) so that it becomes over-confident; 5 000 other training
images are the held-out calibration set, and the 10 000 test images are scored
before and after temperature scaling (one scalar T, L-BFGS on the validation NLL) and
vector scaling. Expected (the lecture's claim): T > 1, NLL and ECE drop, accuracy is
unchanged by T. Our ECE is cross-checked against torchmetrics and netcal on the same
probabilities (they use [lo, hi) bins; no confidence lies on a bin edge here).

Budget: ~3-5 CPU-minutes. Writes ``experiments/results/temperature_scaling/``
(summary.json, metrics.csv, reliability.png). The trained logits are cached in
``logits.npz`` so a rerun only recomputes the calibration.

Usage: ``python experiments/temperature_scaling.py [--dataset fashion-mnist] [--epochs 25]``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from scipy.special import softmax

from samplescope.data import load_dataset
from samplescope.io import atomic_path, atomic_write_json
from samplescope.metrics import (
    adaptive_ece,
    brier,
    classwise_ece,
    ece,
    mce,
    nll,
    plot_reliability_diagram,
)
from samplescope.models import small_cnn
from samplescope.report import plt, save_figure
from samplescope.training import fit, predict_logits
from samplescope.uncertainty import TemperatureScaling, VectorScaling

OUT = Path(__file__).resolve().parent / "results" / "temperature_scaling"


def train_logits(args: argparse.Namespace) -> dict[str, np.ndarray]:
    cache = OUT / f"logits_{args.dataset}_n{args.train_size}_e{args.epochs}.npz"
    if cache.exists():
        with np.load(cache) as f:
            return dict(f)
    ds = load_dataset(args.dataset)
    perm = np.random.default_rng(args.seed).permutation(len(ds.train))
    train = ds.train.subset(np.sort(perm[: args.train_size]))
    val = ds.train.subset(np.sort(perm[args.train_size : args.train_size + args.val_size]))
    torch.manual_seed(args.seed)
    model = small_cnn(ds.num_classes, 1, 28, dropout=0.0)
    res = fit(
        model, train, epochs=args.epochs, lr=1e-3, batch_size=64, seed=args.seed, progress=False
    )
    out = {
        "val_logits": predict_logits(model, val),
        "val_labels": val.y,
        "test_logits": predict_logits(model, ds.test),
        "test_labels": ds.test.y,
        "train_acc": np.array(res.history[-1]["train_acc"]),
    }
    with atomic_path(cache) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **out)  # a file handle: np.savez would append ".npz" to a path
    return out


def metrics(p: np.ndarray, y: np.ndarray) -> dict[str, float]:
    return {
        "accuracy": float((p.argmax(1) == y).mean()),
        "NLL": nll(p, y),
        "ECE": ece(p, y),
        "MCE": mce(p, y),
        "adaptive_ECE": adaptive_ece(p, y),
        "classwise_ECE": classwise_ece(p, y),
        "Brier": brier(p, y),
        "mean_confidence": float(p.max(1).mean()),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dataset", default="fashion-mnist")
    ap.add_argument("--train-size", type=int, default=5000)
    ap.add_argument("--val-size", type=int, default=5000)
    ap.add_argument("--epochs", type=int, default=25)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    d = train_logits(args)
    zv, yv, zt, yt = d["val_logits"], d["val_labels"], d["test_logits"], d["test_labels"]
    ts = TemperatureScaling().fit(zv, yv)
    vs = VectorScaling().fit(zv, yv)
    probs = {
        "uncalibrated": softmax(zt, 1),
        "temperature": ts.predict_proba(zt),
        "vector": vs.predict_proba(zt),
    }
    rows = {k: metrics(p, yt) for k, p in probs.items()}
    df = pd.DataFrame(rows).T
    # independent references for the ECE of the uncalibrated model
    import netcal.metrics as netcal_metrics
    from torchmetrics.functional.classification import multiclass_calibration_error

    p0 = probs["uncalibrated"]
    refs = {
        "torchmetrics_ECE": float(
            multiclass_calibration_error(
                torch.as_tensor(p0), torch.as_tensor(yt), p0.shape[1], n_bins=15
            )
        ),
        "netcal_ECE": float(netcal_metrics.ECE(bins=15).measure(p0, yt)),
        "ours_ECE": rows["uncalibrated"]["ECE"],
        # torchmetrics puts confidence 1.0 into a phantom bin (documented difference)
        "n_confidence_exactly_one": int((p0.max(1) == 1.0).sum()),
    }
    summary = {
        "dataset": args.dataset,
        "train_size": args.train_size,
        "val_size": args.val_size,
        "epochs": args.epochs,
        "final_train_acc": float(d["train_acc"]),
        "temperature": ts.temperature_,
        "val_nll_before": ts.nll_before_,
        "val_nll_after": ts.nll_after_,
        "vector_scaling_coef": vs.coef_.tolist(),
        "vector_scaling_intercept": vs.intercept_.tolist(),
        "test": rows,
        "ece_references": refs,
    }
    atomic_write_json(OUT / "summary.json", summary)
    with atomic_path(OUT / "metrics.csv") as tmp:
        df.to_csv(tmp, float_format="%.5f")
    fig, axes = plt().subplots(1, 3, figsize=(12.6, 4.2))
    for ax, (k, p) in zip(axes, probs.items(), strict=True):
        extra = f" (T={ts.temperature_:.2f})" if k == "temperature" else ""
        plot_reliability_diagram(
            p, yt, 15, ax=ax, title=f"{k}{extra}: ECE {100 * rows[k]['ECE']:.2f}%"
        )
    save_figure(fig, OUT / "reliability.png")
    print(
        f"{args.dataset}: small CNN, {args.train_size} training images, {args.epochs} epochs "
        f"(train acc {float(d['train_acc']):.4f}); T fitted on {args.val_size} held-out images"
    )
    print(
        f"fitted temperature T = {ts.temperature_:.4f} (lecture: T > 1 softens an "
        f"over-confident model)"
    )
    print(df.to_string(float_format=lambda v: f"{v:.4f}"))
    print(
        "ECE of the uncalibrated model: ours {ours_ECE:.6f}, torchmetrics {torchmetrics_ECE:.6f},"
        " netcal {netcal_ECE:.6f} ({n_confidence_exactly_one} test confidences are exactly 1.0;"
        " torchmetrics bins them apart)".format(**refs)
    )
    print(f"wrote {OUT}/summary.json, metrics.csv, reliability.png")


if __name__ == "__main__":
    main()
