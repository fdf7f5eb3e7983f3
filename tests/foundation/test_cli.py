import subprocess
import sys

import pandas as pd


def run(*args, env=None):
    return subprocess.run(
        [sys.executable, "-c", "from samplescope.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env=env,
    )


def test_help_lists_commands():
    r = run("--help")
    assert r.returncode == 0
    for cmd in ("datasets", "difficulty", "measures"):
        assert cmd in r.stdout


def test_datasets_reports_found_files(data_dir):
    r = run("datasets", "--data-dir", str(data_dir))
    assert r.returncode == 0
    lines = {ln.split()[0]: ln for ln in r.stdout.splitlines() if ln.strip()}
    assert "found" in lines["mnist"] and "found" in lines["fashion-mnist"]
    assert "embedded" in lines["digits"]


def test_datasets_reports_missing(tmp_path):
    r = run("datasets", "--data-dir", str(tmp_path))
    assert "missing" in r.stdout


def test_difficulty_end_to_end_digits(tmp_path):
    out = tmp_path / "s"
    r = run(
        "difficulty",
        "--data",
        "digits",
        "--noise",
        "0.2",
        "--epochs",
        "15",
        "--quiet",
        "--out",
        str(out),
    )
    assert r.returncode == 0, r.stderr
    df = pd.read_parquet(out / "scores.parquet")
    assert {"sample_id", "label", "true_label", "is_noisy", "loss", "margin"} <= set(df.columns)
    assert df["is_noisy"].sum() == round(0.2 * 1347)
    # planted signal: injected noisy labels score harder than clean ones
    assert df.loc[df.is_noisy, "loss"].mean() > df.loc[~df.is_noisy, "loss"].mean()
    assert (out / "grid.png").stat().st_size > 1000
    assert "10 hardest samples" in r.stdout and "noise AUROC" in r.stdout
    assert "head mean" not in r.stdout  # no head/tail table without --imbalance


def test_bad_input_clear_error(tmp_path):
    r = run("difficulty", "--data", "cifar10", "--out", str(tmp_path / "x"))
    assert r.returncode == 2
    assert "--data: expected one of" in r.stderr
    r = run("difficulty", "--measures", "loss,bogus", "--out", str(tmp_path / "x"))
    assert r.returncode == 2 and "--measures: expected names from" in r.stderr
    r = run(
        "difficulty",
        "--measures",
        "gen_error",
        "--precision",
        "fp16",
        "--out",
        str(tmp_path / "x"),
    )
    assert r.returncode == 2 and "--precision: expected one of" in r.stderr


def test_difficulty_bf16_kfold(tmp_path):
    out = tmp_path / "b"
    r = run(
        "difficulty", "--measures", "gen_error", "--folds", "3", "--repeats", "1", "--epochs", "3",
        "--train-subset", "300", "--precision", "bf16", "--quiet", "--out", str(out),
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    df = pd.read_parquet(out / "scores.parquet")
    assert len(df) == 300 and df["gen_error"].notna().all() and (df["gen_error"] > 0).all()
