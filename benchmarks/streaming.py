"""Streaming a million-sample pool to Parquet: peak memory and throughput.

A child process (so that its peak RSS is this run's alone) trains the MNIST MLP
784-256-128-10 for one epoch on 5 000 images, loads the base images, records its RSS,
then scores a :class:`SyntheticPool` of ``--n`` images (MNIST training images tiled with
Gaussian noise σ = 0.1, generated chunk by chunk, never materialised) with
:class:`LogitScorer` through :func:`stream_scores` into a Parquet ScoreTable (chunks of
4 096 rows, row groups of 65 536). Reported: seconds, images/s, extra peak RSS over the
pre-streaming RSS (target < 1 GB; the peak is the kernel's VmHWM reset just before
streaming, cross-checked by sampling RSS every 20 ms), total peak RSS, and for scale the size the pool's
inputs would take in memory. The Parquet file is read back to check its row count.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import row, standalone


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _vm_hwm() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def child(n: int, out: str) -> None:
    import resource
    import threading
    import time

    import numpy as np
    import psutil
    import torch

    from samplescope.data import load_dataset
    from samplescope.models import mlp
    from samplescope.scoring import LogitScorer, SyntheticPool, stream_scores
    from samplescope.training import fit

    torch.set_num_threads(1)
    tr = load_dataset("mnist").train
    torch.manual_seed(0)
    model = mlp((1, 28, 28), 10)
    fit(model, tr.subset(np.arange(5000)), epochs=1, progress=False)
    pool = SyntheticPool(n, "mnist", noise=0.1, seed=0)
    pool._base()  # the base images are loaded before the baseline RSS
    import pyarrow.parquet  # noqa: F401  (library import, not streaming memory)

    del tr
    proc = psutil.Process()
    rss0 = proc.memory_info().rss
    # the lifetime peak (ru_maxrss) includes loading MNIST; reset the kernel's peak counter
    # (VmHWM) so that it covers the streaming alone, and sample RSS as a cross-check
    hwm_reset = _reset_peak()
    sampled = [rss0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.02):
            sampled.append(proc.memory_info().rss)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    t0 = time.perf_counter()
    res = stream_scores(LogitScorer(model), pool, out, chunk_size=4096, progress=False)
    seconds = time.perf_counter() - t0
    stop.set()
    th.join()
    peak = max(max(sampled), _vm_hwm() if hwm_reset else 0)
    lifetime_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    import pyarrow.parquet as pq

    rows = pq.ParquetFile(out).metadata.num_rows
    print(
        json.dumps(
            {
                "rows": res.rows,
                "rows_read_back": rows,
                "seconds": seconds,
                "images_per_s": res.rows / seconds,
                "rss_before_mb": rss0 / 2**20,
                "peak_rss_mb": peak / 2**20,
                "lifetime_peak_rss_mb": lifetime_peak / 2**20,
                "peak_source": "VmHWM after clear_refs + 20 ms sampling"
                if hwm_reset
                else "20 ms sampling",
                "extra_peak_mb": (peak - rss0) / 2**20,
                "parquet_mb": os.path.getsize(out) / 2**20,
                "pool_in_memory_mb": n * 784 * 4 / 2**20,
            }
        )
    )


def run(quick: bool) -> list[dict]:
    n = 100_000 if quick else 1_000_000
    with tempfile.TemporaryDirectory() as d:
        out = str(Path(d) / "pool.parquet")
        env = dict(os.environ, OMP_NUM_THREADS="1")
        r = subprocess.run(
            [sys.executable, __file__, "--child", str(n), out],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
    if r.returncode != 0:
        raise RuntimeError(f"streaming child failed:\n{r.stderr[-3000:]}")
    m = json.loads(r.stdout.strip().splitlines()[-1])
    return [
        row(
            f"stream {n:,} synthetic MNIST images -> Parquet",
            "stream_scores + LogitScorer (MLP)",
            m["seconds"],
            "in-memory pool (inputs alone)",
            None,
            target="< 1 GB extra",
            note=(
                f"{m['images_per_s']:.0f} img/s; extra peak RSS {m['extra_peak_mb']:.0f} MB "
                f"(total {m['peak_rss_mb']:.0f} MB) vs {m['pool_in_memory_mb']:.0f} MB for the "
                f"pool in memory; {m['rows_read_back']:,} rows, {m['parquet_mb']:.0f} MB Parquet"
            ),
            **m,
        )
    ]


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(int(sys.argv[2]), sys.argv[3])
    else:
        standalone("streaming", run)
