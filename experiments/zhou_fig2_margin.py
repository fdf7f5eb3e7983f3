"""Zhou et al. (2022) Fig. 2: generalization error vs mean margin and vs epistemic uncertainty.

Protocol: 2,000 MNIST training images with 10% uniform label noise (so that some samples
are heavily noisy, the case Zhou discusses for epistemic uncertainty); 5-fold
cross-validation repeated 5 times (MLP 784-128-10, 8 epochs per fit), so every sample has 5
held-out predictions from models trained on different random training sets. Per sample:
``err`` = mean held-out cross-entropy; mean margin ``μ`` = mean over repeats of
``z_y - max_{j≠y} z_j``; margin variance ``σ²``; epistemic uncertainty = predictive variance of
the 5 predictions (Zhou eq. 7: ``mean_s ‖p_s‖² - ‖mean_s p_s‖²``, the paper's "predictive
variance of five predictions"). 3 seeds. Budget: 75 fits, ~4 min on a quiet CPU.

The paper (CIFAR-10 / ResNet-32, values normalised): err and the mean margin are negatively
correlated for most samples (Fig. 2a); err and epistemic uncertainty are positively
correlated for some samples and negatively for others (Fig. 2b). No numbers are given.

Run: ``python experiments/zhou_fig2_margin.py``.
"""

from __future__ import annotations

import numpy as np
from difficulty_common import (
    ROOT,
    SEEDS,
    append_row,
    balanced_subset,
    dataset,
    done,
    kfold,
    load_rows,
    mean_std,
)
from scipy.stats import pearsonr, spearmanr

from samplescope.data import inject_label_noise
from samplescope.difficulty import predictive_variance_score
from samplescope.io import atomic_write_json
from samplescope.report import plt, save_figure

OUT = ROOT / "results" / "zhou_fig2_margin"
REPEATS = 5


def measures(seed: int) -> dict[str, np.ndarray]:
    s = balanced_subset(dataset("mnist").train, 200, seed)
    y, noisy = inject_label_noise(s.y, 0.1, "symmetric", 10, seed=seed)
    res = kfold(s.with_labels(y), f"fig2_s{seed}", repeats=REPEATS, seed=seed)
    t = res.table
    return {
        "err": t.column("gen_error"),
        "mu": -t.column("margin_mean"),
        "sigma2": t.column("margin_var"),
        "eq6": t.column("gen_error_eq6"),
        "predictive_variance": predictive_variance_score(res.oof_probs),
        "gen_variance": t.column("gen_variance"),
        "noisy": noisy,
    }


def correlations(m: dict[str, np.ndarray]) -> dict[str, float]:
    err, mu, ep = m["err"], m["mu"], m["predictive_variance"]
    right, wrong = mu > 0, mu <= 0  # on average classified as the given label, or not
    out = {
        "pearson_err_margin": pearsonr(err, mu)[0],
        "spearman_err_margin": spearmanr(err, mu)[0],
        "spearman_err_margin_equal_sigma": _within_sigma_bins(err, mu, m["sigma2"]),
        "spearman_err_sigma2": spearmanr(err, m["sigma2"])[0],
        "spearman_err_eq6": spearmanr(err, m["eq6"])[0],
        "pearson_err_epistemic": pearsonr(err, ep)[0],
        "spearman_err_epistemic": spearmanr(err, ep)[0],
        "spearman_err_epistemic_mu_pos": spearmanr(err[right], ep[right])[0],
        "spearman_err_epistemic_mu_neg": spearmanr(err[wrong], ep[wrong])[0],
        "frac_mu_pos": right.mean(),
        "frac_noisy_among_mu_neg": m["noisy"][wrong].mean() if wrong.any() else float("nan"),
    }
    return {k: float(v) for k, v in out.items()}


