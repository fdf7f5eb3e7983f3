import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from samplescope.difficulty import (
    confidence_score,
    entropy_score,
    get_measure,
    list_measures,
    loss_score,
    margin_score,
)

LOGITS = np.array([[2.0, 1.0, 0.0], [0.0, 0.0, 3.0]])
LABELS = np.array([0, 1])


def test_hand_computed_values():
    p0 = np.exp([2.0, 1.0, 0.0]) / np.exp([2.0, 1.0, 0.0]).sum()
    p1 = np.exp([0.0, 0.0, 3.0]) / np.exp([0.0, 0.0, 3.0]).sum()
    np.testing.assert_allclose(loss_score(LOGITS, LABELS), [-np.log(p0[0]), -np.log(p1[1])])
    np.testing.assert_allclose(confidence_score(LOGITS, LABELS), [1 - p0[0], 1 - p1[1]])
    np.testing.assert_allclose(margin_score(LOGITS, LABELS), [-(2.0 - 1.0), -(0.0 - 3.0)])
    h = lambda p: -(p * np.log(p)).sum()  # noqa: E731
    np.testing.assert_allclose(entropy_score(LOGITS, LABELS), [h(p0), h(p1)])


def test_higher_is_harder_direction():
    # sample 1 is misclassified, sample 0 correct: every label-aware measure ranks 1 harder
    for name in ("loss", "confidence", "margin"):
        s = get_measure(name)(LOGITS, LABELS)
        assert s[1] > s[0], name


def test_uniform_logits_limit():
    z = np.zeros((4, 5))
    y = np.arange(4)
    np.testing.assert_allclose(loss_score(z, y), np.log(5))
    np.testing.assert_allclose(entropy_score(z), np.log(5))
    np.testing.assert_allclose(margin_score(z, y), 0)


@given(
    arrays(
        np.float64, st.tuples(st.integers(1, 20), st.integers(2, 6)), elements=st.floats(-30, 30)
    )
)
@settings(max_examples=50, deadline=None)
def test_properties(z):
    y = np.arange(len(z)) % z.shape[1]
    loss, conf, ent = loss_score(z, y), confidence_score(z, y), entropy_score(z)
    assert np.all(loss >= -1e-12) and np.all((conf >= -1e-12) & (conf <= 1 + 1e-12))
    assert np.all(ent <= np.log(z.shape[1]) + 1e-9)
    # loss is monotone in confidence: 1 - exp(-loss) == confidence
    np.testing.assert_allclose(1 - np.exp(-loss), conf, atol=1e-9)


@pytest.mark.parametrize(
    "logits, labels, match",
    [
        (np.zeros((2, 3)), np.array([0, 3]), r"labels: expected labels in \[0, 3\)"),
        (np.zeros((2, 3)), np.array([0]), "labels: expected 2 labels"),
        (np.full((2, 3), np.inf), np.array([0, 1]), "logits: expected finite"),
        (np.zeros(3), np.array([0]), "logits: expected 2-D"),
        (np.zeros((2, 1)), np.array([0, 0]), "C >= 2"),
    ],
)
def test_bad_input(logits, labels, match):
    with pytest.raises(ValueError, match=match):
        loss_score(logits, labels)


def test_registry():
    assert {"loss", "confidence", "margin", "entropy"} <= set(list_measures("logits"))
    with pytest.raises(ValueError, match="measure: expected one of"):
        get_measure("nope")


def test_logit_measures_are_the_functional_core():
    from samplescope import functional as F

    z = np.random.default_rng(0).normal(size=(12, 4)) * 3
    y = np.arange(12) % 4
    np.testing.assert_array_equal(margin_score(z, y), F.logit_margin(z, y))
    np.testing.assert_array_equal(entropy_score(z), F.entropy(F.softmax(z)))
    np.testing.assert_allclose(loss_score(z, y), -F.log_softmax(z)[np.arange(12), y])
    np.testing.assert_allclose(confidence_score(z, y), 1 - F.softmax(z)[np.arange(12), y])
