"""Zhou et al. (2022) Fig. 1a: generalization error of noisy vs clean samples, 10% label noise.

Protocol: 2,000 MNIST training images (200 per class), 10% uniform (symmetric: a label moves
to one of the other 9 classes at random) or 10% flip noise (pair flip c -> c+1); per-sample
generalization error = mean held-out cross-entropy of 5-fold cross-validation repeated twice
(MLP 784-128-10, 8 epochs per fit); 3 seeds (subset, noise and folds all change).
The paper: CIFAR-10 / ResNet-32, one 5-fold run; Fig. 1a shows noisy samples with larger
error than clean ones (qualitative, no numbers given). Budget: 60 fits, ~3 min on a quiet CPU.

Run: ``python experiments/zhou_fig1_noise.py``.
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
from sklearn.metrics import roc_auc_score

from samplescope.data import inject_label_noise
from samplescope.io import atomic_write_json
from samplescope.report import plt, save_figure

OUT = ROOT / "results" / "zhou_fig1_noise"
KINDS = {"uniform": "symmetric", "flip": "pairflip"}
RATE = 0.1


def run_one(kind: str, seed: int) -> tuple[dict, np.ndarray, np.ndarray]:
    s = balanced_subset(dataset("mnist").train, 200, seed)
    y, noisy = inject_label_noise(s.y, RATE, KINDS[kind], 10, seed=seed)
    res = kfold(s.with_labels(y), f"fig1_noise_{kind}_s{seed}", seed=seed)
    t = res.table
    err = t.column("gen_error")
    row = {
        "kind": kind,
        "seed": seed,
        "n": len(s),
        "n_noisy": int(noisy.sum()),
        "err_noisy": err[noisy].mean(),
        "err_clean": err[~noisy].mean(),
        "bias_noisy": t.column("gen_bias")[noisy].mean(),
        "bias_clean": t.column("gen_bias")[~noisy].mean(),
        "var_noisy": t.column("gen_variance")[noisy].mean(),
        "var_clean": t.column("gen_variance")[~noisy].mean(),
        "auroc_gen_error": roc_auc_score(noisy, err),
        "median_err_noisy": float(np.median(err[noisy])),
        "median_err_clean": float(np.median(err[~noisy])),
    }
    return row, err, noisy


def main() -> None:
    rows_path = OUT / "rows.jsonl"
    rows = load_rows(rows_path)
    example: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for kind in KINDS:
        for seed in SEEDS:
            if done(rows, kind=kind, seed=seed) and seed != SEEDS[0]:
                continue
            row, err, noisy = run_one(
                kind, seed
            )  # seed 0 reruns from its checkpoints for the figure
            if seed == SEEDS[0]:
                example[kind] = (err, noisy)
            if not done(rows, kind=kind, seed=seed):
                append_row(rows_path, row)
                rows.append(row)
            print(
                f"{kind:<8} seed {seed}: err noisy {row['err_noisy']:.3f}  clean {row['err_clean']:.3f}  "
                f"AUROC {row['auroc_gen_error']:.3f}",
                flush=True,
            )
    summary = {}
    print(
        f"\nZhou Fig. 1a reproduction: MNIST 2,000 images, MLP, 10% noise, 2 x 5-fold, {len(SEEDS)} seeds"
    )
    print(
        "paper (CIFAR-10, ResNet-32): noisy samples have larger generalization error than clean ones"
    )
    print(
        f"{'noise':<9}{'err noisy':>18}{'err clean':>18}{'bias noisy':>16}{'var noisy':>16}{'var clean':>16}"
        f"{'noisy>clean':>13}"
    )
    for kind in KINDS:
        rs = [r for r in rows if r["kind"] == kind]
        wins = sum(r["err_noisy"] > r["err_clean"] for r in rs)
        summary[kind] = {k: [r[k] for r in rs] for k in rs[0] if k not in ("kind",)}
        summary[kind]["noisy_gt_clean_seeds"] = f"{wins}/{len(rs)}"
        print(
            f"{kind:<9}{mean_std([r['err_noisy'] for r in rs]):>18}{mean_std([r['err_clean'] for r in rs]):>18}"
            f"{mean_std([r['bias_noisy'] for r in rs]):>16}{mean_std([r['var_noisy'] for r in rs]):>16}"
            f"{mean_std([r['var_clean'] for r in rs]):>16}{wins:>9}/{len(rs)}"
        )
    atomic_write_json(OUT / "summary.json", summary)
    pyplot = plt()
    fig, axes = pyplot.subplots(1, 2, figsize=(10, 3.6))
    for ax, kind in zip(axes, KINDS, strict=True):
        err, noisy = example[kind]
        bins = np.linspace(0, np.percentile(err, 99.5), 40)
        ax.hist(
            err[~noisy],
            bins=bins,
            alpha=0.6,
            density=True,
            label=f"clean (mean {err[~noisy].mean():.2f})",
        )
        ax.hist(
            err[noisy],
            bins=bins,
            alpha=0.6,
            density=True,
            label=f"noisy (mean {err[noisy].mean():.2f})",
        )
        ax.set_xlabel("generalization error (held-out CE)")
        ax.set_ylabel("density")
        ax.set_title(f"10% {kind} noise (MNIST, seed {SEEDS[0]})")
        ax.legend(fontsize=8)
    save_figure(fig, OUT / "fig1a_noisy_vs_clean.png")
    print(f"saved {OUT / 'fig1a_noisy_vs_clean.png'}, {OUT / 'summary.json'}")


if __name__ == "__main__":
    main()
