"""Stopping rules on planted conditions, and the loop reporting which one fired."""

from __future__ import annotations

import numpy as np
import pytest

from samplescope.active import (
    ActiveLoop,
    BudgetStop,
    MaxUncertaintyStop,
    MCDropoutLearner,
    StabilizingPredictions,
    cohen_kappa,
    first_stop,
)
from samplescope.data import load_dataset
from samplescope.models import mlp


def test_cohen_kappa_matches_sklearn():
    from sklearn.metrics import cohen_kappa_score

    rng = np.random.default_rng(0)
    a, b = rng.integers(4, size=200), rng.integers(4, size=200)
    b[:120] = a[:120]
    assert cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b))
    assert cohen_kappa(np.zeros(5, int), np.zeros(5, int)) == 1.0


def test_budget_and_max_uncertainty_fire_on_planted_conditions():
    assert not BudgetStop(50).update({"n_labelled": 49})
    assert BudgetStop(50).update({"n_labelled": 50})
    rule = MaxUncertaintyStop(0.1)
    assert not rule.update({"n_labelled": 5, "scores": np.array([0.05, 0.2])})
    assert rule.update({"n_labelled": 5, "scores": np.array([0.05, 0.09])})
    assert not rule.update({"n_labelled": 5})  # no scores: cannot judge


def test_stabilizing_predictions_fires_after_window_of_agreeing_rounds():
    rng = np.random.default_rng(0)
    rule = StabilizingPredictions(threshold=0.99, window=3)
    changing = [rng.integers(3, size=100) for _ in range(5)]
    assert not any(rule.update({"stop_predictions": p}) for p in changing)
    stable = changing[-1]
    # the first stable round gives κ(changing[-1], stable) = 1 (same), then 1, 1
    fired = [rule.update({"stop_predictions": stable}) for _ in range(3)]
    assert fired == [False, False, True]
    # the state survives a round trip, so a resumed run fires at the same round
    r2 = StabilizingPredictions(0.99, 3)
    r2.load_state_dict(rule.state_dict())
    assert r2.update({"stop_predictions": stable})
    # one disagreeing round among three keeps the mean below 0.99
    r3 = StabilizingPredictions(0.99, 3)
    for p in (stable, stable, changing[0], stable):
        assert not r3.update({"stop_predictions": p})


def test_first_stop_names_the_first_rule_and_updates_all():
    a, b = BudgetStop(10), StabilizingPredictions(0.5, 1)
    info = {"n_labelled": 12, "stop_predictions": np.zeros(4, int)}
    assert first_stop([a, b], info) == "budget"
    assert b.previous == [0, 0, 0, 0]  # b saw the round too
    with pytest.raises(ValueError, match="stopping"):
        first_stop([a, BudgetStop(3)], info)


@pytest.fixture(scope="module")
def digits():
    ds = load_dataset("digits")
    return ds.train.subset(np.arange(300)), ds.test.subset(np.arange(80))


def _loop(digits, tmp_path, stopping, **kw):
    pool, test = digits
    learner = MCDropoutLearner(
        lambda: mlp((1, 8, 8), 10, hidden=(32,), dropout=0.5), updates=15, batch_size=32,
        lr=1e-2, mc_samples=4,
    )  # fmt: skip
    return ActiveLoop(
        learner, pool, test, initial=20, per_step=10, steps=6, pool_subset=100, seed=0,
        checkpoint_dir=tmp_path, stopping=stopping, **kw,
    )  # fmt: skip


def test_loop_stops_at_the_budget_and_says_so(digits, tmp_path):
    loop = _loop(digits, tmp_path, [BudgetStop(40), MaxUncertaintyStop(-1.0)])
    hist = loop.run()
    assert loop.stopped_by == "budget" and hist[-1]["stopped_by"] == "budget"
    assert hist[-1]["n_labelled"] == 40 and len(hist) == 3
    # resumed from its checkpoint, the stopped run stays stopped
    again = _loop(digits, tmp_path, [BudgetStop(40), MaxUncertaintyStop(-1.0)])
    assert again.load() and again.done and again.stopped_by == "budget"


def test_loop_stops_when_no_candidate_is_uncertain_enough(digits, tmp_path):
    # BALD is at most log 10 < 5: the max-uncertainty rule fires at the first acquisition
    loop = _loop(digits, tmp_path, [MaxUncertaintyStop(5.0)])
    hist = loop.run()
    assert loop.stopped_by == "max_uncertainty" and len(hist) == 1
    assert hist[0]["n_labelled"] == 20


def test_loop_stabilizing_predictions_on_a_stop_set(digits, tmp_path):
    pool, _ = digits
    # a κ threshold of 0 fires once `window` consecutive pairs of models agree better than chance
    loop = _loop(
        digits, tmp_path, [StabilizingPredictions(threshold=0.0, window=2)], stop_set=pool.x[:60]
    )
    hist = loop.run()
    assert loop.stopped_by == "stabilizing_predictions"
    assert len(hist) == 3  # predictions at steps 0, 1, 2 give two κ; fires at step 2
