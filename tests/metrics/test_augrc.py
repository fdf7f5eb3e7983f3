"""AUGRC (Traub et al. 2024) and the risk at a fixed coverage against their definitions."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from samplescope.metrics import augrc, aurc, risk_at_coverage


def _augrc_by_definition(correct: np.ndarray, trust: np.ndarray) -> float:
    """Mean over k of (errors among the k most trusted)/N, ties averaged over every order."""
    n = len(correct)
    total, count = 0.0, 0
    # average over all orders consistent with decreasing trust (ties permuted)
    order = np.argsort(-trust, kind="mergesort")
    groups = [list(g) for _, g in itertools.groupby(order, key=lambda i: trust[i])]
    for perm in itertools.product(*(itertools.permutations(g) for g in groups)):
        seq = [i for g in perm for i in g]
        err = np.cumsum([1 - correct[i] for i in seq])
        total += float(np.mean(err / n))
        count += 1
    return total / count


def test_augrc_hand_example() -> None:
    # trust order: c c e c e  -> E_k = 0,0,1,1,2 ; AUGRC = (0+0+1+1+2)/5/5 = 0.16
    correct = np.array([1, 1, 0, 1, 0])
    trust = np.array([0.9, 0.8, 0.7, 0.6, 0.5])
    assert augrc(correct, trust) == pytest.approx(4 / 25)
    # the identity (1/N²) Σ_errors (N - rank + 1): ranks 3 and 5 -> (3 + 1)/25
    assert augrc(correct, trust) == pytest.approx(((5 - 3 + 1) + (5 - 5 + 1)) / 25)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.booleans(), st.integers(0, 3)), min_size=1, max_size=7),
)
def test_augrc_equals_definition_with_ties(pairs: list[tuple[bool, int]]) -> None:
    correct = np.array([int(c) for c, _ in pairs])
    trust = np.array([float(t) for _, t in pairs])
    assert augrc(correct, trust) == pytest.approx(_augrc_by_definition(correct, trust))


def test_augrc_limits() -> None:
    rng = np.random.default_rng(0)
    correct = (rng.random(4000) > 0.2).astype(int)
    r = 1 - correct.mean()
    perfect = augrc(correct, correct + 0.0)  # errors last
    worst = augrc(correct, -correct + 0.0)  # errors first
    random = augrc(correct, rng.random(4000))
    assert perfect == pytest.approx(r**2 / 2, abs=1e-3)
    assert random == pytest.approx(r / 2, abs=0.01)
    assert worst > random > perfect
    # a constant score: all ties -> exactly the random-order expectation (N+1)/(2N) · r
    assert augrc(correct, np.zeros(4000)) == pytest.approx(r * (4001) / 8000)


def test_risk_at_coverage_hand_example() -> None:
    correct = np.array([1, 1, 0, 1, 0, 1, 1, 1, 1, 0])
    trust = np.linspace(1, 0, 10)
    # 90% coverage: the 9 most trusted hold 2 errors; 50%: 2 errors in 5; 100% = error rate
    assert risk_at_coverage(correct, trust, 0.9) == pytest.approx(2 / 9)
    assert risk_at_coverage(correct, trust, 0.5) == pytest.approx(2 / 5)
    assert risk_at_coverage(correct, trust, 1.0) == pytest.approx(0.3)
    # ties: all equal -> every coverage has the average risk
    assert risk_at_coverage(correct, np.zeros(10), 0.9) == pytest.approx(0.3)


def test_risk_at_coverage_mean_is_aurc() -> None:
    rng = np.random.default_rng(1)
    correct = (rng.random(50) > 0.3).astype(int)
    trust = rng.random(50)
    risks = [risk_at_coverage(correct, trust, k / 50) for k in range(1, 51)]
    assert np.mean(risks) == pytest.approx(aurc(correct, trust))


@pytest.mark.parametrize("bad", [0.0, -0.1, 1.5, float("nan"), "x"])
def test_risk_at_coverage_bad_coverage(bad: object) -> None:
    with pytest.raises(ValueError, match="coverage"):
        risk_at_coverage([1, 0], [0.2, 0.1], bad)  # type: ignore[arg-type]
