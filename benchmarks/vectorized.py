"""Vectorised (stacked) training vs training the same models one after another.

Ours: ``samplescope.training.fit_many`` / ``heldout_logits`` (all M models in one stacked
network, batched matmuls, fused Adam step — the default since the redesign, issue 12). Baseline: a Python loop of
``samplescope.training.fit`` over the same models, seeds and rows (what every library
does), single-threaded in the same process. The max |Δlogit| column checks that both
produce the same models. Workloads: ensembles of M MLPs on digits (two widths), issue 3's
K-fold × repeats generalization error (its own sequential code path vs the stacked one),
and (full mode) an MNIST-10k ensemble with the 784-256-128-10 MLP.

Each workload also times two variants of ours against the same fp32 sequential baseline:
``exact=True`` (fp32, the op-by-op Adam arithmetic of ``torch.optim`` instead of the fused
step — the bit-for-bit mode) and ``precision="bf16"`` (mixed precision: bf16 matmuls, fp32
master weights and Adam). Every note gives the agreement with the exact stacked result:
max / mean |Δp| of the probabilities (ensembles: on the test split; K-fold: out-of-fold)
and the accuracy of both (test / out-of-fold).
"""

from __future__ import annotations

import functools

import numpy as np
import torch
from _common import best_of, row, standalone, warmup

from samplescope.models import mlp

VARIANTS = {  # tag -> extra fit_many / heldout_logits arguments
    "fp32 exact": {"exact": True},
    "bf16": {"precision": "bf16"},
}


def _softmax(z):
    z = z - z.max(-1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(-1, keepdims=True)


def _agreement(p_ref, p, y, name="acc"):
    """max / mean |Δp| against the fp32 result and the accuracy of both (p: (..., N, C))."""
    d = np.abs(p - p_ref)
    acc = lambda q: float((q.argmax(-1) == y).mean())  # noqa: E731
    return (
        f"vs exact fp32: max|dp| {d.max():.1e} mean|dp| {d.mean():.1e}; "
        f"{name} exact {acc(p_ref):.4f} / this {acc(p):.4f}"
    )


def _ensemble(split, test, M, hidden, epochs, batch_size, reps, label):
    from samplescope.training import fit, fit_many, predict_logits

    shape = split.x.shape[1:]
    fn = functools.partial(mlp, shape, 10, hidden)
    seeds = list(range(M))

    def ours(**kw):
        return fit_many(
            fn, split, seeds=seeds, epochs=epochs, batch_size=batch_size, vectorize=True, **kw
        )

    def loop():
        nets = []
        for s in seeds:
            torch.manual_seed(s)
            net = fn()
            fit(net, split, seed=s, epochs=epochs, batch_size=batch_size, progress=False)
            nets.append(net)
        return nets

    fns = {"ours": ours, "loop": loop}
    fns.update({v: functools.partial(ours, **kw) for v, kw in VARIANTS.items()})
    best, outs = best_of(fns, reps)
    x = split.x[:500]
    zo = outs["ours"].predict_logits(x)
    diff = max(
        float(np.abs(zo[m] - predict_logits(n, x)).max()) for m, n in enumerate(outs["loop"])
    )
    arch = "-".join(map(str, (int(np.prod(shape)), *hidden, 10)))
    workload = f"ensemble M={M} MLP {arch}, {label}, E={epochs}, B={batch_size}"
    rows = [
        row(
            workload,
            "fit_many (stacked)",
            best["ours"],
            "loop of training.fit",
            best["loop"],
            target=">= 3x",
            note=f"max |dlogit| vs the loop {diff:.1e}; "
            + _agreement(
                _softmax(outs["fp32 exact"].predict_logits(test.x)),
                _softmax(outs["ours"].predict_logits(test.x)),
                test.y,
                "test acc",
            ),
        )
    ]
    p_ref = _softmax(outs["fp32 exact"].predict_logits(test.x))  # (M, N_test, C)
    for v in VARIANTS:
        p = _softmax(outs[v].predict_logits(test.x))
        rows.append(
            row(
                f"{workload} [{v}]",
                f"fit_many (stacked), {VARIANTS[v]}",
                best[v],
                "loop of training.fit (fp32)",
                best["loop"],
                target=">= 3x",
                note=_agreement(p_ref, p, test.y, "test acc"),
            )
        )
    return rows


def _kfold(split, K, R, epochs, reps):
    from samplescope.difficulty.generalization import generalization_error
    from samplescope.models import default_model
    from samplescope.training import fold_assignments, heldout_logits

    C, seed = 10, 0
    fid = fold_assignments(split.y, K, R, seed)
    pairs, seeds = [], []
    for r in range(R):
        for k in range(K):
            pairs.append((np.flatnonzero(fid[r] != k), np.flatnonzero(fid[r] == k)))
            seeds.append(seed * 10007 + r * K + k)
    fn = functools.partial(default_model, split.x.shape[1:], C)

    def ours(**kw):
        outs = heldout_logits(fn, split, pairs, seeds=seeds, epochs=epochs, vectorize=True, **kw)
        z = np.zeros((R, len(split), C))
        for i, ((_, te), o) in enumerate(zip(pairs, outs, strict=True)):
            z[i // K, te] = o
        return z

    def seq():
        return generalization_error(
            split, C, folds=K, repeats=R, epochs=epochs, seed=seed, progress=False, vectorize=False
        ).oof_logits

    fns = {"ours": ours, "seq": seq}
    fns.update({v: functools.partial(ours, **kw) for v, kw in VARIANTS.items()})
    best, outs = best_of(fns, reps)
    diff = float(np.abs(outs["fp32 exact"] - outs["seq"]).max())
    workload = f"gen. error K={K} x R={R} (default MLP), digits, E={epochs}"
    rows = [
        row(
            workload,
            "heldout_logits (15 models stacked)",
            best["ours"],
            "generalization_error, one fit per fold",
            best["seq"],
            target=">= 3x",
            note=f"exact vs one by one: max |dlogit| {diff:.1e}; "
            + _agreement(_softmax(outs["fp32 exact"]), _softmax(outs["ours"]), split.y, "OOF acc"),
        )
    ]
    p_ref = _softmax(outs["fp32 exact"])  # (R, N, C) out-of-fold
    for v in VARIANTS:
        rows.append(
            row(
                f"{workload} [{v}]",
                f"heldout_logits (15 models stacked), {VARIANTS[v]}",
                best[v],
                "generalization_error, one fit per fold (fp32)",
                best["seq"],
                target=">= 3x",
                note=_agreement(p_ref, _softmax(outs[v]), split.y, "OOF acc"),
            )
        )
    return rows


def run(quick: bool) -> list[dict]:
    from samplescope.data import load_dataset

    warmup()
    ds = load_dataset("digits")
    digits, dtest = ds.train, ds.test
    E = 2 if quick else 5
    reps = 1 if quick else 2
    rows = [
        *_ensemble(digits, dtest, 10, (256, 128), E, 128, reps, "digits"),
        *_ensemble(digits, dtest, 10, (64, 32), E, 64, reps, "digits"),
        *_kfold(digits, 5, 3, E, reps),
    ]
    if not quick:
        mds = load_dataset("mnist")
        mn, mtest = mds.train.subset(np.arange(10_000)), mds.test.subset(np.arange(2_000))
        rows += _ensemble(mn, mtest, 5, (256, 128), 2, 128, 1, "MNIST-10k")
    return rows


if __name__ == "__main__":
    standalone("vectorized", run)
