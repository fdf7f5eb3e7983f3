"""Experiment 4 (issue 4): the Prop. 6 trade-off — test error vs D_χ² of the hard-first weights.

Claim tested (Zhou et al. 2022, Theorem 2 / Proposition 6): up-weighting hard samples lowers
the margin term (I) of the bound but raises the χ² term (II); the test error should therefore
first fall and then rise as the weights concentrate on hard samples (a U shape in D_χ²).

Protocol: the long-tailed MNIST sets of experiment 1 (400/class, exponential tail, 10:1 and
100:1; same gen_error tables, reused from ``results/weighting_imbalance/gen_error``), MLP
784-256-10, Adam 1e-3, batch 64, 15 epochs. Weights: ``hard_first`` on gen_error (rank
normalisation, ``w ∝ exp(rank/t)``) for t ∈ {∞ (uniform), 8, 4, 2, 1, 0.5, 0.25, 0.125,
0.0625, 1/32, 1/64} (the last two added after a first run of the sweep had not reached a
rising branch at 100:1), with ``D_χ² = Σ_i (ŵ_i - 1)²/N`` (weighted ‖ uniform, ŵ = mean-one weights). Also one
run with ``chi2_cap=1`` (the temperature solved so that D_χ² = 1). Test error = 1 - accuracy on
the balanced MNIST test set; 3 seeds. About 4 CPU-minutes.

Run: ``python experiments/weighting_tradeoff.py`` (resumable).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from weighting_common import ROOT, ResultLog, mean_std, mnist, train_eval
from weighting_imbalance import gen_error_for

from samplescope.report import plt, save_figure
from samplescope.weighting import chi2_divergence, hard_first_weights

OUT = ROOT / "results" / "weighting_tradeoff"
RATIOS = (10, 100)
SEEDS = (0, 1, 2)
EPOCHS = 15
TEMPS = (np.inf, 8.0, 4.0, 2.0, 1.0, 0.5, 0.25, 0.125, 0.0625, 0.03125, 0.015625)
CAP = 1.0


def main() -> None:
    log = ResultLog(OUT / "runs.jsonl")
    test = mnist().test
    for ratio in RATIOS:
        for seed in SEEDS:
            train, ge = gen_error_for(ratio, seed)
            settings = [(f"t={t:g}", {"temperature": t}) for t in TEMPS] + [
                (f"cap={CAP:g}", {"chi2_cap": CAP})
            ]
            for label, p in settings:
                key = f"r{ratio}/s{seed}/{label}"
                if key in log:
                    continue
                if p.get("temperature") == np.inf:
                    w, t_used = np.ones(len(train)), np.inf
                else:
                    hw = hard_first_weights(ge, **p)
                    w, t_used = hw.weights, hw.temperature
                row = train_eval(
                    train,
                    test,
                    "uniform" if t_used == np.inf else _fixed(w),
                    seed=seed,
                    epochs=EPOCHS,
                )
                row.update(
                    chi2=chi2_divergence(w),
                    temperature=float(t_used),
                    tail_weight_share=float(w[train.y >= 5].sum() / w.sum()),
                    tail_sample_share=float((train.y >= 5).mean()),
                )
                log.add(key, {"ratio": ratio, "seed": seed, "setting": label, **row})
                print(
                    f"{key}: D_chi2 {row['chi2']:.3f} test err {1 - row['test_acc']:.4f}",
                    flush=True,
                )
    df = pd.DataFrame(log.rows.values())
    df["test_err"] = 1 - df.test_acc
    df["balanced_err"] = 1 - df.balanced_acc
    df.drop(columns=["per_class_acc"]).to_csv(OUT / "runs.csv", index=False)
    print(
        "\nPaper (Zhou Prop. 6, qualitative): test error is U-shaped in the hard-sample emphasis / D_chi2."
    )
    print(
        "Ours (mean ± std over 3 seeds; test error on the balanced MNIST test set; 'tail weight' ="
    )
    print("share of the total weight on classes 5-9; paired diff = same seed minus uniform):")
    summ = []
    for ratio in RATIOS:
        print(f"\nimbalance {ratio}:1")
        print(
            f"{'setting':<12}{'temperature':>12}{'D_chi2':>10}{'tail weight':>12}{'test error':>18}"
            f"{'paired diff vs uniform':>24}"
        )
        base = df[(df.ratio == ratio) & (df.setting == "t=inf")].set_index("seed").test_err
        for label in [f"t={t:g}" for t in TEMPS] + [f"cap={CAP:g}"]:
            d = df[(df.ratio == ratio) & (df.setting == label)]
            if d.empty:
                continue
            print(
                f"{label:<12}{d.temperature.mean():>12.4g}{d.chi2.mean():>10.3f}{d.tail_weight_share.mean():>12.3f}"
                f"{mean_std(d.test_err):>18}{mean_std(d.set_index('seed').test_err - base):>24}"
            )
            summ.append(
                {
                    "ratio": ratio,
                    "setting": label,
                    "temperature": d.temperature.mean(),
                    "chi2": d.chi2.mean(),
                    "test_err_mean": d.test_err.mean(),
                    "test_err_std": d.test_err.std(ddof=1),
                }
            )
        s = pd.DataFrame([r for r in summ if r["ratio"] == ratio and r["setting"].startswith("t=")])
        best = s.loc[s.test_err_mean.idxmin()]
        print(
            f"lowest mean test error at {best.setting} (D_chi2 {best.chi2:.3f}); "
            f"uniform {s.test_err_mean.iloc[0]:.4f}, most concentrated {s.test_err_mean.iloc[-1]:.4f}"
        )
    pd.DataFrame(summ).to_csv(OUT / "summary.csv", index=False)
    p = plt()
    fig, axes = p.subplots(1, len(RATIOS), figsize=(10, 4))
    for ax, ratio in zip(axes, RATIOS, strict=True):
        s = pd.DataFrame([r for r in summ if r["ratio"] == ratio and r["setting"].startswith("t=")])
        ax.errorbar(np.log1p(s.chi2), s.test_err_mean, yerr=s.test_err_std, marker="o", capsize=3)
        for _, r in s.iterrows():
            ax.annotate(
                r.setting,
                (np.log1p(r.chi2), r.test_err_mean),
                fontsize=7,
                xytext=(3, 3),
                textcoords="offset points",
            )
        ax.set_xlabel("log(1 + D_chi2(weighted || uniform))")
        ax.set_ylabel("test error")
        ax.set_title(f"hard-first by gen_error, MNIST {ratio}:1")
    fig.tight_layout()
    save_figure(fig, OUT / "tradeoff.png")
    print(f"\nsaved {OUT / 'tradeoff.png'}")


def _fixed(w: np.ndarray):
    """A static Transform returning precomputed weights ``w`` (aligned with the training rows)."""
    from samplescope.weighting import Transform

    return Transform("precomputed", lambda v, ctx: w)


if __name__ == "__main__":
    main()
