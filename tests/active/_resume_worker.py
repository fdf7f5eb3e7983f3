"""Subprocess worker for the kill-and-resume test: a tiny active-learning run on digits.

usage: python _resume_worker.py OUT_DIR SLEEP_SECONDS_PER_FIT
Writes OUT_DIR/result.json (labelled ids, labels, accuracies) when the run completes.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from samplescope.active import ActiveLoop, MCDropoutLearner, NoisyOracle
from samplescope.data import load_dataset
from samplescope.models import mlp


class SlowLearner(MCDropoutLearner):
    def __init__(self, sleep: float, **kw):
        super().__init__(lambda: mlp((1, 8, 8), 10, hidden=(32,), dropout=0.5), **kw)
        self.sleep = sleep

    def fit(self, train, seed):
        time.sleep(self.sleep)
        return super().fit(train, seed)


def main() -> None:
    out, sleep = Path(sys.argv[1]), float(sys.argv[2])
    torch.set_num_threads(1)
    ds = load_dataset("digits")
    pool = ds.train.subset(np.arange(400))
    test = ds.test.subset(np.arange(100))
    learner = SlowLearner(sleep, updates=10, batch_size=32, lr=1e-2, mc_samples=3)
    loop = ActiveLoop(
        learner,
        pool,
        test,
        acquisition="bald",
        initial=10,
        per_step=5,
        steps=4,
        pool_subset=80,
        oracle=NoisyOracle(pool, 0.2, 10, seed=1),
        checkpoint_dir=out,
        seed=11,
    )
    loop.run(resume=True)
    res = {
        "ids": loop.pool.labelled_ids.tolist(),
        "labels": loop.pool.labels.tolist(),
        "steps": loop.pool.acquired_step.tolist(),
        "acc": [r["accuracy"] for r in loop.history],
    }
    (out / "result.json").write_text(json.dumps(res))


if __name__ == "__main__":
    main()
