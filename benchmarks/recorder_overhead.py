"""Overhead of the DynamicsRecorder as a fraction of plain training time (target <= 5%).

Run: ``flock /tmp/samplescope-cpu.lock python benchmarks/recorder_overhead.py`` (a few
minutes on one core; resumable: rows go to ``benchmarks/results/recorder_overhead.jsonl``
as they finish and are skipped on restart; ``--fresh`` starts over). One thread.

Each row trains the same model on the same batches twice per repetition, interleaved:
the anchor without recording and the same run with the recorder (``history=False``, the
memory-bounded default) fed every batch (order A B, B A, ...). Two overheads: the
wall-clock ``t_recorder / t_anchor - 1`` (best of ``--reps`` each: on this shared machine
it moves by 10-20% with the other jobs' load), and, measured inside the recorded runs, the
time spent in the recorder's calls over the rest of the run (median over the repetitions:
load-robust, the number to read). Rows:

- ``loop/<model>``: a hand-written torch loop (Adam, cross-entropy); the recorder is fed by
  ``rec.update(ids, logits, labels, epoch=e, losses=per_sample)`` — any framework's case;
- ``fit/<model>``: :func:`samplescope.fit` without callbacks vs with
  ``TrainingDynamics(history=False)`` (the callback feeding the recorder by positions).

Models: ``mlp`` 784-256-128-10 on a 10,000-image MNIST subset, ``cnn`` (``small_cnn``) on
3,000 of them, ``digits-mlp`` 64-256-128-10 on digits (1,347 images: the smallest
per-batch compute, the worst case). Batch 128, 3 epochs (2 for the CNN).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
os.environ.setdefault("SAMPLESCOPE_DATA_DIR", str(REPO.parent / "shared" / "data"))

from samplescope.data import load_dataset  # noqa: E402
from samplescope.difficulty import DynamicsRecorder, TrainingDynamics  # noqa: E402
from samplescope.io import atomic_write_text  # noqa: E402
from samplescope.models import mlp, small_cnn  # noqa: E402
from samplescope.training import batch_order, fit  # noqa: E402

OUT = REPO / "benchmarks" / "results" / "recorder_overhead.jsonl"


def _load() -> str:
    return (
        Path("/proc/loadavg").read_text().split(" ")[0] if Path("/proc/loadavg").exists() else "?"
    )


def _data(name: str):
    if name == "digits":
        return load_dataset("digits").train
    n = 10_000 if name == "mnist" else 3_000  # "mnist-3k": the CNN rows
    tr = load_dataset("mnist").train
    return tr.subset(np.sort(np.random.default_rng(0).choice(len(tr), n, replace=False)))


def _model(kind: str, shape):
    torch.manual_seed(0)
    if kind == "cnn":
        return small_cnn(10, in_channels=shape[0], image_size=shape[-1])
    return mlp(shape, 10, hidden=(256, 128))


class _Timed(TrainingDynamics):
    """TrainingDynamics that adds the time spent in its hooks to ``self.spent``."""

    spent = 0.0

    def _timed(self, hook, *args):  # noqa: ANN001, ANN202
        t0 = time.perf_counter()
        hook(*args)
        self.spent += time.perf_counter() - t0

    def on_fit_start(self, state):  # noqa: ANN001, ANN201
        self._timed(super().on_fit_start, state)

    def on_batch_end(self, state, batch):  # noqa: ANN001, ANN201
        self._timed(super().on_batch_end, state, batch)

    def on_epoch_end(self, state):  # noqa: ANN001, ANN201
        self._timed(super().on_epoch_end, state)


def _loop(split, kind: str, epochs: int, record: bool) -> tuple[float, float]:
    model = _model(kind, split.x.shape[1:])
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y, ids = split.tensors()
    gen = torch.Generator().manual_seed(0)
    rec = DynamicsRecorder() if record else None
    spent = 0.0
    t0 = time.perf_counter()
    for e in range(epochs):
        for pos in batch_order(len(split), 128, gen):
            logits = model(x[pos])
            per = torch.nn.functional.cross_entropy(logits, y[pos], reduction="none")
            opt.zero_grad(set_to_none=True)
            per.mean().backward()
            opt.step()
            if rec is not None:
                t1 = time.perf_counter()
                rec.update(ids[pos], logits.detach(), y[pos], epoch=e, losses=per.detach())
                spent += time.perf_counter() - t1
    if rec is not None:
        t1 = time.perf_counter()
        rec.table()  # the final scores are part of the cost
        spent += time.perf_counter() - t1
    return time.perf_counter() - t0, spent


def _fit(split, kind: str, epochs: int, record: bool) -> tuple[float, float]:
    model = _model(kind, split.x.shape[1:])
    cbs = [_Timed(history=False)] if record else []
    t0 = time.perf_counter()
    fit(model, split, epochs=epochs, batch_size=128, callbacks=cbs, progress=False)
    if record:
        t1 = time.perf_counter()
        cbs[0].table()
        cbs[0].spent += time.perf_counter() - t1
    return time.perf_counter() - t0, cbs[0].spent if record else 0.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=4)
    ap.add_argument("--fresh", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(1)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    rows = {}
    if OUT.exists() and not args.fresh:
        for line in OUT.read_text().splitlines():
            r = json.loads(line)
            rows[r["row"]] = r
    plan = [
        (f"{how}/{name}", how, data, kind, ep)
        for how in ("loop", "fit")
        for name, data, kind, ep in (
            ("mlp", "mnist", "mlp", 3),
            ("cnn", "mnist-3k", "cnn", 2),
            ("digits-mlp", "digits", "mlp", 3),
        )
    ]
    cache = {}
    for row, how, data, kind, ep in plan:
        if row in rows:
            continue
        split = cache.setdefault(data, _data(data))
        run = _loop if how == "loop" else _fit
        load0 = _load()
        run(split, kind, 1, True)  # warm-up
        base, rec, inside = [], [], []
        for i in range(args.reps):  # interleaved A B B A ..., so drifting load hits both alike
            for record in (False, True) if i % 2 == 0 else (True, False):
                t, spent = run(split, kind, ep, record)
                (rec if record else base).append(t)
                if record:
                    inside.append(spent / (t - spent))
        r = {
            "row": row,
            "n": len(split),
            "epochs": ep,
            "anchor_s": min(base),
            "recorder_s": min(rec),
            "overhead": min(rec) / min(base) - 1.0,
            "in_run": float(np.median(inside)),
            "load": f"{load0} -> {_load()}",
        }
        rows[row] = r
        atomic_write_text(OUT, "".join(json.dumps(rows[k]) + "\n" for k in rows))
        print(json.dumps(r), flush=True)
    print(
        "\n| row | N | epochs | anchor s | with recorder s | wall-clock ratio - 1 "
        "| time in recorder / rest | load (1 min) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for row, *_ in plan:
        r = rows.get(row)
        if r:
            print(
                f"| {row} | {r['n']} | {r['epochs']} | {r['anchor_s']:.2f} | {r['recorder_s']:.2f} "
                f"| {100 * r['overhead']:+.1f}% | {100 * r['in_run']:.1f}% | {r['load']} |"
            )


if __name__ == "__main__":
    main()
