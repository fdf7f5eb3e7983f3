"""Calibration beyond temperature scaling (issue 19): every calibrator on four small models.

Settings (CPU, one thread, stated sizes; the test split is never used for fitting):

- ``mnist_cnn``: small CNN (dropout 0.25), 4 000 MNIST training images, 3 epochs;
- ``fashion_cnn``: the same on Fashion-MNIST, 4 epochs;
- ``digits_mlp``: MLP 64-64-10 on sklearn's digits (900 fit / 447 validation / 450 test), 60
  epochs; ``digits_mlp_cv5``: the same logits, each calibrator fitted through
  ``fit_calibrator(cv=5)`` (falls back to the identity when its 5-fold CV NLL on the 447
  validation samples is no better);
- ``digits_binary_mlp``: digits 0-4 vs 5-9, the only two-class setting (Platt scaling);
- ``overconfident_cnn``: small CNN without dropout trained 25 epochs on 2 000 Fashion-MNIST
  images (no regularisation: it fits the training set and becomes over-confident).

Validation: 2 000 held-out training images (CNNs). Test: the 10 000 test images (CNNs) or
the 450 digits test images. Calibrators: every registered one (``identity``, ``ts``, ``ets``,
``vector``, ``matrix``, ``dirichlet`` with the default ODIR λ = μ = 1e-3, ``dirichlet_cv`` with
λ = μ chosen by 5-fold CV NLL on the validation split, ``histogram``, ``isotonic``; ``platt``
only for two classes), default hyper-parameters, nothing tuned on the test split. Every
calibrator is fitted on the validation split and measured
on the test split: NLL, ECE (15 bins), top-label smooth ECE, Brier, accuracy, and failure
prediction by the calibrated max-probability confidence (AUROC, AURC), each with a 95%
percentile-bootstrap interval over the test samples (200 resamples, shared by all methods of
a setting). The identity row is the free baseline.

Writes ``experiments/results/calibration_methods.json`` and ``.md`` (atomically, after every
setting; a rerun skips finished settings, ``--force`` redoes them) and the reliability
diagrams of the over-confident model ``calibration_methods_reliability.png``. Trained logits
are cached in ``experiments/results/calibration_methods/`` (not part of the results).

Budget (measured from scratch on the shared 2-core machine at load ≈ 3.5, one thread): 6.8 minutes.

Usage: ``python experiments/calibration_methods.py [--settings a,b] [--force] [--n-boot 200]``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one BLAS thread: a shared 2-core machine thrashes with 2

import numpy as np  # noqa: E402
import torch  # noqa: E402

ROOT = Path(__file__).resolve().parent
os.environ.setdefault("SAMPLESCOPE_DATA_DIR", str(ROOT.parent.parent / "shared" / "data"))
torch.set_num_threads(1)

from samplescope.data import load_dataset  # noqa: E402
from samplescope.io import atomic_path, atomic_write_json, atomic_write_text  # noqa: E402
from samplescope.metrics import plot_reliability_diagram  # noqa: E402
from samplescope.models import mlp, small_cnn  # noqa: E402
from samplescope.report import plt, save_figure  # noqa: E402
from samplescope.training import fit, predict_logits  # noqa: E402
from samplescope.uncertainty import (  # noqa: E402
    compare_calibrators,
    format_calibration_table,
    get_calibrator,
    list_calibrators,
)

RESULTS = ROOT / "results"
CACHE = RESULTS / "calibration_methods"
JSON = RESULTS / "calibration_methods.json"
MD = RESULTS / "calibration_methods.md"
PNG = RESULTS / "calibration_methods_reliability.png"

SETTINGS: dict[str, dict[str, Any]] = {
    "mnist_cnn": {"data": "mnist", "net": "cnn", "train": 4000, "val": 2000, "epochs": 3, "dropout": 0.25},
    "fashion_cnn": {"data": "fashion-mnist", "net": "cnn", "train": 4000, "val": 2000, "epochs": 4, "dropout": 0.25},
    "digits_mlp": {"data": "digits", "net": "mlp", "train": 900, "val": 447, "epochs": 60, "dropout": 0.0},
    "digits_mlp_cv5": {"data": "digits", "net": "mlp", "train": 900, "val": 447, "epochs": 60, "dropout": 0.0, "cv": 5, "logits_of": "digits_mlp"},
    "digits_binary_mlp": {"data": "digits", "net": "mlp", "train": 900, "val": 447, "epochs": 60, "dropout": 0.0, "binary": True},
    "overconfident_cnn": {"data": "fashion-mnist", "net": "cnn", "train": 2000, "val": 2000, "epochs": 25, "dropout": 0.0},
}  # fmt: skip


def train_logits(name: str, cfg: dict[str, Any], seed: int) -> dict[str, np.ndarray]:
    """Validation/test logits of the setting's model (cached)."""
    cache = CACHE / f"logits_{cfg.get('logits_of', name)}_seed{seed}.npz"
    if cache.exists():
        with np.load(cache) as f:
            return dict(f)
    ds = load_dataset(cfg["data"])
    perm = np.random.default_rng(seed).permutation(len(ds.train))
    tr, va = perm[: cfg["train"]], perm[cfg["train"] : cfg["train"] + cfg["val"]]

    def labels(y: np.ndarray) -> np.ndarray:
        return (y >= 5).astype(np.int64) if cfg.get("binary") else y.astype(np.int64)

    c = 2 if cfg.get("binary") else ds.num_classes
    torch.manual_seed(seed)
    if cfg["net"] == "cnn":
        model = small_cnn(c, 1, 28, dropout=cfg["dropout"])
    else:
        model = mlp(ds.input_shape, c, hidden=(64, 64), dropout=cfg["dropout"])
    x, y = ds.train.x, labels(ds.train.y)
    t0 = time.perf_counter()
    res = fit(
        model,
        (x[tr], y[tr]),
        epochs=cfg["epochs"],
        lr=1e-3,
        batch_size=64,
        seed=seed,
        progress=False,
    )
    out = {
        "val_logits": predict_logits(model, x[va]),
        "val_labels": y[va],
        "test_logits": predict_logits(model, ds.test.x),
        "test_labels": labels(ds.test.y),
        "train_acc": np.array(res.history[-1]["train_acc"]),
        "train_seconds": np.array(time.perf_counter() - t0),
    }
    CACHE.mkdir(parents=True, exist_ok=True)
    with atomic_path(cache) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **out)
    return out


