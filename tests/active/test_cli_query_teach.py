"""``samplescope active query`` / ``teach``: a person labelling an unlabelled pool, end to end."""

from __future__ import annotations

import json
import sys
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from samplescope.cli import main


@pytest.fixture
def run(monkeypatch, capsys):
    """In-process ``samplescope active ARGS``: ``.returncode``, ``.stdout``, ``.stderr``."""

    def call(*args):
        monkeypatch.setattr(sys, "argv", ["samplescope", "active", *args])
        code = 0
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        out, err = capsys.readouterr()
        return SimpleNamespace(returncode=code, stdout=out, stderr=err)

    return call


def _pool(tmp_path, n=120):
    rng = np.random.default_rng(0)
    truth = rng.integers(3, size=n)
    centres = np.array([[0.0, 0.0], [4.0, 0.0], [0.0, 4.0]])
    x = centres[truth] + rng.normal(size=(n, 2))
    names = np.array(["cat", "dog", "eel"])
    ids = np.arange(n) + 500
    pd.DataFrame({"sample_id": ids, "f1": x[:, 0], "f2": x[:, 1]}).to_csv(
        tmp_path / "pool.csv", index=False
    )  # no label column: an unlabelled pool
    return dict(zip(ids.tolist(), names[truth].tolist(), strict=True))


def _answer(path, truth, skip=0):
    q = pd.read_csv(path)
    q["label"] = [truth[int(i)] for i in q["sample_id"]]
    if skip:
        q.loc[q.index[-skip:], "label"] = ""  # not answered yet: stays pending
    q.to_csv(path, index=False)
    return q


def test_query_teach_round_trip_on_an_unlabelled_csv(tmp_path, run):
    truth = _pool(tmp_path)
    s = tmp_path / "session"
    common = ("--model", "logistic", "--acquisition", "bald", "--samples", "4")
    r = run("query", "--pool", str(tmp_path / "pool.csv"), "--n", "12", "--out", str(s), *common)
    assert r.returncode == 0, r.stderr
    q1 = pd.read_csv(s / "queries.csv")
    assert list(q1.columns[:4]) == ["sample_id", "label", "f1", "f2"] and len(q1) == 12
    _answer(s / "queries.csv", truth, skip=2)
    r = run("teach", "--answers", str(s / "queries.csv"), "--n", "8")
    assert r.returncode == 0, r.stderr
    assert "taught 10 labels" in r.stdout
    q2 = pd.read_csv(s / "queries.csv")
    assert len(q2) == 8 and not set(q2["sample_id"]) & set(q1["sample_id"])
    cfg = json.loads((s / "session.json").read_text())
    assert sorted(cfg["classes"]) == sorted(set(truth[int(i)] for i in q1["sample_id"][:10]))
    # the two unanswered ones stay pending: never queried again, answerable later
    with np.load(s / "state.npz") as z:
        meta = json.loads(str(z["meta"]))
    assert set(meta["pending"]) == set(q1["sample_id"][-2:]) | set(q2["sample_id"])
    # answering the same file twice adds nothing
    _answer(s / "queries.csv", truth)
    r = run("teach", "--answers", str(s / "queries.csv"), "--n", "0")
    assert r.returncode == 0 and "taught 8 labels" in r.stdout, r.stderr
    r = run("teach", "--answers", str(s / "queries.csv"), "--n", "0")
    assert "taught 0 labels (8 already known)" in r.stdout, r.stderr


def test_query_writes_images_and_budget_stops(tmp_path, run):
    rng = np.random.default_rng(0)
    x = rng.random((40, 8, 8)).astype(np.float32)
    np.save(tmp_path / "imgs.npy", x)  # inputs only, no labels anywhere
    s = tmp_path / "s"
    r = run("query", "--pool", str(tmp_path / "imgs.npy"), "--n", "6", "--out", str(s),
            "--model", "mlp", "--samples", "3", "--updates", "20", "--budget", "6")  # fmt: skip
    assert r.returncode == 0, r.stderr
    q = pd.read_csv(s / "queries.csv")
    assert len(q) == 6 and all((s / "images" / f"{i}.png").exists() for i in q["sample_id"])
    q["label"] = ["a", "b"] * 3
    q.to_csv(s / "queries.csv", index=False)
    r = run("teach", "--answers", str(s / "queries.csv"))
    assert r.returncode == 0, r.stderr
    assert "stopping rule fired: budget" in r.stdout
    assert len(pd.read_csv(s / "queries.csv")) == 0


def test_query_teach_bad_input(tmp_path, run):
    _pool(tmp_path)
    s = str(tmp_path / "s")
    r = run("query", "--out", s)
    assert r.returncode == 2 and "--pool" in r.stderr
    r = run("query", "--pool", str(tmp_path / "nope.csv"), "--out", s)
    assert r.returncode == 2 and "--pool" in r.stderr
    r = run("query", "--pool", str(tmp_path / "pool.csv"), "--out", s, "--batch-mode", "x")
    assert r.returncode == 2 and "--batch-mode" in r.stderr
    r = run("teach", "--answers", str(tmp_path / "pool.csv"))
    assert r.returncode == 2 and "session" in r.stderr
    r = run("query", "--pool", str(tmp_path / "pool.csv"), "--out", s, "--n", "4")
    assert r.returncode == 0, r.stderr
    pd.DataFrame({"sample_id": [1], "label": ["x"]}).to_csv(tmp_path / "a.csv", index=False)
    r = run("teach", "--answers", str(tmp_path / "a.csv"), "--out", s)
    assert r.returncode == 2 and "not in the pool" in r.stderr


def test_simulation_takes_the_new_batch_modes_and_label_free_initial_sets(tmp_path, run):
    for mode, init in (("power", "typiclust"),):
        out = tmp_path / mode
        r = run("--data", "digits", "--acquisition", "bald", "--batch-mode", mode, "--init", init,
                "--initial", "20", "--per-step", "10", "--steps", "1", "--pool-subset", "100",
                "--samples", "3", "--repeats", "1", "--updates", "10", "--test-subset", "50",
                "--out", str(out), "--quiet")  # fmt: skip
        assert r.returncode == 0, r.stderr
        curves = pd.read_csv(out / "curves.csv")
        assert sorted(curves["n_acquired"]) == [0, 10]
