"""The audit end to end on planted label noise: one joined table, a report, flags that find
the flipped labels, and the CLI writing both."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import samplescope as ss

COLUMNS = {
    "sample_id", "label", "true_label", "is_noisy",
    "loss", "margin", "aum", "action_score", "forgetting",
    "cartography_confidence", "cartography_variability",
    "gen_error", "gen_bias", "gen_variance", "oof_loss",
    "predictive_entropy", "expected_entropy", "mutual_information",
    "oof_pred", "oof_correct", "confidence_calibrated", "trust",
    "is_label_issue", "label_quality", "suggested_label",
}  # fmt: skip


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    out = tmp_path_factory.mktemp("audit")
    # the defaults (30 epochs, 2 x 2 cross-fitting): the README main job's settings
    return ss.audit("digits", noise=0.1, samples=5, out=out, progress=False)


def test_one_joined_table(result) -> None:
    df = result.table.df
    assert set(df.columns) >= COLUMNS, COLUMNS - set(df.columns)
    assert len(df) == 1347 and df["sample_id"].is_unique
    assert df["label_quality"].between(0, 1).all()
    flagged = df[df.is_label_issue]
    assert (flagged.suggested_label != flagged.label).all()
    np.testing.assert_allclose(
        df.expected_entropy + df.mutual_information, df.predictive_entropy, atol=1e-9
    )
    assert (df.oof_correct == (df.oof_pred == df.label)).all()
    assert pd.read_parquet(result.table_path).shape == df.shape


def test_fast_mode_gives_gen_error_fast_from_the_same_run(result) -> None:
    """gen_error="fast" (default): the 2 x 2 held-out columns and gen_error_fast, one run."""
    df = result.table.df
    assert {"gen_error_fast", "gen_error_fast_bias", "gen_error_fast_variance"} <= set(df)
    # the combination re-orders the held-out losses: the same values, another order
    np.testing.assert_array_equal(np.sort(df.gen_error_fast), np.sort(df.gen_error))
    np.testing.assert_allclose(df.gen_error_fast_bias + df.gen_error_fast_variance,
                               df.gen_error, atol=1e-9)  # fmt: skip
    np.testing.assert_array_equal(df.gen_error_fast_bias, df.gen_bias)
    assert "gen_error_fast" in result.summary["gen_error"]
    # flipped labels rank high: the planted 10% are mostly in the top 10% of gen_error_fast
    top = df.gen_error_fast >= df.gen_error_fast.quantile(0.9)
    assert (top & df.is_noisy).sum() > 0.7 * df.is_noisy.sum()


def test_kfold_mode_has_no_fast_columns() -> None:
    res = ss.audit("digits", gen_error="kfold", train_subset=200, epochs=2, samples=2,
                   progress=False)  # fmt: skip
    df = res.table.df
    assert "gen_error" in df and "gen_error_fast" not in df
    assert res.summary["gen_error"].startswith("kfold: 3 x 5-fold")


def test_flags_find_the_planted_flips(result) -> None:
    df = result.table.df
    flag, truth = df.is_label_issue.to_numpy(), df.is_noisy.to_numpy()
    precision = (flag & truth).sum() / max(flag.sum(), 1)
    recall = (flag & truth).sum() / truth.sum()
    assert truth.mean() == pytest.approx(0.1, abs=0.01)
    assert precision > 0.8 and recall > 0.8, (precision, recall)  # chance: 0.1 and |flag|/N
    assert abs(flag.sum() - truth.sum()) < 0.2 * truth.sum()  # the count estimate
    # the suggested label is the true one for most correctly flagged samples
    hit = df[df.is_label_issue & df.is_noisy]
    assert (hit.suggested_label == hit.true_label).mean() > 0.6


def test_report_written(result) -> None:
    page = result.report_path.read_text()
    assert "estimated label issues" in page and "flags vs known noise" in page
    assert page.count('class="card"') == min(48, int(result.table.df.is_label_issue.sum()))


def test_audit_cli(tmp_path) -> None:
    from typer.testing import CliRunner

    from samplescope.cli import app

    r = CliRunner().invoke(
        app,
        ["audit", "--data", "digits", "--noise", "0.1", "--train-subset", "300", "--epochs",
         "5", "--uncertainty", "mc_dropout", "--samples", "3", "--quiet", "--out", str(tmp_path)],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "estimated label issues" in r.output and "precision" in r.output
    df = pd.read_parquet(tmp_path / "audit.parquet")
    assert len(df) == 300 and (df.mutual_information >= 0).all()
    assert (tmp_path / "audit.parquet").is_file() and (tmp_path / "report.html").is_file()
    r = CliRunner().invoke(
        app, ["report", str(tmp_path / "audit.parquet"), "--data", "digits", "--out",
              str(tmp_path / "again")],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert 'class="card"' in (tmp_path / "again" / "report.html").read_text()
