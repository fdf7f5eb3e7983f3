"""Training-dynamics callbacks: hand-computed traces, analytic limits, planted noise, per-term action."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score
from torch import nn

from samplescope.data import inject_label_noise
from samplescope.difficulty import (
    AUM,
    DYNAMICS_COLUMNS,
    ActionScore,
    Cartography,
    ForgettingEvents,
    TrainingDynamics,
    get_measure,
)
from samplescope.models import mlp
from samplescope.training import EvalResult, LambdaCallback, evaluate, fit


class _FakeState:
    """Drives an eval-source recorder with hand-made logits, one EvalResult per epoch."""

    def __init__(self, logits_per_epoch, labels):
        self.seq = [np.asarray(z, float) for z in logits_per_epoch]
        self.labels = np.asarray(labels)
        self.i = 0
        self.train = None

    def evaluate(self, split):
        z = self.seq[self.i]
        lp = z - np.log(np.exp(z).sum(1, keepdims=True))
        loss = -lp[np.arange(len(self.labels)), self.labels]
        return EvalResult(np.arange(len(z)) + 100, z, self.labels, loss, {"half": loss / 2})


def _drive(cb, seq, labels):
    st = _FakeState(seq, labels)
    cb.on_fit_start(st)
    for e in range(len(seq)):
        st.i = e
        cb.on_epoch_start(st)
        cb.on_epoch_end(st)
    cb.on_fit_end(st)
    return cb


def test_hand_computed_scores():
    # sample 0: right, wrong, right, wrong (2 forgetting events); sample 1: never right
    a, b = [2.0, 0.0], [0.0, 2.0]
    seq = [[a, a], [b, a], [a, a], [b, a]]
    labels = [0, 1]
    cb = _drive(TrainingDynamics(source="eval"), seq, labels)
    s = cb.scores()
    assert set(DYNAMICS_COLUMNS) <= set(s)
    np.testing.assert_array_equal(cb.sample_ids, [100, 101])
    p_hi = np.exp(2) / (1 + np.exp(2))
    l_hi, l_lo = -np.log(p_hi), -np.log(1 - p_hi)
    np.testing.assert_allclose(s["action_score"], [2 * l_hi + 2 * l_lo, 4 * l_lo])
    np.testing.assert_allclose(s["action_score_half"], s["action_score"] / 2)
    py0 = np.array([p_hi, 1 - p_hi, p_hi, 1 - p_hi])
    np.testing.assert_allclose(s["cartography_confidence"], [1 - py0.mean(), p_hi])
    np.testing.assert_allclose(s["cartography_variability"], [py0.std(), 0.0], atol=1e-12)
    np.testing.assert_allclose(s["cartography_correctness"], [0.5, 1.0])
    np.testing.assert_allclose(s["aum"], [0.0, 2.0])  # -mean margin: (2 - 2 + 2 - 2)/4, -(-2)
    np.testing.assert_allclose(s["forgetting"], [2, 4])  # never learned -> number of epochs


def test_named_callbacks_give_their_columns():
    seq = [[[1.0, 0.0]], [[0.0, 1.0]]]
    assert set(_drive(ActionScore(), seq, [0]).scores()) == {"action_score", "action_score_half"}
    assert set(_drive(Cartography(source="eval"), seq, [0]).scores()) == {
        "cartography_confidence",
        "cartography_variability",
        "cartography_correctness",
    }
    assert set(_drive(AUM(source="eval"), seq, [0]).scores()) == {"aum"}
    assert set(_drive(ForgettingEvents(source="eval"), seq, [0]).scores()) == {"forgetting"}
    for col in DYNAMICS_COLUMNS:
        m = get_measure(col)
        assert m.kind == "dynamics" and col in _drive(m.fn(source="eval"), seq, [0]).scores()


def _small(digits, n=300):
    return digits.train.subset(np.arange(n))


def test_action_score_equals_sum_of_independent_epoch_losses(digits):
    s, test = _small(digits), digits.test
    torch.manual_seed(0)
    model = mlp((1, 8, 8), 10, hidden=(32,))
    ref_train, ref_test = [], []
    probe = LambdaCallback(
        on_epoch_end=lambda st, *_: (
            ref_train.append(evaluate(st.model, s).losses),
            ref_test.append(evaluate(st.model, test).losses),
        )
    )
    a_train, a_test = ActionScore(), ActionScore(split=test, include_initial=True)
    init = evaluate(model, test).losses
    fit(model, s, epochs=3, batch_size=64, callbacks=[a_train, a_test, probe], progress=False)
    np.testing.assert_allclose(a_train.scores()["action_score"], np.sum(ref_train, 0), rtol=1e-6)
    np.testing.assert_allclose(
        a_test.scores()["action_score"], np.sum(ref_test, 0) + init, rtol=1e-6
    )
    np.testing.assert_array_equal(a_test.sample_ids, test.sample_id)
    assert a_test.loss_.shape == (4, len(test))


def test_batch_source_sees_each_training_loss(digits):
    s = _small(digits)
    seen = np.zeros(len(s))
    grab = LambdaCallback(
        on_batch_end=lambda st, b: np.add.at(seen, b.positions.numpy(), b.losses.numpy())
    )
    dyn = TrainingDynamics()
    torch.manual_seed(0)
    fit(
        mlp((1, 8, 8), 10, hidden=(32,)),
        s,
        epochs=2,
        batch_size=50,
        callbacks=[dyn, grab],
        progress=False,
    )
    np.testing.assert_allclose(dyn.scores()["action_score"], seen, rtol=1e-6)
    assert dyn.loss_.shape == (2, len(s)) and np.isfinite(dyn.loss_).all()


def test_analytic_limit_frozen_model(digits):
    """No learning (lr -> 0): every epoch sees the initial model."""
    s = _small(digits, 200)
    torch.manual_seed(0)
    model = mlp((1, 8, 8), 10, hidden=(16,))
    init = evaluate(model, s)
    dyn = TrainingDynamics(source="eval")
    fit(model, s, epochs=4, optimizer="sgd", lr=1e-30, callbacks=[dyn], progress=False)
    sc = dyn.scores()
    np.testing.assert_allclose(sc["action_score"], 4 * init.losses, rtol=1e-6)
    np.testing.assert_allclose(sc["cartography_variability"], 0.0, atol=1e-7)
    right = init.correct
    np.testing.assert_allclose(sc["forgetting"], np.where(right, 0.0, 4.0))
    margin = get_measure("margin").fn(init.logits, s.y)
    np.testing.assert_allclose(sc["aum"], margin, rtol=1e-5, atol=1e-6)


def test_planted_noise_ranks_hardest(digits):
    s = digits.train.subset(np.arange(700))
    y, noisy = inject_label_noise(s.y, 0.15, "symmetric", 10, seed=0)
    dyn = TrainingDynamics()
    torch.manual_seed(0)
    fit(
        mlp((1, 8, 8), 10, hidden=(64,)),
        s.with_labels(y),
        epochs=8,
        batch_size=64,
        callbacks=[dyn],
        progress=False,
    )
    sc = dyn.scores()
    pos = s.positions(dyn.sample_ids)
    for col in ("action_score", "aum", "cartography_confidence"):
        assert roc_auc_score(noisy[pos], sc[col]) > 0.9, col


def test_two_term_loss_gives_one_column_per_term(digits):
    s = _small(digits, 200)

    def two_terms(out, yb):
        ce = nn.functional.cross_entropy(out, yb, reduction="none")
        return {"ce": ce, "logit_l2": 1e-2 * out.pow(2).sum(1)}

    act = ActionScore()
    torch.manual_seed(0)
    fit(
        mlp((1, 8, 8), 10, hidden=(16,)),
        s,
        epochs=2,
        loss_fn=two_terms,
        callbacks=[act],
        progress=False,
    )
    sc = act.scores()
    assert set(sc) == {"action_score", "action_score_ce", "action_score_logit_l2"}
    np.testing.assert_allclose(
        sc["action_score_ce"] + sc["action_score_logit_l2"], sc["action_score"], rtol=1e-6
    )


def test_bad_input():
    with pytest.raises(ValueError, match="source"):
        TrainingDynamics(source="nope")
    with pytest.raises(ValueError, match="source"):
        TrainingDynamics(source="batches", split=object())
    with pytest.raises(ValueError, match="fit"):
        ActionScore().scores()