def methods_for(c: int) -> list[str]:
    return [m for m in list_calibrators() if c == 2 or m != "platt"]


def run_setting(name: str, cfg: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    d = train_logits(name, cfg, args.seed)
    c = d["val_logits"].shape[1]
    t0 = time.perf_counter()
    with warnings.catch_warnings():  # the table marks the fallbacks with '*'
        warnings.filterwarnings("ignore", message="fit_calibrator", category=UserWarning)
        rows = _compare(d, c, cfg, args)
    ts = get_calibrator("ts").fit(logits=d["val_logits"], labels=d["val_labels"])
    return {
        "setting": name,
        "config": cfg,
        "seed": args.seed,
        "n_val": len(d["val_labels"]),
        "n_test": len(d["test_labels"]),
        "classes": c,
        "final_train_acc": float(d["train_acc"]),
        "train_seconds": float(d["train_seconds"]),
        "temperature": ts.temperature_,
        "compare_seconds": time.perf_counter() - t0,
        "n_boot": args.n_boot,
        "rows": rows,
    }


def _compare(
    d: dict[str, np.ndarray], c: int, cfg: dict[str, Any], args: argparse.Namespace
) -> list:
    return compare_calibrators(
        ["identity", *[m for m in methods_for(c) if m != "identity"]],
        val_logits=d["val_logits"],
        val_labels=d["val_labels"],
        test_logits=d["test_logits"],
        test_labels=d["test_labels"],
        ci=0.95,
        n_boot=args.n_boot,
        cv=cfg.get("cv"),
        seed=args.seed,
    )


def describe(r: dict[str, Any]) -> str:
    cfg = r["config"]
    net = "small CNN" if cfg["net"] == "cnn" else "MLP 64-64"
    how = f"fit_calibrator(cv={cfg['cv']}) per method" if cfg.get("cv") else "fitted directly"
    return (
        f"{cfg['data']}{' (0-4 vs 5-9)' if cfg.get('binary') else ''}, {net}, dropout "
        f"{cfg['dropout']}, {cfg['train']} training samples, {cfg['epochs']} epochs (train acc "
        f"{r['final_train_acc']:.4f}); calibrators {how} on {r['n_val']} validation samples, "
        f"measured on {r['n_test']} test samples; TS temperature {r['temperature']:.3f}; "
        f"95% percentile-bootstrap intervals ({r['n_boot']} resamples)"
    )


def write_markdown(results: dict[str, Any]) -> None:
    lines = [
        "# Calibration methods (issue 19)",
        "",
        "Generated by `experiments/calibration_methods.py`. Fit on the validation split, "
        "measured on the test split. ECE / smECE in %. `changed %`: test samples whose "
        "predicted class the calibrator changed. AUROC / AURC: failure prediction by the "
        "calibrated max-probability confidence (positive = correct; AURC lower = better). "
        "`*`: fell back to the identity (5-fold CV NLL on validation not better).",
        "",
        "Intervals are percentile-bootstrap over test samples; for ECE and smooth ECE the "
        "resamples are noisier than the sample, so a small point value can sit at or below "
        "the interval's lower end (see `samplescope.metrics.bootstrap`).",
        "",
    ]
    for name, r in sorted(results.items(), key=lambda kv: list(SETTINGS).index(kv[0])):
        lines += [
            f"## {name}",
            "",
            describe(r),
            "",
            "```",
            format_calibration_table(r["rows"]),
            "```",
            "",
        ]
    atomic_write_text(MD, "\n".join(lines))


def plot_setting(name: str, r: dict[str, Any], args: argparse.Namespace) -> None:
    d = train_logits(name, SETTINGS[name], args.seed)
    shown = ["identity", "ts", "dirichlet", "histogram"]
    fig, axes = plt().subplots(1, len(shown), figsize=(4.3 * len(shown), 4.9))
    for ax, m in zip(axes, shown, strict=True):
        q = get_calibrator(m).fit(logits=d["val_logits"], labels=d["val_labels"])
        q = q.predict_proba(logits=d["test_logits"])
        row = next(x for x in r["rows"] if x["method"] == m)
        plot_reliability_diagram(
            q,
            d["test_labels"],
            15,
            ax=ax,
            title=f"{m}: ECE {100 * row['ece'][0]:.2f}%  smECE {100 * row['smooth_ece'][0]:.2f}%",
        )
    fig.suptitle(f"{name}: test reliability after fitting on validation", y=1.02)
    save_figure(fig, PNG)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--settings", default=",".join(SETTINGS))
    ap.add_argument("--force", action="store_true", help="recompute finished settings")
    ap.add_argument("--n-boot", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--plot", default="overconfident_cnn", help="setting whose diagrams are drawn")
    args = ap.parse_args()
    names = [s for s in args.settings.split(",") if s]
    unknown = [s for s in names if s not in SETTINGS]
    if unknown:
        raise SystemExit(f"--settings: unknown {unknown}; expected some of {list(SETTINGS)}")
    results: dict[str, Any] = json.loads(JSON.read_text())["settings"] if JSON.exists() else {}
    t_all = time.perf_counter()
    for name in names:
        if name in results and not args.force:
            print(f"{name}: done (rerun with --force)")
            continue
        t0 = time.perf_counter()
        results[name] = run_setting(name, SETTINGS[name], args)
        results = {k: results[k] for k in SETTINGS if k in results}  # stable order
        atomic_write_json(JSON, {"settings": results, "load_avg": os.getloadavg()})
        write_markdown(results)
        print(f"\n== {name} ({time.perf_counter() - t0:.0f} s) ==\n{describe(results[name])}")
        print(format_calibration_table(results[name]["rows"]))
    if args.plot in results:
        plot_setting(args.plot, results[args.plot], args)
        print(f"wrote {PNG}")
    write_markdown(results)
    print(f"\nwrote {JSON} and {MD} ({time.perf_counter() - t_all:.0f} s)")


if __name__ == "__main__":
    sys.exit(main())
