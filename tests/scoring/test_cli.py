"""``samplescope score-pool`` and ``samplescope executor`` end to end (digits, tiny sizes)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from samplescope.cli import app

runner = CliRunner()


def test_score_pool_synthetic(tmp_path):
    out = tmp_path / "pool"
    r = runner.invoke(
        app,
        [
            "score-pool",
            "--pool",
            "synthetic:3000",
            "--epochs",
            "1",
            "--samples",
            "5",
            "--chunk-size",
            "1000",
            "--out",
            str(out),
            "--quiet",
        ],
    )
    assert r.exit_code == 0, r.output
    assert "images/s" in r.output and "most uncertain by mutual_information" in r.output
    df = pd.read_parquet(out / "pool_scores.parquet")
    assert len(df) == 3000 and df["sample_id"].tolist() == list(range(3000))
    assert (df["mutual_information"] >= 0).all()


def test_score_pool_npy_deterministic(tmp_path):
    from samplescope.data import load_dataset

    x = load_dataset("digits").test.x[:400]
    np.save(tmp_path / "x.npy", x)
    out = tmp_path / "p"
    r = runner.invoke(
        app,
        [
            "score-pool",
            "--pool",
            str(tmp_path / "x.npy"),
            "--method",
            "deterministic",
            "--epochs",
            "1",
            "--out",
            str(out),
            "--quiet",
        ],
    )
    assert r.exit_code == 0, r.output
    df = pd.read_parquet(out / "pool_scores.parquet")
    assert len(df) == 400 and "entropy" in df and (df["label"] == df["pred"]).all()


def test_score_pool_bad_inputs(tmp_path):
    r = runner.invoke(app, ["score-pool", "--pool", "pool.txt", "--out", str(tmp_path / "a")])
    assert r.exit_code != 0 and "pool: expected synthetic:N" in str(r.exception)
    r = runner.invoke(app, ["score-pool", "--executor", "threads"])
    assert r.exit_code != 0 and "executor: expected one of" in str(r.exception)


def test_executor_probe_inprocess():
    r = runner.invoke(app, ["executor", "--executor", "inprocess", "--tasks", "2"])
    assert r.exit_code == 0, r.output
    assert "identical to in-process: True" in r.output
