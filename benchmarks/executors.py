"""Fan-out executors on one real workload: issue 3's K-fold generalization error.

``generalization_error(..., executor=X)`` sends every fold × repeat fit to ``run_tasks``.
Rows: local process pool (loky, 2 workers × 1 torch thread) vs in-process (1 thread);
Dask local cluster (2 single-threaded worker processes on 127.0.0.1) vs the local pool.
Pools are warm (workers started, torch imported and an optimizer built by warm-up tasks,
timed separately in the note): a long-lived pool or cluster pays that once. The results must be identical
(max |Δlogit| column). On a 2-core machine the ideal ratio is 2x for the pool; Dask adds
scheduling and serialisation per task.
"""

from __future__ import annotations

import time

import numpy as np
from _common import best_of, row, standalone, warmup


def run(quick: bool) -> list[dict]:
    from samplescope.cli.executor_probe import warm_up_task
    from samplescope.data import load_dataset
    from samplescope.difficulty.generalization import generalization_error
    from samplescope.executors import executor_context, run_tasks

    warmup()
    if quick:
        split, E, label = load_dataset("digits").train, 6, "digits"
    else:
        split, E, label = load_dataset("mnist").train.subset(np.arange(4000)), 5, "MNIST-4k"
    K, R = 4, 1

    def job(executor):
        return lambda: (
            generalization_error(
                split, 10, folds=K, repeats=R, epochs=E, seed=0, progress=False, executor=executor
            ).oof_logits
        )

    t0 = time.perf_counter()
    run_tasks(warm_up_task, [(0.3,)] * 4, "process", workers=2)  # start + warm the workers
    start_pool = time.perf_counter() - t0
    best, outs = best_of({"pool": job("process"), "inproc": job(None)}, 1 if quick else 2)
    d1 = float(np.abs(outs["pool"] - outs["inproc"]).max())
    rows = [
        row(
            f"gen. error K={K}, {label}, MLP, E={E}: {K} fits",
            "local process pool (2 workers)",
            best["pool"],
            "in-process (1 thread)",
            best["inproc"],
            target="~2x ideal",
            note=f"max |dlogit| {d1:.1e}; pool start {start_pool:.1f}s",
        )
    ]
    t0 = time.perf_counter()
    with executor_context("dask", workers=2) as dask:
        run_tasks(warm_up_task, [(0.3,)] * 4, dask)
        start_dask = time.perf_counter() - t0
        best2, outs2 = best_of({"dask": job(dask), "pool": job("process")}, 1 if quick else 2)
    d2 = float(np.abs(outs2["dask"] - outs["inproc"]).max())
    rows.append(
        row(
            f"gen. error K={K}, {label}, MLP, E={E}: {K} fits",
            "dask LocalCluster (2 workers, 127.0.0.1)",
            best2["dask"],
            "local process pool (2 workers)",
            best2["pool"],
            target="~1x",
            note=f"max |dlogit| {d2:.1e}; cluster start {start_dask:.1f}s; ratio = pool/dask",
        )
    )
    return rows


if __name__ == "__main__":
    standalone("executors", run)
