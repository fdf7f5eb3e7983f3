"""The functional core: independent references, analytic limits, hypothesis properties, layering."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
import scipy.special
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

import samplescope.functional as F

LOG2 = np.log(2.0)
SRC = Path(F.__file__).resolve().parent


def _probs(s: int, n: int, c: int, seed: int, alpha: float = 0.5) -> np.ndarray:
    return np.random.default_rng(seed).dirichlet(np.full(c, alpha), size=(s, n))


stochastic = st.tuples(
    st.integers(1, 7), st.integers(1, 6), st.integers(2, 5), st.integers(0, 10**6)
)


# --- independent references -------------------------------------------------------------------


def test_softmax_and_log_softmax_match_scipy() -> None:
    z = np.random.default_rng(0).normal(size=(6, 5)) * 30
    np.testing.assert_allclose(F.softmax(z), scipy.special.softmax(z, axis=-1), rtol=1e-12)
    np.testing.assert_allclose(F.log_softmax(z), scipy.special.log_softmax(z, axis=-1), atol=1e-12)
    np.testing.assert_allclose(F.softmax(z, axis=0), scipy.special.softmax(z, axis=0), rtol=1e-12)
    # no overflow for huge logits; float64 out for float32 in
    big = np.array([[1000.0, 0.0], [-1000.0, 0.0]], dtype=np.float32)
    out = F.softmax(big)
    assert out.dtype == np.float64 and np.isfinite(out).all()
    np.testing.assert_allclose(out, [[1.0, 0.0], [0.0, 1.0]])
    np.testing.assert_allclose(F.log_softmax(big)[0], [0.0, -1000.0])  # finite, unlike log(0)


def test_entropy_matches_scipy_stats() -> None:
    p = _probs(1, 20, 6, 1)[0]
    p[0] = [1, 0, 0, 0, 0, 0]  # 0 log 0 = 0
    np.testing.assert_allclose(F.entropy(p), scipy.stats.entropy(p, axis=1), atol=1e-12)
    np.testing.assert_allclose(F.entropy(p.T, axis=0), scipy.stats.entropy(p, axis=1), atol=1e-12)
    assert F.entropy(p)[0] == 0.0


def test_hand_computed_bald_and_decomposition() -> None:
    # two confident, disagreeing samples of one point: H[p̄] = log 2, mean H = H(0.9, 0.1)
    p = np.array([[[0.9, 0.1]], [[0.1, 0.9]]])
    h = -(0.9 * np.log(0.9) + 0.1 * np.log(0.1))
    d = F.decompose(p)
    assert set(d) == {"predictive_entropy", "expected_entropy", "mutual_information"}
    assert d["predictive_entropy"][0] == pytest.approx(LOG2)
    assert d["expected_entropy"][0] == pytest.approx(h)
    assert d["mutual_information"][0] == pytest.approx(LOG2 - h)
    assert F.mutual_information(p)[0] == pytest.approx(LOG2 - h)
    assert F.predictive_entropy(p)[0] == pytest.approx(LOG2)
    assert F.expected_entropy(p)[0] == pytest.approx(h)
    # Var_s of 0.9/0.1 is 0.16 per class: trace 0.32 = mean ||p_s||² - ||p̄||² = 0.82 - 0.5
    assert F.predictive_variance(p)[0] == pytest.approx(0.82 - 0.5)
    assert F.mean_std(p)[0] == pytest.approx(0.4)
    assert F.variation_ratio(p)[0] == pytest.approx(0.5)


def test_three_sample_point_by_hand() -> None:
    p = np.array([[[0.6, 0.3, 0.1]], [[0.6, 0.3, 0.1]], [[0.1, 0.8, 0.1]]])
    # class 0 wins 2 of 3 votes -> 1 - 2/3 (Gal's mode count, not 1 - max p̄ = 1 - 1.4/3)
    assert F.variation_ratio(p)[0] == pytest.approx(1 / 3)
    var = np.array([2 * 0.5**2 / 9, 2 * 0.5**2 / 9, 0.0])  # var of {a, a, b} = 2(a - b)²/9
    assert F.mean_std(p)[0] == pytest.approx(np.sqrt(var).mean())
    assert F.predictive_variance(p)[0] == pytest.approx(var.sum())


def test_confidence_quantities_by_hand() -> None:
    p = np.array([[0.2, 0.5, 0.3], [1 / 3, 1 / 3, 1 / 3], [0.0, 0.0, 1.0]])
    np.testing.assert_allclose(F.max_prob(p), [0.5, 1 / 3, 1.0])
    np.testing.assert_allclose(F.least_confidence(p), [0.5, 2 / 3, 0.0])
    np.testing.assert_allclose(F.prob_margin(p), [0.2, 0.0, 1.0], atol=1e-15)


def test_logit_margin_by_hand_and_stacked() -> None:
    z = np.array([[2.0, 1.0, -1.0], [0.0, 3.0, 1.0]])
    y = np.array([0, 0])
    np.testing.assert_allclose(F.logit_margin(z, y), [1.0 - 2.0, 3.0 - 0.0])
    stacked = np.stack([z, 2 * z])  # (R, N, C) -> (R, N)
    np.testing.assert_allclose(F.logit_margin(stacked, y), [[-1.0, 3.0], [-2.0, 6.0]])
    assert np.array_equal(z, [[2.0, 1.0, -1.0], [0.0, 3.0, 1.0]])  # input untouched


# --- analytic limits ----------------------------------------------------------------------------


def test_limits() -> None:
    one = _probs(1, 9, 4, 2)
    same = np.repeat(one, 6, axis=0)
    np.testing.assert_allclose(F.mutual_information(same), 0.0, atol=1e-12)
    np.testing.assert_allclose(F.predictive_variance(same), 0.0, atol=1e-15)
    np.testing.assert_allclose(F.mean_std(same), 0.0, atol=1e-7)
    assert np.all(F.variation_ratio(same) == 0)  # unanimous votes
    assert np.all(F.mutual_information(one) == 0)  # S = 1
    for c in (2, 3, 7):
        uniform = np.full((3, 4, c), 1.0 / c)
        np.testing.assert_allclose(F.entropy(uniform[0]), np.log(c))
        np.testing.assert_allclose(F.predictive_entropy(uniform), np.log(c))
        np.testing.assert_allclose(F.mutual_information(uniform), 0.0, atol=1e-12)
        np.testing.assert_allclose(F.softmax(np.zeros((2, c))), 1.0 / c)
    # one-hot votes spread evenly over C classes: all the entropy is epistemic
    votes = np.eye(4)[:, None, :]
    d = F.decompose(votes)
    assert d["expected_entropy"][0] == 0 and d["mutual_information"][0] == pytest.approx(np.log(4))
    assert F.variation_ratio(votes)[0] == pytest.approx(0.75)


# --- hypothesis properties ----------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(stochastic, st.floats(0.05, 5.0))
def test_decomposition_properties(shape: tuple[int, int, int, int], alpha: float) -> None:
    s, n, c, seed = shape
    p = _probs(s, n, c, seed, alpha)
    d = F.decompose(p)
    h, e, mi = d["predictive_entropy"], d["expected_entropy"], d["mutual_information"]
    assert np.all(mi >= 0) and np.all(mi <= h + 1e-12)
    assert np.all(e >= 0) and np.all(e <= h) and np.all(h <= np.log(c) + 1e-9)
    np.testing.assert_allclose(e + mi, h, atol=1e-12)
    for k, fn in (
        ("predictive_entropy", F.predictive_entropy),
        ("expected_entropy", F.expected_entropy),
        ("mutual_information", F.mutual_information),
    ):
        np.testing.assert_array_equal(fn(p), d[k])
    # the order of the S samples does not matter; chunks over N equal the whole
    perm = np.random.default_rng(seed).permutation(s)
    np.testing.assert_allclose(F.mutual_information(p[perm]), mi, atol=1e-12)
    chunks = np.concatenate([F.mutual_information(p[:, i : i + 1]) for i in range(n)])
    np.testing.assert_allclose(chunks, mi, atol=1e-15)


@settings(max_examples=60, deadline=None)
@given(stochastic)
def test_dispersion_properties(shape: tuple[int, int, int, int]) -> None:
    s, n, c, seed = shape
    p = _probs(s, n, c, seed)
    ms, pv, vr = F.mean_std(p), F.predictive_variance(p), F.variation_ratio(p)
    assert np.all(ms >= 0) and np.all(pv >= 0)
    np.testing.assert_allclose(pv, p.var(axis=0).sum(axis=-1), atol=1e-15)  # Σ_c Var_s
    np.testing.assert_allclose(ms, p.std(axis=0).mean(axis=-1), atol=1e-12)
    # Zhou's form mean_s ||p_s||² - ||p̄||² (with cancellation) agrees to rounding
    zhou = (p**2).sum(-1).mean(0) - (p.mean(0) ** 2).sum(-1)
    np.testing.assert_allclose(pv, zhou, atol=1e-12)
    assert np.all(vr >= 0) and np.all(vr <= 1 - np.ceil(s / c) / s + 1e-12)
    np.testing.assert_allclose(vr * s, np.round(vr * s), atol=1e-9)  # a count over S
    # reference vote count with a Python loop
    ref = [1 - np.bincount(p[:, i].argmax(-1), minlength=c).max() / s for i in range(n)]
    np.testing.assert_allclose(vr, ref)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 8), st.integers(2, 6), st.integers(0, 10**6), st.floats(0.1, 100.0))
def test_softmax_properties(n: int, c: int, seed: int, scale: float) -> None:
    z = np.random.default_rng(seed).normal(size=(n, c)) * scale
    p, lp = F.softmax(z), F.log_softmax(z)
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, atol=1e-12)
    assert np.all(p >= 0) and np.all(lp <= 0)
    np.testing.assert_allclose(np.exp(lp), p, atol=1e-12)
    np.testing.assert_allclose(F.softmax(z + 7.0), p, atol=1e-12)  # shift invariance
    m = F.prob_margin(p)
    assert np.all((m >= 0) & (m <= 1))
    top2 = np.sort(p, axis=-1)[:, -2:]
    np.testing.assert_allclose(m, top2[:, 1] - top2[:, 0], atol=1e-15)
    np.testing.assert_allclose(F.least_confidence(p), 1 - F.max_prob(p))
    y = np.random.default_rng(seed + 1).integers(c, size=n)
    wrong = F.logit_margin(z, y) > 0  # positive exactly when another class out-scores y
    assert np.array_equal(wrong, (z.argmax(1) != y) & (z.max(1) > z[np.arange(n), y]))


# --- layering -------------------------------------------------------------------------------------


def test_functional_imports_only_numpy() -> None:
    for path in SRC.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                mod = node.module or ""
                if node.level:  # relative: only siblings or samplescope._validation
                    assert node.level == 1 or mod == "_validation", (path.name, mod)
                else:
                    assert mod.split(".")[0] in {"numpy", "scipy", "__future__", "typing"}, mod
            elif isinstance(node, ast.Import):
                for a in node.names:
                    assert a.name.split(".")[0] in {"numpy", "scipy"}, (path.name, a.name)


def test_label_nll_matches_sklearn_log_loss_and_floors_zero():
    from sklearn.metrics import log_loss

    rng = np.random.default_rng(3)
    p = rng.dirichlet(np.ones(4), size=50)
    y = rng.integers(0, 4, size=50)
    per = F.label_nll(p, y)
    assert per.shape == (50,) and (per >= 0).all()
    np.testing.assert_allclose(per.mean(), log_loss(y, p, labels=range(4)), rtol=1e-12)
    p0 = np.array([[1.0, 0.0], [0.5, 0.5]])
    np.testing.assert_allclose(F.label_nll(p0, np.array([1, 0])), [-np.log(1e-12), np.log(2.0)])
