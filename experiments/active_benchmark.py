"""Active-learning benchmark on MNIST and Fashion-MNIST at a CPU budget (issue 18).

Protocol (one run = one data set × batch size × method × seed, one JSONL row each):

- pool: a fixed random 10 000 of the training split; test: a fixed random 2 000 of the test
  split (seed 0, the same for every run). Inputs: the pool-fitted PCA to 64 dimensions of the
  pixels (unsupervised, fitted on the unlabelled pool only), scaled to unit std — the CPU
  protocol; Gal's CNN on images (``experiments/gal_table1.py --protocol gal --device cuda``)
  is the GPU option.
- model: MLP 64 → 256 → 10 with dropout 0.5, retrained from scratch at every step with
  :func:`samplescope.active.fast_fit.fast_fit`: Adam 1e-3, batch 64, at most 500 updates,
  at least 5 passes, early stopping once a pass's mean training loss on the labelled set is
  below 0.05 (a model that fits its labels; the "fixed 500 updates" model reaches the same
  held-out accuracy, see the calibration in the report). MC dropout T = 20 for scoring and
  for the test accuracy.
- initial set: 20 uniform random labels (no class balancing: a real pool has no labels),
  the same 20 for every method of a seed; TypiClust picks them for ``typiclust_bald``.
- each step scores a random 2 000 of the unlabelled pool and acquires 10 or 50, to 500
  labels (batch 50: 10 steps to 520; the curve is interpolated at 500).
- methods: random, max entropy, BALD top-k, power-BALD (β = 1, Kirsch et al. 2023),
  BatchBALD (greedy on the top 100 / 200 by BALD, 1 000 / 300 sampled configurations),
  BADGE (Ash et al. 2020), TypiClust-initialised BALD (Hacohen et al. 2022).
- reported: area under the learning curve = mean test accuracy over the label budget
  (accuracy linearly interpolated on n = 20, 30, ..., 500), 95% t-interval over seeds, the
  same for the paired difference to random (same seed, same initial set for all methods but
  TypiClust), labels to reach 90% / 95% accuracy on the seed-mean curve, seconds per step.

Resumable: rows already in ``runs.jsonl`` are skipped; ``--max-minutes`` stops taking new
runs (run it in chunks under the CPU lock). ``--summary`` only rewrites the tables/plot.

    flock /tmp/samplescope-cpu.lock python experiments/active_benchmark.py --max-minutes 7.5
    python experiments/active_benchmark.py --summary
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import time
from pathlib import Path

import numpy as np
import torch

OUT = Path(__file__).parent / "results" / "active_benchmark"
DATASETS = ("mnist", "fashion-mnist")
BATCHES = (50, 10)
METHODS = {  # name: (acquisition, batch_mode, initial_method)
    "random": ("random", "topk", "random"),
    "max_entropy": ("predictive_entropy", "topk", "random"),
    "bald": ("mutual_information", "topk", "random"),
    "power_bald": ("mutual_information", "power", "random"),
    "batchbald": ("mutual_information", "batchbald", "random"),
    "badge": ("random", "badge", "random"),
    "typiclust_bald": ("mutual_information", "topk", "typiclust"),
}
PRIORITY = ("random", "power_bald", "bald", "batchbald", "badge", "max_entropy", "typiclust_bald")
SETTINGS = {
    "pool": 10000,
    "test": 2000,
    "pca": 64,
    "hidden": 256,
    "dropout": 0.5,
    "updates": 500,
    "min_passes": 5,
    "early_stop_loss": 0.05,
    "batch_size": 64,
    "lr": 1e-3,
    "mc_samples": 20,
    "initial": 20,
    "budget": 500,
    "pool_subset": 2000,
}
GRID = np.arange(20, 501, 10)


def load(name: str, s: dict) -> tuple:
    from sklearn.decomposition import PCA

    from samplescope.data import load_dataset
    from samplescope.data.split import DataSplit

    ds = load_dataset(name, os.environ.get("SAMPLESCOPE_DATA_DIR"))
    rng = np.random.default_rng(0)
    pool_pos = np.sort(rng.choice(len(ds.train), s["pool"], replace=False))
    test_pos = np.sort(rng.choice(len(ds.test), s["test"], replace=False))
    xp = ds.train.x[pool_pos].reshape(len(pool_pos), -1)
    pca = PCA(s["pca"], random_state=0).fit(xp)
    zp = pca.transform(xp)
    scale = zp.std()
    zt = pca.transform(ds.test.x[test_pos].reshape(len(test_pos), -1))
    pool = DataSplit(
        (zp / scale).astype(np.float32), ds.train.y[pool_pos], ds.train.sample_id[pool_pos]
    )
    test = DataSplit(
        (zt / scale).astype(np.float32), ds.test.y[test_pos], ds.test.sample_id[test_pos]
    )
    return pool, test


def one_run(pool, test, method: str, batch: int, seed: int, s: dict) -> dict:
    from samplescope.active import ActiveLoop, MCDropoutLearner
    from samplescope.models import mlp

    acq, mode, init = METHODS[method]
    d = pool.x.shape[1]
    learner = MCDropoutLearner(
        lambda: mlp(d, 10, hidden=(s["hidden"],), dropout=s["dropout"]),
        updates=s["updates"],
        min_epochs=s["min_passes"],
        batch_size=s["batch_size"],
        lr=s["lr"],
        mc_samples=s["mc_samples"],
        early_stop_loss=s["early_stop_loss"],
        trainer="fast",
    )
    steps = int(np.ceil((s["budget"] - s["initial"]) / batch))
    opts = {"beta": 1.0}
    if mode == "batchbald":
        opts.update(
            {"batchbald_candidates": 100, "batchbald_samples": 1000}
            if batch <= 10
            else {"batchbald_candidates": 200, "batchbald_samples": 300}
        )
    loop = ActiveLoop(
        learner,
        pool,
        test,
        acquisition=acq,
        initial=s["initial"],
        initial_method=init,
        per_step=batch,
        steps=steps,
        pool_subset=s["pool_subset"],
        batch_mode=mode,
        batch_options=opts,
        seed=seed,
    )
    t0 = time.perf_counter()
    hist = loop.run(resume=False)
    return {
        "n_labelled": [h["n_labelled"] for h in hist],
        "accuracy": [h["accuracy"] for h in hist],
        "step_s": [h["step_s"] for h in hist],
        "fit_s": [h["fit_s"] for h in hist],
        "wall_s": round(time.perf_counter() - t0, 2),
    }


def loadavg() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


def read_rows(path: Path) -> list[dict]:
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        if line.strip():
            with contextlib.suppress(json.JSONDecodeError):  # a torn last line after a kill
                rows.append(json.loads(line))
    return rows


def ci95(v: np.ndarray) -> tuple[float, float, float]:
    """Mean and the 95% Student-t interval over seeds."""
    from scipy import stats

    v = np.asarray(v, dtype=float)
    m = float(v.mean())
    if len(v) < 2:
        return m, float("nan"), float("nan")
    h = float(stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v)))
    return m, m - h, m + h


def auc(row: dict) -> float:
    return float(np.interp(GRID, row["n_labelled"], row["accuracy"]).mean())


def labels_to(curves: np.ndarray, target: float) -> float:
    mean = curves.mean(axis=0)
    hit = np.flatnonzero(mean >= target)
    return float(GRID[hit[0]]) if len(hit) else float("nan")


def summarize(out: Path) -> dict:
    from samplescope.io import atomic_path, atomic_write_json

    rows = read_rows(out / "runs.jsonl")
    groups: dict = {}
    for r in rows:
        groups.setdefault((r["dataset"], r["batch"]), {}).setdefault(r["method"], {})[r["seed"]] = r
    table, lines = [], []
    lines.append(
        "| data set | batch | method | seeds | AUC (95% CI) | Δ AUC vs random (95% CI) | "
        "labels to 90% | labels to 95% | acc @500 | s / step |"
    )
    lines.append("|---|---|---|---|---|---|---|---|---|---|")
    for (dsn, batch), meth in sorted(groups.items(), key=lambda kv: (kv[0][0], -kv[0][1])):
        rnd = meth.get("random", {})
        for m in METHODS:
            if m not in meth:
                continue
            runs = meth[m]
            seeds = sorted(runs)
            a = np.array([auc(runs[k]) for k in seeds])
            curves = np.array(
                [np.interp(GRID, runs[k]["n_labelled"], runs[k]["accuracy"]) for k in seeds]
            )
            am, alo, ahi = ci95(a)
            paired = [k for k in seeds if k in rnd]
            if m != "random" and len(paired) >= 2:
                dm, dlo, dhi = ci95(np.array([auc(runs[k]) - auc(rnd[k]) for k in paired]))
            else:
                dm = dlo = dhi = float("nan")
            step_s = float(np.mean([np.mean(runs[k]["step_s"]) for k in seeds]))
            rec = {
                "dataset": dsn, "batch": batch, "method": m, "seeds": seeds,
                "auc": am, "auc_ci": [alo, ahi], "delta_auc_vs_random": dm,
                "delta_ci": [dlo, dhi], "paired_seeds": paired,
                "labels_to_90": labels_to(curves, 0.90), "labels_to_95": labels_to(curves, 0.95),
                "acc_at_500": float(curves[:, -1].mean()), "s_per_step": step_s,
            }  # fmt: skip
            table.append(rec)

            def f(v: float, p: int = 4) -> str:
                return "—" if np.isnan(v) else f"{v:.{p}f}"

            def n(v: float) -> str:
                return "not reached" if np.isnan(v) else str(int(v))

            lines.append(
                f"| {dsn} | {batch} | {m} | {len(seeds)} | {f(am)} [{f(alo)}, {f(ahi)}] | "
                f"{f(dm)} [{f(dlo)}, {f(dhi)}] | {n(rec['labels_to_90'])} | {n(rec['labels_to_95'])} | "
                f"{f(rec['acc_at_500'])} | {step_s:.2f} |"
            )
    # power-BALD vs top-k BALD at batch 50, paired
    extra = []
    for dsn in DATASETS:
        g = groups.get((dsn, 50), {})
        if "power_bald" in g and "bald" in g:
            ks = sorted(set(g["power_bald"]) & set(g["bald"]))
            if len(ks) >= 2:
                dm, dlo, dhi = ci95(
                    np.array([auc(g["power_bald"][k]) - auc(g["bald"][k]) for k in ks])
                )
                extra.append({"dataset": dsn, "seeds": ks, "delta": dm, "ci": [dlo, dhi]})
                lines.append("")
                lines.append(
                    f"power-BALD − BALD top-k, batch 50, {dsn}: Δ AUC {dm:+.4f} [{dlo:+.4f}, {dhi:+.4f}] over {len(ks)} seeds"
                )
    cpu = float(sum(r["wall_s"] for r in rows))
    lines.append("")
    lines.append(
        f"runs: {len(rows)}; summed wall time of the runs: {cpu / 60:.1f} min (1 thread each)"
    )
    summary = {"settings": SETTINGS, "methods": METHODS, "table": table, "power_vs_bald_b50": extra,
               "runs": len(rows), "run_wall_s_total": cpu}  # fmt: skip
    atomic_write_json(out / "summary.json", summary)
    with atomic_path(out / "table.md") as tmp:
        Path(tmp).write_text("\n".join(lines) + "\n")
    plot(groups, out / "curves.png")
    return summary


def plot(groups: dict, path: Path) -> None:
    """Seed-mean test accuracy vs labels, one panel per (data set, batch), one colour per method."""
    from samplescope.io.figures import plt, save_figure

    keys = sorted(groups, key=lambda k: (k[0], -k[1]))
    if not keys:
        return
    pyplot = plt()
    colours = dict(zip(METHODS, pyplot.get_cmap("tab10").colors, strict=False))
    rows = len({k[0] for k in keys})
    cols = int(np.ceil(len(keys) / rows))
    fig, axes = pyplot.subplots(rows, cols, figsize=(5.2 * cols, 3.8 * rows), squeeze=False)
    for ax, key in zip(axes.ravel(), keys, strict=False):
        for m in METHODS:
            runs = groups[key].get(m)
            if not runs:
                continue
            c = np.array([np.interp(GRID, r["n_labelled"], r["accuracy"]) for r in runs.values()])
            ax.plot(GRID, c.mean(0), label=f"{m} ({len(c)} seeds)", lw=1.4, color=colours[m])
        ax.set_title(f"{key[0]}, batch {key[1]}", fontsize=10)
        ax.set_xlabel("labels")
        ax.set_ylabel("test accuracy (mean over seeds)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
    for ax in axes.ravel()[len(keys) :]:
        ax.set_visible(False)
    fig.tight_layout()
    save_figure(fig, path)


def calibrate(out: Path, s: dict) -> None:
    """Is the CPU protocol under-trained? The protocol's model vs one trained 10x longer
    (5 000 updates, no early stopping) on random labelled sets of 20 / 100 / 500, accuracy on
    2 000 held-out images of the TRAINING split (not the benchmark's test subset)."""
    from sklearn.decomposition import PCA

    from samplescope.active import MCDropoutLearner
    from samplescope.data import load_dataset
    from samplescope.data.split import DataSplit
    from samplescope.io import atomic_write_json
    from samplescope.models import mlp

    rows = []
    for name in DATASETS:
        tr = load_dataset(name, os.environ.get("SAMPLESCOPE_DATA_DIR")).train
        perm = np.random.default_rng(1).permutation(len(tr))
        pool_pos, hold_pos = perm[:10000], perm[50000:52000]
        x = tr.x.reshape(len(tr), -1)
        z = PCA(s["pca"], random_state=0).fit(x[pool_pos]).transform(x)
        sp = DataSplit((z / z[pool_pos].std()).astype(np.float32), tr.y, tr.sample_id)
        hold = sp.subset(hold_pos)
        for n in (20, 100, 500):
            for rep in range(2):
                sub = sp.subset(np.random.default_rng(10 + rep).choice(pool_pos, n, replace=False))
                for label, kw in (
                    (
                        "protocol",
                        {"updates": s["updates"], "early_stop_loss": s["early_stop_loss"]},
                    ),
                    ("10x", {"updates": 10 * s["updates"], "early_stop_loss": 0.0}),
                ):
                    learner = MCDropoutLearner(
                        lambda: mlp(s["pca"], 10, hidden=(s["hidden"],), dropout=s["dropout"]),
                        batch_size=s["batch_size"], lr=s["lr"], mc_samples=s["mc_samples"],
                        min_epochs=s["min_passes"], trainer="fast", **kw,
                    )  # fmt: skip
                    t0 = time.perf_counter()
                    learner.fit(sub, rep)
                    rows.append({
                        "dataset": name, "n": n, "rep": rep, "training": label,
                        "updates": learner.epochs_run_, "fit_s": round(time.perf_counter() - t0, 2),
                        "accuracy": learner.evaluate(hold, 0)["accuracy"], "load": loadavg(),
                    })  # fmt: skip
                    print(rows[-1], flush=True)
    atomic_write_json(out / "calibration.json", rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--datasets", default=",".join(DATASETS))
    ap.add_argument("--batches", default=",".join(map(str, BATCHES)))
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--max-minutes", type=float, default=7.5)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--summary", action="store_true", help="only rewrite summary/table/plot")
    ap.add_argument("--calibrate", action="store_true", help="protocol vs 10x longer training")
    ap.add_argument(
        "--smoke", action="store_true", help="tiny configuration (pool 1000, budget 60)"
    )
    args = ap.parse_args()
    torch.set_num_threads(1)
    s = dict(SETTINGS)
    if args.smoke:
        s.update(pool=1000, test=300, budget=120, pool_subset=300, updates=100)
        global GRID
        GRID = np.arange(20, s["budget"] + 1, 10)
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    if args.calibrate:
        calibrate(out, s)
        return
    if not args.summary:
        path = out / "runs.jsonl"
        done = {(r["dataset"], r["batch"], r["method"], r["seed"]) for r in read_rows(path)}
        t_start = time.perf_counter()
        data: dict = {}
        # batch 50 seed by seed; batch 10 (5x the steps) method by method in PRIORITY order,
        # so that whatever a time budget leaves undone are whole methods, not seeds
        methods = args.methods.split(",")
        todo = []
        for b in map(int, args.batches.split(",")):
            if b == 50:
                order = [(seed, m) for seed in range(args.seeds) for m in methods]
            else:
                ms = [m for m in PRIORITY if m in methods] + [
                    m for m in methods if m not in PRIORITY
                ]
                order = [(seed, m) for m in ms for seed in range(args.seeds)]
            todo += [
                (b, seed, dsn, m)
                for seed, m in order
                for dsn in args.datasets.split(",")
                if (dsn, b, m, seed) not in done
            ]
        print(f"{len(todo)} runs to do; load {loadavg()}", flush=True)
        for b, seed, dsn, m in todo:
            if (time.perf_counter() - t_start) / 60 > args.max_minutes:
                print("time slice used up; rerun to continue", flush=True)
                break
            if dsn not in data:
                data[dsn] = load(dsn, s)
            res = one_run(*data[dsn], m, b, seed, s)
            row = {"dataset": dsn, "batch": b, "method": m, "seed": seed, **res,
                   "load": loadavg()}  # fmt: skip
            with open(path, "a") as fh:
                fh.write(json.dumps(row) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            print(f"{dsn} b{b} {m:<15} s{seed}: AUC {auc(row):.4f} acc@end {res['accuracy'][-1]:.4f} "
                  f"{res['wall_s']:.1f}s", flush=True)  # fmt: skip
    summarize(out)
    print((out / "table.md").read_text())


if __name__ == "__main__":
    main()
