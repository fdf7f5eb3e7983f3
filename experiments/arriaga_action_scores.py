"""Arriaga & Valdenegro-Toro (2020) Fig. 1 (and the multi-term case of Figs. 2-6): hardest and
easiest samples by action score ``A(x) = Σ_epochs L(y, m(x; θ_e))``.

Protocol (reduced): the small CNN (2 conv blocks with BatchNorm, dense 128, dropout 0.25)
trained on 8,000 Fashion-MNIST training images for 8 epochs (Adam 1e-3, batch 128); as in
the paper, the loss of every sample of a held-out set (the first 5,000 Fashion-MNIST test
images) is evaluated at every epoch end and summed. The paper used CIFAR-10 with the Keras
example CNN (and SSD300 on PASCAL VOC for the multi-term loss); it reports images only.

Run 1, cross-entropy: one grid of the 10 hardest / 10 easiest test images, and the mean
action score per class (the paper's "biases": which classes the model learns with least
action). Run 2, a two-term loss mirroring a detector's positive / negative classification
terms: one-vs-all logistic loss ``pos = -log σ(z_y)``, ``neg = Σ_{j≠y} -log(1 - σ(z_j))``;
one grid per term. Budget: two trainings, ~3 min on a quiet CPU (scores cached as .npz).

Run: ``python experiments/arriaga_action_scores.py``.
"""

from __future__ import annotations

import numpy as np
import torch
from difficulty_common import ROOT, dataset
from scipy.stats import spearmanr
from torch import nn

from samplescope.difficulty import ActionScore
from samplescope.io import atomic_write_json
from samplescope.models import small_cnn
from samplescope.report import hardest_easiest_grid
from samplescope.training import fit

OUT = ROOT / "results" / "arriaga_action_scores"
N_TRAIN, N_TEST, EPOCHS, SEED = 8000, 5000, 8, 0


def pos_neg_loss(outputs: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
    """One-vs-all logistic loss split into its positive and negative terms, each ``(B,)``."""
    z = outputs
    onehot = nn.functional.one_hot(labels, z.shape[1]).to(z.dtype)
    per = nn.functional.binary_cross_entropy_with_logits(z, onehot, reduction="none")
    return {"positive": (per * onehot).sum(1), "negative": (per * (1 - onehot)).sum(1)}


def run(name: str, loss_fn=None) -> dict[str, np.ndarray]:
    cache = OUT / f"scores_{name}.npz"
    if cache.is_file():
        with np.load(cache) as z:
            return {k: z[k] for k in z.files}
    ds = dataset("fashion-mnist")
    train = ds.train.subset(
        np.sort(np.random.default_rng(SEED).choice(len(ds.train), N_TRAIN, replace=False))
    )
    test = ds.test.subset(np.arange(N_TEST))
    torch.manual_seed(SEED)
    model = small_cnn(10, 1, 28)
    act = ActionScore(split=test)
    res = fit(
        model,
        train,
        epochs=EPOCHS,
        batch_size=128,
        lr=1e-3,
        loss_fn=loss_fn,
        callbacks=[act],
        seed=SEED,
        progress=False,
    )
    acc = float(np.mean(act.correct_[-1]))
    print(
        f"{name}: trained {EPOCHS} epochs, train acc {res.history[-1]['train_acc']:.3f}, test acc {acc:.3f}",
        flush=True,
    )
    out = {k: v for k, v in act.scores().items()}
    out["sample_id"] = act.sample_ids
    out["test_acc"] = np.array(acc)
    np.savez(cache, **out)
    return out


def grid(scores: np.ndarray, ids: np.ndarray, name: str, fname: str) -> None:
    ds = dataset("fashion-mnist")
    pos = ds.test.positions(ids)
    hardest_easiest_grid(
        ds.test.x[pos],
        ds.test.y[pos],
        scores,
        OUT / fname,
        score_name=name,
        class_names=ds.class_names,
    )


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    ds = dataset("fashion-mnist")
    names = ds.class_names
    ce = run("cross_entropy")
    two = run("pos_neg", pos_neg_loss)
    y = ds.test.y[ds.test.positions(ce["sample_id"])]
    a = ce["action_score"]
    grid(a, ce["sample_id"], "action", "fig1_hardest_easiest_ce.png")
    for term in ("positive", "negative"):
        grid(two[f"action_score_{term}"], two["sample_id"], f"A_{term[:3]}", f"fig_{term}_term.png")
    per_class = {names[c]: float(a[y == c].mean()) for c in range(10)}
    order = sorted(per_class, key=per_class.get)
    k = 100
    easy_cls = np.bincount(y[np.argsort(a)[:k]], minlength=10)
    hard_cls = np.bincount(y[np.argsort(-a)[:k]], minlength=10)
    rho_terms = spearmanr(two["action_score_positive"], two["action_score_negative"])[0]
    rho_ce_total = spearmanr(a, two["action_score"])[0]
    print(
        f"\nArriaga Fig. 1 reproduction: Fashion-MNIST, small CNN, {EPOCHS} epochs, action over "
        f"{N_TEST} test images (paper: CIFAR-10, Keras CNN; images only, no numbers)"
    )
    print(
        f"test accuracy after training: CE {float(ce['test_acc']):.3f}, pos/neg loss {float(two['test_acc']):.3f}"
    )
    print("mean action score per class (least action first):")
    for c in order:
        print(f"  {c:<12}{per_class[c]:8.3f}")
    print(
        f"classes of the {k} easiest: "
        + ", ".join(f"{names[c]} {n}" for c, n in enumerate(easy_cls) if n)
    )
    print(
        f"classes of the {k} hardest: "
        + ", ".join(f"{names[c]} {n}" for c, n in enumerate(hard_cls) if n)
    )
    print(
        f"two-term loss: Spearman(action[positive], action[negative]) = {rho_terms:.3f}; "
        f"Spearman(CE action, pos+neg action) = {rho_ce_total:.3f}"
    )
    atomic_write_json(
        OUT / "summary.json",
        {
            "per_class_mean_action_ce": per_class,
            "easiest_100_class_counts": easy_cls,
            "hardest_100_class_counts": hard_cls,
            "spearman_pos_neg": rho_terms,
            "spearman_ce_vs_posneg_total": rho_ce_total,
            "test_acc_ce": float(ce["test_acc"]),
            "test_acc_posneg": float(two["test_acc"]),
            "settings": {
                "n_train": N_TRAIN,
                "n_test_scored": N_TEST,
                "epochs": EPOCHS,
                "seed": SEED,
            },
        },
    )
    print(f"saved grids and summary in {OUT}")


if __name__ == "__main__":
    main()
