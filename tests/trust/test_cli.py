"""``samplescope trust`` end to end on digits (tiny settings, in process) and its bad input."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from samplescope.cli import app


def test_trust_end_to_end_digits(tmp_path) -> None:
    args = [
        "trust",
        "--data",
        "digits",
        "--train-subset",
        "300",
        "--model",
        "mlp",
        "--seeds",
        "2",
        "--epochs",
        "2",
        "--oracle-epochs",
        "1",
        "--oracle-lr",
        "1e-3",
        "--losses",
        "tcp,ss",
        "--baselines",
        "mcp,trustscore",
        "--shift",
        "noise",
        "--alpha-neg",
        "5",
        "--quiet",
        "--out",
        str(tmp_path),
    ]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    assert "FPR@95TPR" in r.output and "noise" in r.output
    summary = pd.read_csv(tmp_path / "summary.csv")
    assert set(summary["method"]) == {"mcp", "trustscore", "tcp", "ss"}
    assert set(summary["split"]) == {"test", "noise"}
    assert (summary["n"] == 2).all()
    rows = pd.read_csv(tmp_path / "rows.csv")
    assert rows["auroc"].between(0, 1).all() and set(rows["seed"]) == {0, 1}
    for name in ("histograms_test.png", "risk_coverage_noise.png"):
        assert (tmp_path / name).stat().st_size > 1000
    scores = pd.read_csv(tmp_path / "trust_scores_seed0.csv")
    assert {"sample_id", "label", "correct", "trust_ss", "trust_mcp"} <= set(scores.columns)
    assert scores["trust_ss"].between(0, 1).all()


@pytest.mark.parametrize(
    ("args", "word"),
    [
        (["--losses", "hinge"], "--losses"),
        (["--shift", "fog"], "--shift"),
        (["--baselines", "odin"], "--baselines"),
        (["--seeds", "0"], "--repeats"),
        (["--repeats", "0"], "--repeats"),
        (["--alpha-neg", "-1"], "--alpha-neg"),
        (["--head", "mlp"], "--head"),
        (["--model", "vit"], "--model"),
    ],
)
def test_trust_bad_input(args: list[str], word: str) -> None:
    r = CliRunner().invoke(app, ["trust", "--data", "digits", "--quiet", *args])
    assert isinstance(r.exception, ValueError) and word in str(r.exception)


def test_trust_losses_lists_registry() -> None:
    r = CliRunner().invoke(app, ["trust-losses"])
    assert r.exit_code == 0 and "ss" in r.output and "trustscore" in r.output
