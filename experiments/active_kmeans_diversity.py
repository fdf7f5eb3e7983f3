"""Report §5.2 / Fig. 7: k-means initial set and the cosine-similarity diversity penalty.

(a) Initial set: 2 per class chosen at random (Gal) vs the 2 points nearest the centroids
of a per-class k-means (k = 2) on the pixels; test accuracy of the CNN trained on the 20
initial labels, over ``--init-seeds`` seeds (report: +20% test accuracy).
(b) Early steps of BALD with the greedy diversity penalty ŝ - λ·max cos-sim (pixels),
λ ∈ ``--lambdas`` (λ < 0 prefers similar points); report: a small positive λ gains ~5%
accuracy over the first five steps, large λ hurts later. Same reduced budget as
``gal_table1.py``. Resumable.

    nice -n 10 env OMP_NUM_THREADS=1 python experiments/active_kmeans_diversity.py [--steps 5]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from gal_table1 import SETTINGS, make_learner, mnist_splits

from samplescope.active import RunSpec, plot_curves, run_grid

OUT = Path(__file__).parent / "results" / "active_kmeans_diversity"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--init-seeds", type=int, default=3)
    ap.add_argument("--lambdas", default="0,0.5,-0.5,2")
    args = ap.parse_args()
    torch.set_num_threads(1)
    train, test = mnist_splits()
    base = {
        "initial": SETTINGS["initial"],
        "per_step": SETTINGS["per_step"],
        "pool_subset": SETTINGS["pool_subset"],
    }
    init_specs = [
        RunSpec(f"init_{m}", "random", s, dict(base, steps=0, initial_method=m))
        for s in range(args.init_seeds)
        for m in ("balanced", "kmeans")
    ]
    div_specs = [
        RunSpec(
            f"bald_lambda{lam}",
            "bald",
            0,
            dict(base, steps=args.steps, batch_mode="diverse", diversity=float(lam)),
        )
        for lam in args.lambdas.split(",")
    ]
    curves = run_grid(init_specs + div_specs, make_learner, train, test, OUT, progress=False)
    init = curves[curves["label"].str.startswith("init_")]
    print("\n(a) test accuracy with the 20 initial labels (mean ± std over seeds)")
    print(init.groupby("label")["accuracy"].agg(["mean", "std", "size"]).round(4).to_string())
    div = curves[curves["label"].str.startswith("bald_lambda")]
    if len(div):
        plot_curves(
            div,
            OUT / "diversity_early_steps.png",
            title="BALD with diversity penalty λ (early steps)",
        )
        print("\n(b) BALD + diversity penalty: test accuracy per acquired labels")
        print(
            div.pivot_table(index="n_acquired", columns="label", values="accuracy")
            .round(3)
            .to_string()
        )


if __name__ == "__main__":
    main()