def _within_sigma_bins(err: np.ndarray, mu: np.ndarray, s2: np.ndarray, bins: int = 5) -> float:
    """Mean Spearman(err, μ) inside quintiles of σ² (Zhou Prop. 5: equal variances)."""
    edges = np.quantile(s2, np.linspace(0, 1, bins + 1))
    idx = np.clip(np.searchsorted(edges, s2, side="right") - 1, 0, bins - 1)
    return float(np.mean([spearmanr(err[idx == b], mu[idx == b])[0] for b in range(bins)]))


def main() -> None:
    rows_path = OUT / "rows.jsonl"
    rows = load_rows(rows_path)
    example = None
    for seed in SEEDS:
        if done(rows, seed=seed) and seed != SEEDS[0]:
            continue
        m = measures(seed)
        if seed == SEEDS[0]:
            example = m
        if not done(rows, seed=seed):
            row = {"seed": seed, **correlations(m)}
            append_row(rows_path, row)
            rows.append(row)
        print(f"seed {seed} done", flush=True)
    keys = [k for k in rows[0] if k != "seed"]
    summary = {k: [r[k] for r in rows] for k in keys}
    atomic_write_json(OUT / "summary.json", summary)
    print(
        f"\nZhou Fig. 2 reproduction: MNIST 2,000 images, 10% uniform noise, {REPEATS} x 5-fold, {len(rows)} seeds"
    )
    print(
        "paper (CIFAR-10, ResNet-32): err vs mean margin negative for most samples; err vs epistemic"
    )
    print("uncertainty positive for some samples, negative for others (no numbers given)")
    labels = {
        "pearson_err_margin": "Pearson(err, mean margin μ)",
        "spearman_err_margin": "Spearman(err, μ)",
        "spearman_err_margin_equal_sigma": "Spearman(err, μ) within σ² quintiles",
        "spearman_err_sigma2": "Spearman(err, margin variance σ²)",
        "spearman_err_eq6": "Spearman(err, exp(-μ+σ²/2)) (eq. 6)",
        "pearson_err_epistemic": "Pearson(err, epistemic)",
        "spearman_err_epistemic": "Spearman(err, epistemic), all",
        "spearman_err_epistemic_mu_pos": "Spearman(err, epistemic), μ > 0",
        "spearman_err_epistemic_mu_neg": "Spearman(err, epistemic), μ <= 0",
        "frac_mu_pos": "fraction of samples with μ > 0",
        "frac_noisy_among_mu_neg": "fraction noisy among μ <= 0",
    }
    for k in keys:
        print(f"  {labels.get(k, k):<42}{mean_std(summary[k]):>18}")
    m = example
    assert m is not None

    def norm(v: np.ndarray) -> np.ndarray:
        return (v - v.min()) / (v.max() - v.min() + 1e-12)

    pyplot = plt()
    fig, axes = pyplot.subplots(1, 2, figsize=(10, 4))
    for ax, key, name in (
        (axes[0], "mu", "mean margin μ"),
        (axes[1], "predictive_variance", "epistemic uncertainty (predictive variance)"),
    ):
        for sel, lab, c in ((~m["noisy"], "clean", "tab:blue"), (m["noisy"], "noisy", "tab:red")):
            ax.scatter(norm(m[key])[sel], norm(m["err"])[sel], s=4, alpha=0.4, c=c, label=lab)
        ax.set_xlabel(f"{name} (normalised)")
        ax.set_ylabel("generalization error (normalised)")
        ax.legend(fontsize=8, markerscale=3)
    r = rows[0]
    axes[0].set_title(f"(a) Spearman {r['spearman_err_margin']:.2f}")
    axes[1].set_title(
        f"(b) Spearman μ>0: {r['spearman_err_epistemic_mu_pos']:.2f}, "
        f"μ≤0: {r['spearman_err_epistemic_mu_neg']:.2f}"
    )
    save_figure(fig, OUT / "fig2_err_vs_margin_uncertainty.png")
    print(f"saved {OUT / 'fig2_err_vs_margin_uncertainty.png'}")


if __name__ == "__main__":
    main()
