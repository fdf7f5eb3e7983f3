"""Shared helpers of the benchmark suite: timing under load, rows, the printed table.

Every row: ``workload``, ``ours`` / ``baseline`` (what ran), ``ours_s`` / ``baseline_s``
(seconds, best of the repeats, the two measured alternately in the same process so that
load drift hits both alike), ``ratio`` = baseline_s / ours_s (> 1: ours faster), ``target``,
``load`` (1-minute load average of the machine when the row was measured), ``note``.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
# MNIST files: $SAMPLESCOPE_DATA_DIR, else ../shared/data beside the repository (as the tests)
_SHARED = ROOT.parent.parent / "shared" / "data"
if "SAMPLESCOPE_DATA_DIR" not in os.environ and (_SHARED / "mnist.npz").is_file():
    os.environ["SAMPLESCOPE_DATA_DIR"] = str(_SHARED)


def load() -> float:
    return round(os.getloadavg()[0], 2)


def best_of(
    fns: dict[str, Callable[[], Any]], reps: int
) -> tuple[dict[str, float], dict[str, Any]]:
    """Run each callable ``reps`` times, interleaved; return best seconds and last outputs."""
    best = dict.fromkeys(fns, float("inf"))
    outs: dict[str, Any] = {}
    for _ in range(max(1, reps)):
        for k, fn in fns.items():
            t0 = time.perf_counter()
            outs[k] = fn()
            best[k] = min(best[k], time.perf_counter() - t0)
    return best, outs


def row(
    workload: str,
    ours: str,
    ours_s: float,
    baseline: str,
    baseline_s: float | None,
    *,
    target: str = "",
    note: str = "",
    **extra: Any,
) -> dict[str, Any]:
    ratio = None if not baseline_s or not ours_s else baseline_s / ours_s
    return {
        "workload": workload,
        "ours": ours,
        "ours_s": ours_s,
        "baseline": baseline,
        "baseline_s": baseline_s,
        "ratio": ratio,
        "target": target,
        "load": load(),
        "note": note,
        **extra,
    }


def _fmt(v: Any, width: int) -> str:
    if v is None:
        return f"{'-':>{width}}"
    if isinstance(v, float):
        return f"{v:>{width}.2f}" if abs(v) >= 0.1 else f"{v:>{width}.4f}"
    return f"{str(v):>{width}}"


def print_table(rows: list[dict[str, Any]], title: str = "") -> None:
    if title:
        print(f"\n== {title} ==")
    w = max([len(r["workload"]) for r in rows] + [8])
    print(
        f"{'workload':<{w}}  {'ours s':>9}  {'base s':>9}  {'ratio':>7}  {'target':<10} {'load':>5}  baseline / note"
    )
    for r in rows:
        ratio = "-" if r["ratio"] is None else f"{r['ratio']:.2f}x"
        print(
            f"{r['workload']:<{w}}  {_fmt(r['ours_s'], 9)}  {_fmt(r['baseline_s'], 9)}  "
            f"{ratio:>7}  {r['target']:<10} {r['load']:>5.2f}  {r['baseline']}"
            + (f" | {r['note']}" if r["note"] else "")
        )


def save(name: str, rows: list[dict[str, Any]], **meta: Any) -> Path:
    import platform

    import torch

    from samplescope.io import atomic_write_json

    path = RESULTS / f"{name}.json"
    atomic_write_json(
        path,
        {
            "rows": rows,
            "machine": {
                "cpu_count": os.cpu_count(),
                "torch": torch.__version__,
                "torch_threads": torch.get_num_threads(),
                "python": platform.python_version(),
                "loadavg_at_save": os.getloadavg(),
            },
            **meta,
        },
    )
    return path


def standalone(name: str, run: Callable[[bool], list[dict[str, Any]]]) -> None:
    """``python benchmarks/<name>.py [--quick]``: run, print, save."""
    import argparse

    import torch

    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="small sizes (a few minutes in all)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    rows = run(args.quick)
    print_table(rows, name)
    print(f"saved {save(name, rows, quick=args.quick)}")


def warmup() -> None:
    """One tiny fit first: the first ``torch.optim`` construction imports torch._dynamo (~1-3 s),
    which must not be charged to whichever method happens to run first."""
    import numpy as np
    import torch

    from samplescope.models import mlp
    from samplescope.training import fit

    x = np.random.default_rng(0).random((64, 4), dtype=np.float32)
    y = (x[:, 0] > 0.5).astype(np.int64)
    torch.manual_seed(0)
    fit(mlp(4, 2, (8,)), (x, y), epochs=1, batch_size=32, progress=False)
