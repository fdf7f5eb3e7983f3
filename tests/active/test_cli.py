"""``samplescope active`` end to end: curves CSV + plot + table, resume, executors, bad input."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd


def run(*args):
    return subprocess.run(
        [sys.executable, "-c", "from samplescope.cli import main; main()", "active", *args],
        capture_output=True,
        text=True,
        timeout=600,
    )


COMMON = (
    "--data", "digits", "--acquisition", "bald,random", "--initial", "20", "--per-step", "10",
    "--steps", "2", "--pool-subset", "200", "--mc-samples", "4", "--repeats", "2",
    "--updates", "20", "--test-subset", "150",
)  # fmt: skip


def test_active_cli_curves_resume_and_process_pool(tmp_path):
    a = tmp_path / "a"
    r = run(*COMMON, "--out", str(a))
    assert r.returncode == 0, r.stderr
    assert "to 10% err" in r.stdout and "mutual_information" in r.stdout
    curves = pd.read_csv(a / "curves.csv")
    assert set(curves["label"]) == {"mutual_information", "random"}  # old name "bald" accepted
    assert len(curves) == 2 * 2 * 3  # acquisitions × repeats × (steps + 1) evaluations
    assert sorted(curves["n_acquired"].unique()) == [0, 10, 20]
    assert (a / "curves.png").stat().st_size > 1000
    # without --resume an existing run directory is refused; with it, nothing is redone
    r = run(*COMMON, "--out", str(a))
    assert r.returncode == 2 and "--resume" in r.stderr
    r = run(*COMMON, "--out", str(a), "--resume")
    assert r.returncode == 0, r.stderr
    pd.testing.assert_frame_equal(pd.read_csv(a / "curves.csv"), curves)
    # the runs fanned out over a process pool give the same curves
    b = tmp_path / "b"
    r = run(*COMMON, "--out", str(b), "--executor", "process:2")
    assert r.returncode == 0, r.stderr
    key = ["label", "repeat", "n_acquired"]
    ca = curves.sort_values(key).reset_index(drop=True)
    cb = pd.read_csv(b / "curves.csv").sort_values(key).reset_index(drop=True)
    pd.testing.assert_series_equal(ca["accuracy"], cb["accuracy"])


def test_active_cli_bad_input(tmp_path):
    out = str(tmp_path / "x")
    r = run("--data", "digits", "--acquisition", "bald,nope", "--out", out)
    assert r.returncode == 2 and "acquisition: expected names from" in r.stderr
    r = run("--data", "digits", "--device", "warp-drive", "--out", out)
    assert r.returncode == 2 and "device: expected a torch device" in r.stderr
    r = run("--data", "digits", "--dense-l2", "-1", "--out", out)
    assert r.returncode == 2 and "dense_l2" in r.stderr
    r = run("--data", "digits", "--executor", "threads", "--out", out)
    assert r.returncode == 2 and "executor: expected one of" in r.stderr
