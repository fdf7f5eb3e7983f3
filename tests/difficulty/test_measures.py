"""Label and stochastic measures, the registry, compute_measures and the CLI."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from samplescope.cli import app
from samplescope.difficulty import (
    MEASURE_KINDS,
    class_proportion_score,
    compute_measures,
    expected_entropy_score,
    get_measure,
    list_measures,
    mean_std_score,
    measure_aliases,
    mutual_information_score,
    predictive_entropy_score,
    predictive_variance_score,
    register_measure,
    register_measure_alias,
    variation_ratio_score,
)
from samplescope.io import ScoreTable


def test_class_proportion_hand_computed():
    np.testing.assert_allclose(
        class_proportion_score([0, 0, 0, 1, 2, 2]), [0.5, 0.5, 0.5, 5 / 6, 2 / 3, 2 / 3]
    )
    with pytest.raises(ValueError, match="labels"):
        class_proportion_score([0, -1])
    with pytest.raises(ValueError, match="labels"):
        class_proportion_score([])


def test_stochastic_hand_computed_and_limits():
    p = np.array([[[1.0, 0.0]], [[0.0, 1.0]]])  # two confident members that disagree
    np.testing.assert_allclose(predictive_variance_score(p), [2 * 0.25])
    np.testing.assert_allclose(mutual_information_score(p), [np.log(2)])
    same = np.repeat(np.array([[[0.3, 0.7], [0.5, 0.5]]]), 4, axis=0)  # deterministic model
    np.testing.assert_allclose(predictive_variance_score(same), 0.0, atol=1e-15)
    np.testing.assert_allclose(mutual_information_score(same), 0.0, atol=1e-15)
    with pytest.raises(ValueError, match="probs"):
        predictive_variance_score(np.ones((2, 3)))
    with pytest.raises(ValueError, match="probs"):
        mutual_information_score(np.full((2, 1, 2), 0.9))


def test_stochastic_vote_and_spread_by_hand():
    p = np.array([[[0.9, 0.1]], [[0.2, 0.8]], [[0.6, 0.4]]])  # votes 0, 1, 0
    np.testing.assert_allclose(variation_ratio_score(p), [1 - 2 / 3])
    std = np.array([0.9, 0.2, 0.6]).std()  # the same for both classes (p_1 = 1 - p_0)
    np.testing.assert_allclose(mean_std_score(p), [std])
    same = np.repeat(p[:1], 4, axis=0)
    np.testing.assert_allclose(variation_ratio_score(same), 0.0)
    np.testing.assert_allclose(mean_std_score(same), 0.0, atol=1e-7)
    h = lambda q: -(q * np.log(q)).sum()  # noqa: E731
    np.testing.assert_allclose(predictive_entropy_score(p), [h(p.mean(0)[0])])
    np.testing.assert_allclose(expected_entropy_score(p), [np.mean([h(q[0]) for q in p])])
    with pytest.raises(ValueError, match="labels"):
        variation_ratio_score(p, [0, 1])


def test_stochastic_measures_canonical_names_and_aliases():
    assert set(list_measures("stochastic")) == {
        "expected_entropy",
        "mean_std",
        "mutual_information",
        "predictive_entropy",
        "predictive_variance",
        "variation_ratio",
    }
    aliases = measure_aliases()
    assert aliases == {
        "aleatoric": "expected_entropy",
        "bald": "mutual_information",
        "epistemic": "mutual_information",
        "max_entropy": "predictive_entropy",
        "predictive_trace": "predictive_variance",
        "total": "predictive_entropy",
        "variation_ratios": "variation_ratio",
    }
    assert not set(aliases) & set(list_measures())  # aliases are not listed
    for old, new in aliases.items():
        assert get_measure(old) is get_measure(new) and get_measure(old).name == new
    with pytest.raises(ValueError, match="already an alias"):
        register_measure("bald", "stochastic", "x")(lambda p, y=None: p)
    with pytest.raises(ValueError, match="alias"):
        register_measure_alias("loss", "mutual_information")
    with pytest.raises(ValueError, match="alias"):
        register_measure_alias("bald", "predictive_variance")
    with pytest.raises(ValueError, match="registered measure"):
        register_measure_alias("x", "nope")
    register_measure_alias("bald", "mutual_information")  # re-registering the same is a no-op


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 6), st.integers(1, 5), st.integers(2, 4), st.integers(0, 999))
def test_stochastic_properties(S, N, C, seed):
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.ones(C), size=(S, N))
    mi = mutual_information_score(p)
    pbar = p.mean(0)
    h = -(pbar * np.log(pbar)).sum(1)
    assert (mi >= 0).all() and (mi <= h + 1e-12).all()
    assert (predictive_variance_score(p) >= 0).all()


def test_registry_lists_every_kind():
    names = list_measures()
    for n in (
        "loss",
        "grad_norm",
        "last_layer_grad_norm",
        "class_proportion",
        "action_score",
        "aum",
        "forgetting",
        "cartography_confidence",
        "gen_error",
        "gen_bias",
        "gen_variance",
        "margin_mean",
        "margin_var",
        "predictive_variance",
        "mutual_information",
    ):
        assert n in names
    assert {get_measure(n).kind for n in names} == set(MEASURE_KINDS)


def test_compute_measures_all_kinds(digits):
    s = digits.train.subset(np.arange(240))
    names = [
        "loss",
        "grad_norm",
        "class_proportion",
        "action_score",
        "forgetting",
        "gen_error",
        "gen_variance",
        "predictive_variance",
    ]
    res = compute_measures(s, 10, names, folds=2, repeats=2, epochs=2, progress=False)
    t = res.table
    assert t.measures[: len(names)] == names and len(t) == 240
    for n in names:
        assert np.isfinite(t.column(n)).all()
    np.testing.assert_array_equal(t.column("sample_id"), s.sample_id)
    assert res.gen is not None and res.gen.oof_probs.shape == (2, 240, 10)
    with pytest.raises(ValueError, match="repeats"):
        compute_measures(s, 10, ["predictive_variance"], repeats=1)
    with pytest.raises(ValueError, match="measure"):
        compute_measures(s, 10, ["nope"])
    with pytest.raises(ValueError, match="measures"):
        compute_measures(s, 10, [])


def test_cli_difficulty_writes_every_measure(tmp_path):
    out = tmp_path / "s"
    r = CliRunner().invoke(
        app,
        [
            "difficulty",
            "--data",
            "digits",
            "--measures",
            "gen_error,loss,class_proportion",
            "--folds",
            "2",
            "--repeats",
            "1",
            "--epochs",
            "2",
            "--noise",
            "0.2",
            "--imbalance",
            "3",
            "--train-subset",
            "500",
            "--out",
            str(out),
            "--format",
            "csv",
            "--quiet",
        ],
    )
    assert r.exit_code == 0, r.output
    t = ScoreTable.load(out / "scores.csv")
    assert {"gen_error", "loss", "class_proportion", "is_noisy"} <= set(t.df.columns)
    assert "noise AUROC" in r.output and "head mean" in r.output
    assert (out / "grid.png").is_file()
    r = CliRunner().invoke(app, ["measures"])
    assert r.exit_code == 0 and "gen_variance" in r.output and "kfold" in r.output
