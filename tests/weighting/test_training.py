"""Registry contract, weighted training (loss / sampler), ScoreTable alignment and the CLI."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from samplescope.cli import app
from samplescope.data import load_dataset
from samplescope.io import ScoreTable
from samplescope.models import mlp
from samplescope.weighting import (
    Transform,
    difficulty_from_table,
    fit_weighted,
    get_weighting,
    list_weightings,
    register_weighting,
    resolve_weighting,
)


@pytest.fixture(scope="module")
def tiny():
    ds = load_dataset("digits")
    return ds, ds.train.subset(np.arange(300))


def test_registry_lists_the_issue_schemes():
    names = set(list_weightings())
    assert {
        "uniform",
        "hard_first",
        "inverse_margin",
        "focal",
        "class_balanced",
        "grw",
        "spl",
        "spl_linear",
        "superloss",
        "truncated",
        "active_bias",
    } <= names
    assert set(list_weightings("dynamic")) <= names
    with pytest.raises(ValueError, match="already registered"):
        register_weighting("uniform", "static", "dup")(lambda: None)
    with pytest.raises(ValueError, match="kind"):
        register_weighting("x", "weird", "bad kind")


@pytest.mark.parametrize("name", list_weightings())
def test_every_registered_scheme_trains(name, tiny):
    ds, train = tiny
    spec = get_weighting(name)
    diff = np.random.default_rng(0).normal(size=len(train)) if spec.needs_difficulty else None
    torch.manual_seed(0)
    res = fit_weighted(
        mlp((1, 8, 8), 10, hidden=(16,)),
        train,
        name,
        difficulty=diff,
        num_classes=10,
        epochs=3,
        batch_size=64,
        seed=0,
        progress=False,
    )
    assert len(res.history) == 3 and np.isfinite(res.history[-1]["train_loss"])


def test_sampler_mode_and_its_restriction(tiny):
    ds, train = tiny
    kw = resolve_weighting("grw", train, num_classes=10)
    assert set(kw) == {"sample_weight"}
    res = fit_weighted(
        mlp((1, 8, 8), 10, hidden=(16,)),
        train,
        "grw",
        weight_mode="sampler",
        epochs=1,
        progress=False,
    )
    assert len(res.history) == 1
    with pytest.raises(ValueError, match="sampler"):
        fit_weighted(
            mlp((1, 8, 8), 10), train, "spl", weight_mode="sampler", epochs=1, progress=False
        )
    with pytest.raises(ValueError, match="loss_fn"):
        fit_weighted(mlp((1, 8, 8), 10), train, "focal", loss_fn=lambda o, y: o.sum(1), epochs=1)


def test_zero_weights_change_nothing_planted(tiny):
    """Planted signal: a static scheme giving weight 0 to half the data equals training on the other half."""
    ds, train = tiny
    keep = np.arange(len(train)) % 2 == 0
    w = keep.astype(float)
    t = Transform("mask", lambda v, ctx: w)
    torch.manual_seed(0)
    m1 = mlp((1, 8, 8), 10, hidden=(8,))
    m2 = mlp((1, 8, 8), 10, hidden=(8,))
    m2.load_state_dict(m1.state_dict())
    fit_weighted(
        m1, train, t, epochs=1, batch_size=len(train), optimizer="sgd", lr=0.1, progress=False
    )
    # full batch, SGD: mean_i(w_i l_i) over N equals (|keep|/N) * mean over kept
    sub = train.subset(np.flatnonzero(keep))
    from samplescope.training import fit

    fit(
        m2,
        sub,
        epochs=1,
        batch_size=len(sub),
        optimizer="sgd",
        lr=0.1 * keep.mean(),
        progress=False,
    )
    for a, b in zip(m1.parameters(), m2.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


def test_difficulty_from_table_aligns_by_sample_id(tmp_path, tiny):
    ds, train = tiny
    rng = np.random.default_rng(0)
    perm = rng.permutation(len(train))
    vals = train.sample_id.astype(float) * 10
    tab = ScoreTable.from_arrays(train.sample_id[perm], train.y[perm], gen_error=vals[perm])
    p = tab.save(tmp_path / "s.parquet")
    np.testing.assert_allclose(difficulty_from_table(p, "gen_error", train.sample_id), vals)
    with pytest.raises(ValueError, match="not in the table"):
        difficulty_from_table(tab, "gen_error", np.array([10_000_000]))
    with pytest.raises(ValueError, match="name"):
        difficulty_from_table(tab, "nope", train.sample_id)


def test_cli_weightings_and_train(tmp_path, tiny):
    runner = CliRunner()
    r = runner.invoke(app, ["weightings"])
    assert r.exit_code == 0
    for name in list_weightings():
        assert name in r.output
    ds, train = tiny
    tab = ScoreTable.from_arrays(
        ds.train.sample_id, ds.train.y, gen_error=np.arange(len(ds.train), dtype=float)
    )
    sp = tab.save(tmp_path / "scores.csv")
    out = tmp_path / "run"
    r = runner.invoke(
        app,
        [
            "train",
            "--weighting",
            "hard_first",
            "--weights-from",
            str(sp),
            "--column",
            "gen_error",
            "--param",
            "temperature=0.5",
            "--epochs",
            "2",
            "--out",
            str(out),
            "--quiet",
            "--imbalance",
            "5",
        ],
    )
    assert r.exit_code == 0, r.output
    assert "balanced accuracy" in r.output
    saved = torch.load(out / "model.pt", weights_only=True)  # weights plus the architecture
    assert all(isinstance(v, torch.Tensor) for v in saved["state_dict"].values())
    from samplescope.models import load_model

    net, arch = load_model(out / "model.pt")
    assert arch["kind"] == "mlp" and arch["num_classes"] == 10
    r = runner.invoke(app, ["train", "--weighting", "superloss", "--param", "foo=1"])
    assert isinstance(r.exception, ValueError) and "--param" in str(r.exception)
    assert "lam" in str(r.exception)  # the allowed names are listed
    import pandas as pd

    hist = pd.read_csv(out / "metrics.csv")
    assert len(hist) == 2 and {"val_acc", "val_balanced_acc"} <= set(hist.columns)
    assert len(pd.read_csv(out / "per_class.csv")) == 10
    r = runner.invoke(
        app, ["train", "--weighting", "hard_first", "--out", str(out), "--epochs", "1"]
    )
    assert r.exit_code != 0


def test_weight_recorder_sees_the_applied_weights(tiny):
    from samplescope.weighting import WeightRecorder, static_weights

    ds, train = tiny
    rec = WeightRecorder()
    fit_weighted(
        mlp((1, 8, 8), 10, hidden=(8,)),
        train,
        "grw",
        num_classes=10,
        epochs=2,
        callbacks=[rec],
        progress=False,
    )
    w = static_weights("grw", train.y, num_classes=10)
    assert rec.weights_.shape == (2, len(train))
    np.testing.assert_allclose(rec.weights_[-1], w, rtol=1e-6)
    rare = train.y == np.argmin(np.bincount(train.y, minlength=10))
    assert rec.share(rare) == pytest.approx(w[rare].sum() / w.sum(), rel=1e-6)
    rec2 = WeightRecorder()
    fit_weighted(
        mlp((1, 8, 8), 10, hidden=(8,)),
        train,
        "truncated",
        params={"eps_max": 0.5, "ramp_epochs": 1, "rescale": False},
        epochs=2,
        batch_size=50,
        callbacks=[rec2],
        progress=False,
    )
    np.testing.assert_array_equal(rec2.weights_[0], 1.0)  # epoch 0: eps = 0
    assert np.nanmean(rec2.weights_[1]) == pytest.approx(
        0.5
    )  # epoch 1: half of every batch dropped
    with pytest.raises(ValueError, match="not fitted"):
        _ = WeightRecorder().weights_
