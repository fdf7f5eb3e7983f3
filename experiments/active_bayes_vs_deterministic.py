"""Gal et al. (2017) Fig. 2: Bayesian CNN (MC dropout) vs the same CNN used deterministically.

Deterministic counterparts (dropout off at scoring and test time, same training): max
entropy of the softmax (``entropy``) and 1 - max softmax (``least_confidence``, the
deterministic analogue of variation ratios; BALD is identically 0 without MC samples, so it
has no deterministic counterpart). The Bayesian curves are read from the Table 1 grid
(``experiments/results/gal_table1``, same seeds, same settings). Same reduced budget as
``gal_table1.py``. Resumable.

    nice -n 10 env OMP_NUM_THREADS=1 python experiments/active_bayes_vs_deterministic.py [--steps 15]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
import torch
from gal_table1 import OUT as GRID_OUT
from gal_table1 import SETTINGS, make_learner, mnist_splits

from samplescope.active import RunSpec, labels_to_reach, load_curves, plot_curves, run_grid

OUT = Path(__file__).parent / "results" / "active_bayes_vs_deterministic"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=15)
    ap.add_argument("--repeats", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(1)
    train, test = mnist_splits()
    kw = {
        "initial": SETTINGS["initial"],
        "per_step": SETTINGS["per_step"],
        "steps": args.steps,
        "pool_subset": SETTINGS["pool_subset"],
    }
    specs = [
        RunSpec(f"det_{a}", a, r, dict(kw), learner_factory=lambda: make_learner(bayesian=False))
        for r in range(args.repeats)
        for a in ("entropy", "least_confidence")
    ]
    det = run_grid(specs, make_learner, train, test, OUT, progress=False)
    bayes = load_curves(GRID_OUT) if (GRID_OUT / "runs").exists() else pd.DataFrame()
    if len(bayes):
        bayes = bayes[
            bayes["label"].isin(["bald", "variation_ratios", "max_entropy"])
            & (bayes["repeat"] < args.repeats)
            & (bayes["n_acquired"] <= kw["per_step"] * args.steps)
        ]
        bayes = bayes.assign(label="bayes_" + bayes["label"])
    both = pd.concat([det, bayes], ignore_index=True)
    plot_curves(both, OUT / "curves.png", title="Bayesian (MC dropout) vs deterministic CNN")
    print(f"\nTest accuracy after N acquired labels (repeat 0..{args.repeats - 1} mean)")
    piv = both.groupby(["label", "n_acquired"])["accuracy"].mean().unstack(0)
    print(piv.iloc[:: max(1, len(piv) // 8)].round(3).to_string())
    for err in (0.2, 0.1):
        print(f"labels to {err:.0%} error:", {k: v for k, v in labels_to_reach(both, err).items()})
    print(
        "\nGal Fig. 2: the Bayesian versions of BALD / Var Ratios / Max Entropy lie above their deterministic "
        "counterparts, most clearly over the first ~300 acquired labels."
    )


if __name__ == "__main__":
    main()
