"""Report §4 / Fig. 3: Bayesian last layer on the frozen 128-d features of Gal's CNN.

Every step the CNN is retrained from scratch on the labelled set (as in the Table 1
protocol), its penultimate features are frozen and a Bayesian linear regression head on
one-hot targets is fitted: analytic (matrix-normal posterior, Σ = I) or mean-field VI
(closed-form optimum). Acquisition: trace of the predictive covariance (plus a random
baseline with the analytic head). Reported: test RMSE (one-hot regression), mean
predictive variance and accuracy of argmax of the predictive mean vs acquired labels.
Report: MFVI has lower predictive variance but higher RMSE than the analytic posterior.
σ² = 0.1, s² = 1 (not tuned). Same reduced budget as ``gal_table1.py``. Resumable.

    nice -n 10 env OMP_NUM_THREADS=1 python experiments/active_bayes_last_layer.py [--steps 8]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from gal_table1 import SETTINGS, mnist_splits

from samplescope.active import LastLayerLearner, RunSpec, plot_curves, run_grid
from samplescope.models import gal_cnn

OUT = Path(__file__).parent / "results" / "active_bayes_last_layer"


def learner(method: str):
    return lambda: LastLayerLearner(
        gal_cnn,
        method=method,
        noise_var=0.1,
        prior_var=1.0,
        updates=SETTINGS["updates"],
        batch_size=SETTINGS["batch_size"],
        lr=SETTINGS["lr"],
        mc_samples=SETTINGS["mc_samples"],
        balanced_batches=SETTINGS["balanced_batches"],
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=8)
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
        RunSpec(
            "analytic_trace", "predictive_trace", 0, dict(kw), learner_factory=learner("analytic")
        ),
        RunSpec("mfvi_trace", "predictive_trace", 0, dict(kw), learner_factory=learner("mfvi")),
        RunSpec("analytic_random", "random", 0, dict(kw), learner_factory=learner("analytic")),
    ]
    curves = run_grid(specs, learner("analytic"), train, test, OUT, progress=False)
    plot_curves(curves, OUT / "rmse.png", y="rmse", title="Bayesian last layer: test RMSE")
    plot_curves(
        curves,
        OUT / "pred_var.png",
        y="mean_pred_var",
        title="Bayesian last layer: mean trace of cov",
    )
    print(
        curves.pivot_table(
            index="n_acquired", columns="label", values=["rmse", "mean_pred_var", "accuracy"]
        )
        .round(4)
        .to_string()
    )


if __name__ == "__main__":
    main()
