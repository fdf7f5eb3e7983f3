"""Finding noisy labels: every samplescope difficulty measure vs cleanlab, at equal compute.

Settings: MNIST and Fashion-MNIST training subsets (3,000 images, 300 per class) with 20%
symmetric noise (a label moves to one of the 9 other classes) or 20% asymmetric noise
(similar-class flips within the source classes of the built-in maps: MNIST 2→7, 3→8, 5↔6,
7→1; Fashion-MNIST T-shirt↔Shirt, Pullover↔Coat, Sandal↔Sneaker; so about 10% / 12% of all
labels are wrong). Model: MLP 784-128-10, Adam 1e-3, batch 128, 8 epochs, one thread.

Per setting and seed:

- 1 training run on all samples: ``loss``, ``confidence``, ``margin``, ``entropy``,
  ``grad_norm``, ``last_layer_grad_norm`` (final model), ``action_score`` (eval pass at every
  epoch end), ``aum``, ``forgetting``, ``cartography_*`` (training batches);
- 5 runs (one stratified 5-fold run): our ``oof_loss`` and ``oof_margin`` vs cleanlab's
  ``self_confidence`` and ``normalized_margin`` (``cleanlab.rank.get_label_quality_scores``)
  on the same out-of-fold probabilities;
- 15 runs (5-fold repeated 3 times): ``gen_error``, ``gen_bias``, ``gen_variance``,
  ``margin_mean``, ``gen_error_eq6`` vs cleanlab's two scores on the out-of-fold
  probabilities averaged over the 3 repeats (the same 15 runs).

Metrics (``samplescope.metrics.noise_detection_report``): AUROC, average precision and the
false-negative rate when flagging as many samples as there are noisy labels.

Run: ``python benchmarks/noise_detection.py [--seeds 0 1]`` (~10 min on a quiet CPU; K-fold
fits are checkpointed under ``runs/difficulty/bench_*`` and finished settings are cached in
``benchmarks/results/noise_detection_rows.jsonl``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
os.environ.setdefault("SAMPLESCOPE_DATA_DIR", str(REPO.parent / "shared" / "data"))

from samplescope.data import inject_label_noise, load_dataset  # noqa: E402
from samplescope.difficulty import compute_measures, generalization_error  # noqa: E402
from samplescope.io import atomic_write_json  # noqa: E402
from samplescope.metrics import noise_detection_report  # noqa: E402
from samplescope.models import mlp  # noqa: E402

OUT = REPO / "benchmarks" / "results"
ROWS = OUT / "noise_detection_rows.jsonl"
EPOCHS, BATCH, LR, PER_CLASS = 8, 128, 1e-3, 300
ONE_RUN = [
    "loss",
    "confidence",
    "margin",
    "entropy",
    "grad_norm",
    "last_layer_grad_norm",
    "action_score",
    "aum",
    "forgetting",
    "cartography_confidence",
    "cartography_variability",
    "cartography_correctness",
]
KFOLD = ["gen_error", "gen_bias", "gen_variance", "margin_mean", "gen_error_eq6"]


def model_fn(seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    return mlp((1, 28, 28), 10, hidden=(128,))


def neg_margin(logits: np.ndarray, y: np.ndarray) -> np.ndarray:
    rows = np.arange(len(y))
    other = logits.copy()
    other[rows, y] = -np.inf
    return other.max(1) - logits[rows, y]


def cleanlab_scores(y: np.ndarray, probs: np.ndarray) -> dict[str, np.ndarray]:
    from cleanlab.rank import get_label_quality_scores

    return {
        m: 1.0 - get_label_quality_scores(y, probs, method=m)
        for m in ("self_confidence", "normalized_margin")
    }


def run_setting(data: str, kind: str, seed: int) -> list[dict]:
    ds = load_dataset(data)
    rng = np.random.default_rng(seed)
    idx = np.sort(
        np.concatenate(
            [
                rng.choice(np.flatnonzero(ds.train.y == c), PER_CLASS, replace=False)
                for c in range(10)
            ]
        )
    )
    s = ds.train.subset(idx)
    y, noisy = inject_label_noise(
        s.y, 0.2, kind, 10, seed=seed, mapping=data if kind == "asymmetric" else None
    )
    s = s.with_labels(y)
    t0 = time.perf_counter()
    one = compute_measures(
        s,
        10,
        ONE_RUN,
        model_fn=model_fn,
        epochs=EPOCHS,
        batch_size=BATCH,
        lr=LR,
        seed=seed,
        progress=False,
    ).table
    t_one = time.perf_counter() - t0
    t0 = time.perf_counter()
    gen = generalization_error(
        s,
        10,
        folds=5,
        repeats=3,
        model_fn=model_fn,
        epochs=EPOCHS,
        batch_size=BATCH,
        lr=LR,
        seed=seed,
        checkpoint_dir=REPO / "runs" / "difficulty" / f"bench_{data}_{kind}_s{seed}",
        progress=False,
    )
    t_kfold = time.perf_counter() - t0
    scores: list[tuple[str, str, int, np.ndarray]] = []
    scores += [(m, "samplescope", 1, one.column(m)) for m in ONE_RUN]
    p0 = gen.oof_probs[0]
    scores += [
        ("oof_loss", "samplescope", 5, gen.table.column("oof_loss")),
        ("oof_margin", "samplescope", 5, neg_margin(gen.oof_logits[0], y)),
    ]
    scores += [(f"cleanlab {m}", "cleanlab", 5, v) for m, v in cleanlab_scores(y, p0).items()]
    scores += [(m, "samplescope", 15, gen.table.column(m)) for m in KFOLD]
    scores += [
        (f"cleanlab {m} (mean probs)", "cleanlab", 15, v)
        for m, v in cleanlab_scores(y, gen.mean_probs).items()
    ]
    rows = []
    for name, lib, runs, v in scores:
        rep = noise_detection_report(noisy, v)
        rows.append(
            {
                "data": data,
                "noise": f"{kind} 0.2",
                "seed": seed,
                "measure": name,
                "library": lib,
                "training_runs": runs,
                "auroc": rep["auroc"],
                "ap": rep["ap"],
                "fnr": rep["fnr_at_rate"],
                "noisy_fraction": float(noisy.mean()),
                "seconds_one_run": t_one,
                "seconds_15_runs": t_kfold,
            }
        )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    args = ap.parse_args()
    torch.set_num_threads(1)
    cached = [json.loads(x) for x in ROWS.read_text().splitlines()] if ROWS.is_file() else []
    rows = list(cached)
    for data in ("mnist", "fashion-mnist"):
        for kind in ("symmetric", "asymmetric"):
            for seed in args.seeds:
                if any(
                    r["data"] == data and r["noise"] == f"{kind} 0.2" and r["seed"] == seed
                    for r in rows
                ):
                    continue
                new = run_setting(data, kind, seed)
                ROWS.parent.mkdir(parents=True, exist_ok=True)
                with open(ROWS, "a") as fh:
                    fh.writelines(json.dumps(r) + "\n" for r in new)
                rows += new
                print(f"done {data} {kind} seed {seed}", flush=True)
    rows = [r for r in rows if r["seed"] in args.seeds]
    import pandas as pd

    df = pd.DataFrame(rows)
    agg = (
        df.groupby(["data", "noise", "measure", "library", "training_runs"], sort=False)[
            ["auroc", "ap", "fnr"]
        ]
        .mean()
        .reset_index()
    )
    summary = []
    for (data, noise), g in agg.groupby(["data", "noise"], sort=False):
        nf = df[(df.data == data) & (df.noise == noise)].noisy_fraction.mean()
        print(f"\n{data}, {noise} ({100 * nf:.1f}% of labels wrong), mean over seeds {args.seeds}")
        print(f"  {'measure':<40}{'library':<13}{'runs':>5}{'AUROC':>8}{'AP':>8}{'FNR':>8}")
        for _, r in g.iterrows():
            print(
                f"  {r.measure:<40}{r.library:<13}{r.training_runs:>5}{r.auroc:>8.4f}{r.ap:>8.4f}{r.fnr:>8.4f}"
            )
        for runs in (5, 15):
            ours = (
                g[(g.library == "samplescope") & (g.training_runs <= runs)]
                .sort_values("auroc")
                .iloc[-1]
            )
            cl = (
                g[(g.library == "cleanlab") & (g.training_runs == runs)]
                .sort_values("auroc")
                .iloc[-1]
            )
            summary.append(
                {
                    "data": data,
                    "noise": noise,
                    "runs": runs,
                    "best_samplescope": ours.measure,
                    "best_samplescope_auroc": ours.auroc,
                    "best_samplescope_ap": ours.ap,
                    "best_cleanlab": cl.measure,
                    "best_cleanlab_auroc": cl.auroc,
                    "best_cleanlab_ap": cl.ap,
                    "auroc_diff": ours.auroc - cl.auroc,
                }
            )
        ge = g[g.measure == "gen_error"].iloc[0]
        oof = g[g.measure == "oof_loss"].iloc[0]
        summary[-1].update(
            {
                "gen_error_auroc": ge.auroc,
                "oof_loss_auroc": oof.auroc,
                "gen_error_ap": ge.ap,
                "oof_loss_ap": oof.ap,
            }
        )
    print("\nbest samplescope measure (<= N runs) vs best cleanlab score (N runs), AUROC:")
    for s in summary:
        line = (
            f"  {s['data']:<14}{s['noise']:<17}{s['runs']:>3} runs: ours {s['best_samplescope']:<24}"
            f"{s['best_samplescope_auroc']:.4f}  cleanlab {s['best_cleanlab']:<36}{s['best_cleanlab_auroc']:.4f}"
            f"  diff {s['auroc_diff']:+.4f}"
        )
        if "gen_error_auroc" in s:
            line += (
                f"  | gen_error {s['gen_error_auroc']:.4f} vs oof_loss {s['oof_loss_auroc']:.4f}"
            )
        print(line)
    atomic_write_json(
        OUT / "noise_detection.json",
        {
            "rows": agg.to_dict("records"),
            "summary": summary,
            "seeds": args.seeds,
            "epochs": EPOCHS,
            "per_class": PER_CLASS,
        },
    )
    print(f"saved {OUT / 'noise_detection.json'}")


if __name__ == "__main__":
    main()
