"""``samplescope label-issues`` end to end: built-in data, a CSV with string labels, an image folder."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from samplescope.cli import main
from samplescope.io import ScoreTable


@pytest.fixture
def cli(monkeypatch, capsys, tmp_path):
    monkeypatch.chdir(tmp_path)

    def run(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["samplescope", *args])
        code = 0
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_choices_match_the_library():
    from samplescope.cli.label_issues_cmds import COUNT_CHOICES, RANK_CHOICES
    from samplescope.labels import COUNT_METHODS, RANK_BY

    assert tuple(COUNT_CHOICES) == tuple(COUNT_METHODS)
    assert set(RANK_CHOICES) == {"auto", "gen_error"} | (set(RANK_BY) - {"scores"})


def test_csv_with_string_labels(cli, tmp_path):
    rng = np.random.default_rng(0)
    names = np.array(["ant", "bee", "cow"])
    true = rng.integers(0, 3, 600)
    x = np.eye(3)[true] * 4 + rng.normal(size=(600, 3))
    given = true.copy()
    flip = rng.choice(600, 60, replace=False)
    given[flip] = (true[flip] + 1) % 3
    df = pd.DataFrame({"f0": x[:, 0], "f1": x[:, 1], "f2": x[:, 2], "kind": names[given]})
    df["colour"] = rng.choice(["red", "blue"], 600)
    df.to_csv(tmp_path / "animals.csv", index=False)
    code, out, err = cli(
        "label-issues",
        "--data",
        "animals.csv",
        "--label",
        "kind",
        "--folds",
        "3",
        "--epochs",
        "20",
        "--out",
        "res",
        "--quiet",
    )
    assert code == 0, err
    t = ScoreTable.load(tmp_path / "res" / "label_issues.parquet").df
    assert {"is_label_issue", "label_quality", "suggested_label", "label_name"} <= set(t)
    assert (t["label_name"] == df["kind"]).all()
    flagged = t["is_label_issue"].to_numpy()
    assert (flagged[flip]).mean() > 0.8 and flagged.sum() < 120
    assert (
        t.loc[flip[flagged[flip]], "suggested_label_name"] == names[true[flip[flagged[flip]]]]
    ).mean() > 0.8
    assert "estimated label issues" in out and "top 10 flagged" in out and "ant" in out


def test_digits_and_image_folder(cli, tmp_path):
    code, out, err = cli(
        "label-issues", "--folds", "3", "--epochs", "3", "--out", "d", "--top", "3", "--quiet"
    )
    assert code == 0, err
    t = ScoreTable.load(tmp_path / "d" / "label_issues.parquet").df
    assert len(t) == 1347 and "label_name" not in t
    root = tmp_path / "imgs"
    rng = np.random.default_rng(0)
    for c, level in (("dark", 40), ("light", 210)):
        (root / c).mkdir(parents=True)
        for i in range(12):
            a = np.clip(level + rng.normal(0, 10, (6, 6)), 0, 255).astype(np.uint8)
            Image.fromarray(a, mode="L").save(root / c / f"{i}.png")
    code, out, err = cli(
        "label-issues", "--data", str(root), "--folds", "3", "--out", "i", "--quiet"
    )
    assert code == 0, err
    t = ScoreTable.load(tmp_path / "i" / "label_issues.parquet").df
    assert t["file"].iloc[0] == "dark/0.png" and set(t["label_name"]) == {"dark", "light"}


def test_errors_after_reading_name_the_flag(cli, tmp_path):
    pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "y": [0, 1, 0, 1]}).to_csv(
        tmp_path / "t.csv", index=False
    )
    code, _, err = cli("label-issues", "--data", "t.csv", "--label", "nope", "--out", "o")
    assert code == 2 and "--label: no column 'nope' in t.csv; columns: ['a', 'y']" in err
    code, _, err = cli("label-issues", "--data", "t.csv", "--folds", "3", "--out", "o")
    assert code == 2 and "--folds: the smallest class" in err
    code, _, err = cli("label-issues", "--data", "t.csv", "--model", "cnn", "--out", "o")
    assert code == 2 and "--model: 'cnn' needs images" in err
    (tmp_path / "x.npy").write_bytes(b"junk")
    code, _, err = cli("label-issues", "--data", "x.npy", "--out", "o")
    assert code == 2 and err.startswith("error: --data: cannot read"), err
