"""The whole speed/scale benchmark suite in one command, printing one table.

    python benchmarks/run_all.py [--quick] [--only kfold_vs_cleanlab,vectorized,...]

Each row is a workload with our time, the baseline's time measured in the same run (the two
alternated, best of the repeats), the ratio baseline/ours (> 1: ours faster), the target
and the 1-minute load average when it was measured (this machine is shared; rerun on a
quiet machine for reference numbers). Everything runs with one torch thread per process.
Sections:

- ``startup``: ``samplescope --help`` and ``import samplescope`` vs ``python -c pass``;
- ``kfold_vs_cleanlab``: K-fold out-of-fold probabilities / generalization error vs
  cleanlab's ``estimate_cv_predicted_probabilities`` (same MLP, folds, epochs, seeds);
- ``vectorized``: stacked training of M MLPs vs a loop of ``fit`` (ensembles, K-fold);
- ``executors``: local process pool vs in-process; Dask LocalCluster (2 workers) vs pool;
- ``throughput``: MC-dropout scoring of Gal's CNN at T = 20 vs a naive loop and Baal, with
  the plain forward pass and an fp32 GEMM ceiling; per-sample gradient norms vs a loop
  and torch.func;
- ``streaming``: 1M-image pool scored to Parquet, peak RSS.

Full mode takes ~10-20 min on 2 idle cores; ``--quick`` a few minutes. Results:
``benchmarks/results/run_all.json`` (and one JSON per section).
"""

from __future__ import annotations

import argparse
import importlib
import time
import traceback

import torch
from _common import print_table, save

SECTIONS = ("startup", "kfold_vs_cleanlab", "vectorized", "executors", "throughput", "streaming")


def _merge_previous(rows: list[dict], chosen: list[str], quick: bool) -> list[dict]:
    import json

    from _common import RESULTS

    path = RESULTS / "run_all.json"
    if not path.is_file():
        return rows
    prev = json.loads(path.read_text())
    if bool(prev.get("quick")) != quick:
        return rows
    kept = [r for r in prev.get("rows", []) if r.get("section") not in chosen]
    merged = kept + rows
    return sorted(merged, key=lambda r: SECTIONS.index(r.get("section", SECTIONS[0])))


def main() -> None:
    ap = argparse.ArgumentParser(description="samplescope speed/scale benchmark suite")
    ap.add_argument("--quick", action="store_true", help="small sizes (a few minutes)")
    ap.add_argument("--only", default="", help="comma-separated sections: " + ",".join(SECTIONS))
    args = ap.parse_args()
    torch.set_num_threads(1)
    chosen = [s.strip() for s in args.only.split(",") if s.strip()] or list(SECTIONS)
    bad = [s for s in chosen if s not in SECTIONS]
    if bad:
        ap.error(f"unknown sections {bad}; choose from {list(SECTIONS)}")
    rows, failures = [], {}
    t0 = time.perf_counter()
    for name in chosen:
        print(f"[{time.perf_counter() - t0:6.0f}s] running {name} ...", flush=True)
        try:
            section = importlib.import_module(name).run(args.quick)
        except Exception as exc:  # one failing section must not hide the others
            failures[name] = "".join(traceback.format_exception(exc))[-2000:]
            print(f"  {name} failed: {exc!r}")
            continue
        for r in section:
            r["section"] = name
        save(name, section, quick=args.quick)
        rows += section
    if args.only:  # keep the other sections' rows of the last saved run
        rows = _merge_previous(rows, chosen, args.quick)
    print_table(rows, f"samplescope benchmarks ({'quick' if args.quick else 'full'})")
    path = save(
        "run_all", rows, quick=args.quick, failures=failures, total_seconds=time.perf_counter() - t0
    )
    print(f"\nsaved {path} ({time.perf_counter() - t0:.0f} s)")
    if failures:
        raise SystemExit(f"failed sections: {sorted(failures)}")


if __name__ == "__main__":
    main()
