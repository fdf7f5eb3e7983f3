"""Start time: ``samplescope --help`` and ``import samplescope`` beside ``python -c pass``.

    python benchmarks/startup.py [--quick]

Each command runs as a fresh process (best of the repeats, the commands alternated so that
load drift hits them alike). Rows: ``samplescope --help`` (target < 0.5 s), ``import
samplescope``, the import of the CLI, and for scale ``import torch`` (what every command
imported eagerly before the lazy imports). ``ratio`` = baseline / ours as everywhere, with
``python -c pass`` (the interpreter's own start) as the baseline of every row.
"""

from __future__ import annotations

import shutil
import subprocess
import sys

from _common import best_of, row, standalone


def _proc(args: list[str]):
    def call() -> None:
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    return call


def run(quick: bool) -> list[dict]:
    py = sys.executable
    exe = shutil.which("samplescope") or ""
    cmds = {
        "python -c pass": _proc([py, "-c", "pass"]),
        "samplescope --help": _proc([exe, "--help"] if exe else [py, "-m", "samplescope.cli"]),
        "import samplescope": _proc([py, "-c", "import samplescope"]),
        "import samplescope.cli": _proc([py, "-c", "import samplescope.cli"]),
        "import torch": _proc([py, "-c", "import torch"]),
    }
    best, _ = best_of(cmds, 3 if quick else 7)
    base = best["python -c pass"]
    targets = {"samplescope --help": "< 0.5 s"}
    return [
        row(
            f"start: {name}",
            name,
            secs,
            "python -c pass",
            base,
            target=targets.get(name, ""),
            note=f"{secs - base:.3f} s above the bare interpreter",
        )
        for name, secs in best.items()
        if name != "python -c pass"
    ]


if __name__ == "__main__":
    standalone("startup", run)
