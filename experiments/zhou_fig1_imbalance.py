"""Zhou et al. (2022) Fig. 1b: mean generalization error per class at imbalance ratio 10:1.

Protocol: 400 MNIST training images per class, then an exponential long tail (Cui et al.
2019) with ratio 10:1 (400 -> 40 images per class, 1,562 in all). So that the tail is not
always the same digits, each seed draws a random order of the classes along the tail.
Per-sample generalization error = mean held-out cross-entropy of 5-fold cross-validation
repeated twice (MLP 784-128-10, 8 epochs per fit); 3 seeds. The paper: CIFAR-10 /
ResNet-32; Fig. 1b shows larger mean error in the tail classes (qualitative).
Budget: 30 fits, ~2 min on a quiet CPU.

Run: ``python experiments/zhou_fig1_imbalance.py``.
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
from scipy.stats import spearmanr

from samplescope.data import make_imbalanced
from samplescope.io import atomic_write_json
from samplescope.report import plt, save_figure

OUT = ROOT / "results" / "zhou_fig1_imbalance"
RATIO = 10.0


def run_one(seed: int) -> dict:
    s = balanced_subset(dataset("mnist").train, 400, seed)
    order = np.random.default_rng(1000 + seed).permutation(10)  # order[r] = class at tail rank r
    rank_of = np.argsort(order)
    keep = make_imbalanced(rank_of[s.y], RATIO, "exponential", seed, num_classes=10)
    sub = s.subset(keep)
    res = kfold(sub, f"fig1_imb_s{seed}", seed=seed)
    err = res.table.column("gen_error")
    ranks = rank_of[sub.y]
    return {
        "seed": seed,
        "n": len(sub),
        "class_order": order.tolist(),
        "count_by_rank": np.bincount(ranks, minlength=10).tolist(),
        "err_by_rank": [float(err[ranks == r].mean()) for r in range(10)],
        "bias_by_rank": [float(res.table.column("gen_bias")[ranks == r].mean()) for r in range(10)],
        "var_by_rank": [
            float(res.table.column("gen_variance")[ranks == r].mean()) for r in range(10)
        ],
        "head_err": float(err[ranks < 5].mean()),
        "tail_err": float(err[ranks >= 5].mean()),
        "spearman_count_vs_class_err": float(
            spearmanr(
                np.bincount(ranks, minlength=10), [err[ranks == r].mean() for r in range(10)]
            )[0]
        ),
    }


def main() -> None:
    rows_path = OUT / "rows.jsonl"
    rows = load_rows(rows_path)
    for seed in SEEDS:
        if done(rows, seed=seed):
            continue
        row = run_one(seed)
        append_row(rows_path, row)
        rows.append(row)
        print(
            f"seed {seed}: head err {row['head_err']:.3f}  tail err {row['tail_err']:.3f}  "
            f"counts {row['count_by_rank']}",
            flush=True,
        )
    E = np.array([r["err_by_rank"] for r in rows])
    counts = rows[0]["count_by_rank"]
    print(
        f"\nZhou Fig. 1b reproduction: MNIST, imbalance {RATIO:g}:1 (exponential), 2 x 5-fold, {len(rows)} seeds"
    )
    print("paper (CIFAR-10, ResNet-32): tail classes have larger mean generalization error")
    print(f"{'tail rank':<10}{'images':>8}{'mean err':>18}")
    for r in range(10):
        print(f"{r:<10}{counts[r]:>8}{mean_std(E[:, r]):>18}")
    head = [r["head_err"] for r in rows]
    tail = [r["tail_err"] for r in rows]
    wins = sum(t > h for h, t in zip(head, tail, strict=True))
    rho = [r["spearman_count_vs_class_err"] for r in rows]
    print(
        f"head classes (ranks 0-4) mean err {mean_std(head)}; tail (ranks 5-9) {mean_std(tail)}; "
        f"tail > head in {wins}/{len(rows)} seeds"
    )
    print(
        f"Spearman(class size, class mean err) = {mean_std(rho)} (negative: smaller class, larger error)"
    )
    atomic_write_json(
        OUT / "summary.json",
        {
            "err_by_rank_mean": E.mean(0),
            "err_by_rank_std": E.std(0, ddof=1),
            "count_by_rank": counts,
            "head_err": head,
            "tail_err": tail,
            "tail_gt_head_seeds": f"{wins}/{len(rows)}",
            "spearman": rho,
        },
    )
    pyplot = plt()
    fig, ax = pyplot.subplots(figsize=(6, 3.6))
    ax.bar(range(10), E.mean(0), yerr=E.std(0, ddof=1), capsize=3, color="tab:blue", alpha=0.8)
    ax.set_xticks(range(10), [f"{r}\n({c})" for r, c in enumerate(counts)])
    ax.set_xlabel("class by tail rank (images)")
    ax.set_ylabel("mean generalization error")
    ax.set_title(f"MNIST, imbalance {RATIO:g}:1, mean ± std over {len(rows)} seeds")
    save_figure(fig, OUT / "fig1b_err_per_class.png")
    print(f"saved {OUT / 'fig1b_err_per_class.png'}")


if __name__ == "__main__":
    main()
