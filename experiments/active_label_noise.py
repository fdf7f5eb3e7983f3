"""Report §5.1 / §6.3 (Figs. 4–6, Tables 2–3): BALD vs random under a noisy labeller, and the
label-likelihood filter (keep a queried point iff p̄(y = given label | x) >= τ).

The labeller returns a wrong label (uniform over the other 9 classes) with probability r
for every acquired point (the initial 20 are clean). Curves: test accuracy vs labels
*queried* (rejected queries cost a label too). Rejection counts per step are reported
against the number of noisy labels among the queried ones ("optimal" = rejecting exactly
the noisy ones). Same reduced budget as ``gal_table1.py``; fewer steps. Resumable.

    nice -n 10 env OMP_NUM_THREADS=1 python experiments/active_label_noise.py [--steps 8] [--rates 0,0.1,0.2,0.3]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from gal_table1 import SETTINGS, make_learner, mnist_splits

from samplescope.active import LabelFilter, NoisyOracle, RunSpec, plot_curves, run_grid

OUT = Path(__file__).parent / "results" / "active_label_noise"
REPORT_T3 = {0.0: 0.39, 0.1: 1.47, 0.2: 2.98, 0.3: 4.96}  # avg rejected per step (dynamic τ)
REPORT_T2 = {"dynamic": 2.98, "0.1": 3.18, "0.25": 5.10}  # at 20% noise


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--rates", default="0.2,0,0.1,0.3")
    ap.add_argument("--taus", default="dynamic,0.1,0.25", help="thresholds compared at 20%% noise")
    args = ap.parse_args()
    torch.set_num_threads(1)
    train, test = mnist_splits()
    base = {
        "initial": SETTINGS["initial"],
        "per_step": SETTINGS["per_step"],
        "steps": args.steps,
        "pool_subset": SETTINGS["pool_subset"],
    }
    specs = []
    for rate in (float(r) for r in args.rates.split(",")):

        def kw(tau=None, rate=rate):
            d = dict(base, oracle=NoisyOracle(train, rate, 10, seed=100))
            if tau is not None:
                d["label_filter"] = LabelFilter(tau if tau == "dynamic" else float(tau))
            return d

        tag = f"r{int(rate * 100):02d}"
        specs += [
            RunSpec(f"{tag}_bald", "bald", 0, kw()),
            RunSpec(f"{tag}_random", "random", 0, kw()),
            RunSpec(f"{tag}_bald_filter_dynamic", "bald", 0, kw("dynamic")),
        ]
        if abs(rate - 0.2) < 1e-9:
            specs += [
                RunSpec(f"{tag}_bald_filter_{t}", "bald", 0, kw(t))
                for t in args.taus.split(",")
                if t != "dynamic"
            ]
    curves = run_grid(specs, make_learner, train, test, OUT, progress=False)
    curves["n_queried"] = curves["n_queried"].astype(int)
    plot_curves(
        curves,
        OUT / "curves.png",
        x="n_queried",
        title="Noisy labeller: BALD, filtered BALD, random",
    )
    print(
        "\nrun                         queried  acc@last  rejected/step  noisy/step  noisy rejected/step  "
        "excess  | report rejected/step"
    )
    for label, g in curves.groupby("label"):
        acq = g[g["step"] < g["step"].max()]
        rej = acq["rejected"].mean() if "rejected" in acq else 0.0
        noisy = acq["noisy_queried"].mean()
        noisy_rej = acq["noisy_rejected"].mean()
        excess = f"{(rej - noisy) / noisy:+.0%}" if noisy > 0 and "filter" in label else "—"
        rate = int(label[1:3]) / 100
        ref = ""
        if "filter_dynamic" in label:
            ref = f"{REPORT_T3.get(rate, float('nan')):.2f}"
        elif "filter" in label:
            ref = f"{REPORT_T2.get(label.split('_')[-1], float('nan')):.2f}"
        last = g[g["step"] == g["step"].max()].iloc[0]
        print(
            f"{label:28s} {int(last['n_queried']):7d}  {last['accuracy']:.4f}  {rej:13.2f}  {noisy:10.2f}  "
            f"{noisy_rej:19.2f}  {excess:>6s}  | {ref}"
        )


if __name__ == "__main__":
    main()
