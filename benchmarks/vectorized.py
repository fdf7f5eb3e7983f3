"""Vectorised (stacked) training vs training the same models one after another.

Ours: ``samplescope.parallel.fit_many`` / ``heldout_logits`` (all M models in one stacked
network, batched matmuls, fused Adam step). Baseline: a Python loop of
``samplescope.training.fit`` over the same models, seeds and rows (what every library
does), single-threaded in the same process. The max |Δlogit| column checks that both
produce the same models. Workloads: ensembles of M MLPs on digits (two widths), issue 3's
K-fold × repeats generalization error (its own sequential code path vs the stacked one),
and (full mode) an MNIST-10k ensemble with the 784-256-128-10 MLP.
"""

from __future__ import annotations

import functools

import numpy as np
import torch
from _common import best_of, row, standalone, warmup

from samplescope.models import mlp


def _ensemble(split, M, hidden, epochs, batch_size, reps, label):
    from samplescope.parallel import fit_many
    from samplescope.training import fit, predict_logits

    shape = split.x.shape[1:]
    fn = functools.partial(mlp, shape, 10, hidden)
    seeds = list(range(M))

    def ours():
        return fit_many(
            fn, split, seeds=seeds, epochs=epochs, batch_size=batch_size, vectorize=True
        )

    def loop():
        nets = []
        for s in seeds:
            torch.manual_seed(s)
            net = fn()
            fit(net, split, seed=s, epochs=epochs, batch_size=batch_size, progress=False)
            nets.append(net)
        return nets

    best, outs = best_of({"ours": ours, "loop": loop}, reps)
    x = split.x[:500]
    zo = outs["ours"].predict_logits(x)
    diff = max(
        float(np.abs(zo[m] - predict_logits(n, x)).max()) for m, n in enumerate(outs["loop"])
    )
    arch = "-".join(map(str, (int(np.prod(shape)), *hidden, 10)))
    return row(
        f"ensemble M={M} MLP {arch}, {label}, E={epochs}, B={batch_size}",
        "fit_many (stacked)",
        best["ours"],
        "loop of training.fit",
        best["loop"],
        target=">= 3x",
        note=f"max |dlogit| {diff:.1e}",
    )


def _kfold(split, K, R, epochs, reps):
    from samplescope.difficulty.generalization import generalization_error, stratified_fold_ids
    from samplescope.models import default_model
    from samplescope.parallel import heldout_logits

    C, seed = 10, 0
    fid = stratified_fold_ids(split.y, K, R, seed)
    pairs, seeds = [], []
    for r in range(R):
        for k in range(K):
            pairs.append((np.flatnonzero(fid[r] != k), np.flatnonzero(fid[r] == k)))
            seeds.append(seed * 10007 + r * K + k)
    fn = functools.partial(default_model, split.x.shape[1:], C)

    def ours():
        outs = heldout_logits(fn, split, pairs, seeds=seeds, epochs=epochs, vectorize=True)
        z = np.zeros((R, len(split), C))
        for i, ((_, te), o) in enumerate(zip(pairs, outs, strict=True)):
            z[i // K, te] = o
        return z

    def seq():
        return generalization_error(
            split, C, folds=K, repeats=R, epochs=epochs, seed=seed, progress=False, vectorize=False
        ).oof_logits

    best, outs = best_of({"ours": ours, "seq": seq}, reps)
    diff = float(np.abs(outs["ours"] - outs["seq"]).max())
    return row(
        f"gen. error K={K} x R={R} (default MLP), digits, E={epochs}",
        "heldout_logits (15 models stacked)",
        best["ours"],
        "generalization_error, one fit per fold",
        best["seq"],
        target=">= 3x",
        note=f"max |dlogit| {diff:.1e}",
    )


def run(quick: bool) -> list[dict]:
    from samplescope.data import load_dataset

    warmup()
    digits = load_dataset("digits").train
    E = 2 if quick else 5
    reps = 1 if quick else 2
    rows = [
        _ensemble(digits, 10, (256, 128), E, 128, reps, "digits"),
        _ensemble(digits, 10, (64, 32), E, 64, reps, "digits"),
        _kfold(digits, 5, 3, E, reps),
    ]
    if not quick:
        mn = load_dataset("mnist").train.subset(np.arange(10_000))
        rows.append(_ensemble(mn, 5, (256, 128), 2, 128, 1, "MNIST-10k"))
    return rows


if __name__ == "__main__":
    standalone("vectorized", run)
