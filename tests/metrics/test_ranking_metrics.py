"""Failure prediction, selective prediction, separability and noise detection metrics."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm
from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve

from samplescope.metrics import (
    aupr_error,
    aupr_success,
    aurc,
    auroc,
    bhattacharyya,
    eaurc,
    failure_report,
    fpr_at_tpr,
    gaussian_kl,
    noise_detection_report,
    optimal_aurc,
    risk_coverage_curve,
    symmetric_gaussian_kl,
    tpr_tnr,
)


def _data(n: int, seed: int, ties: bool = False) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    correct = rng.random(n) < 0.7
    trust = rng.normal(size=n) + correct
    if ties:
        trust = np.round(trust, 1)
    return correct, trust


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("ties", [False, True])
def test_auroc_ap_match_sklearn(seed: int, ties: bool) -> None:
    c, s = _data(400, seed, ties)
    assert auroc(c, s) == pytest.approx(roc_auc_score(c, s), abs=1e-6)
    assert aupr_success(c, s) == pytest.approx(average_precision_score(c, s), abs=1e-6)
    assert aupr_error(c, s) == pytest.approx(average_precision_score(~c, -s), abs=1e-6)


@pytest.mark.parametrize("seed", range(4))
def test_fpr_at_tpr_matches_sklearn_roc(seed: int) -> None:
    c, s = _data(400, seed, ties=seed % 2 == 1)
    fpr, tpr, _ = roc_curve(c, s, drop_intermediate=False)
    assert fpr_at_tpr(c, s, 0.95) == pytest.approx(fpr[tpr >= 0.95].min(), abs=1e-12)


def test_tpr_tnr_by_hand() -> None:
    c = np.array([1, 1, 1, 0, 0])
    s = np.array([0.9, 0.5, 0.2, 0.5, 0.7])
    tpr, tnr = tpr_tnr(c, s, 0.5)
    assert tpr == pytest.approx(1 / 3)  # only 0.9 > 0.5
    assert tnr == pytest.approx(1 / 2)  # 0.5 <= 0.5


def test_perfect_and_reversed_ranking() -> None:
    c = np.array([1] * 8 + [0] * 4, dtype=bool)
    s = np.r_[np.linspace(1, 2, 8), np.linspace(-2, -1, 4)]
    assert auroc(c, s) == 1.0 and aupr_success(c, s) == 1.0 and aupr_error(c, s) == 1.0
    assert fpr_at_tpr(c, s) == 0.0
    assert auroc(c, -s) == 0.0
    # perfect ranking attains the exact optimal AURC, and E-AURC(exact) = 0
    assert aurc(c, s) == pytest.approx(optimal_aurc(c, exact=True), abs=1e-12)
    assert eaurc(c, s, exact=True) == pytest.approx(0.0, abs=1e-12)
    # the exact optimum is mean_k max(0, k - 8)/k for k = 1..12 (hand-computed)
    k = np.arange(1, 13)
    assert optimal_aurc(c, exact=True) == pytest.approx(np.mean(np.maximum(0, k - 8) / k))


def test_continuous_optimum_is_the_large_n_limit() -> None:
    rng = np.random.default_rng(0)
    c = rng.random(200_000) < 0.8
    perfect = c.astype(float) + rng.random(len(c)) * 0.1
    r = 1 - c.mean()
    assert optimal_aurc(c) == pytest.approx(r + (1 - r) * np.log(1 - r))
    assert aurc(c, perfect) == pytest.approx(optimal_aurc(c), abs=1e-3)
    assert 0 <= eaurc(c, perfect) < 1e-3


def test_random_trust_aurc_equals_error_rate() -> None:
    # constant trust: every coverage has the expected risk = overall error rate
    c, _ = _data(1000, 1)
    cov, risk = risk_coverage_curve(c, np.zeros(len(c)))
    assert np.allclose(risk, 1 - c.mean())
    assert aurc(c, np.zeros(len(c))) == pytest.approx(1 - c.mean())
    assert cov[-1] == 1.0 and cov[0] == pytest.approx(1 / len(c))


def test_failure_report_keys_and_consistency() -> None:
    c, s = _data(300, 5)
    r = failure_report(c, s, threshold=0.3)
    assert set(r) == {
        "acc",
        "auroc",
        "aupr_success",
        "aupr_error",
        "fpr95",
        "tpr",
        "tnr",
        "aurc",
        "eaurc",
    }
    assert r["auroc"] == pytest.approx(auroc(c, s))
    assert (r["tpr"], r["tnr"]) == tpr_tnr(c, s, 0.3)
    assert r["eaurc"] == pytest.approx(eaurc(c, s))
    assert r["acc"] == pytest.approx(c.mean())


def test_one_class_gives_nan_with_warning() -> None:
    with pytest.warns(RuntimeWarning, match="undefined"):
        assert np.isnan(auroc(np.ones(5), np.arange(5.0)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = failure_report(np.ones(5), np.arange(5.0))
    assert np.isnan(r["auroc"]) and np.isnan(r["tnr"]) and r["aurc"] == 0.0


@settings(max_examples=50, deadline=None)
@given(st.integers(2, 80), st.integers(0, 10_000), st.booleans())
def test_selective_properties(n: int, seed: int, ties: bool) -> None:
    c, s = _data(n, seed, ties)
    cov, risk = risk_coverage_curve(c, s)
    assert np.all((risk >= -1e-12) & (risk <= 1 + 1e-12))
    assert risk[-1] == pytest.approx(1 - c.mean())
    a = aurc(c, s)
    assert optimal_aurc(c, exact=True) - 1e-12 <= a <= 1
    # order of the input does not matter (ties averaged)
    perm = np.random.default_rng(seed).permutation(n)
    assert aurc(c[perm], s[perm]) == pytest.approx(a, abs=1e-12)
    # a monotone transform of the trust leaves ranking metrics unchanged
    assert aurc(c, np.exp(s / 3)) == pytest.approx(a, abs=1e-12)


def test_gaussian_kl_analytic() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(size=1000)
    assert gaussian_kl(a, a) == 0.0
    assert symmetric_gaussian_kl(a, a + 0) == 0.0 and bhattacharyya(a, a) == pytest.approx(
        0.0, abs=1e-15
    )
    # standardised samples -> exact moments: N(0,1) vs N(2, 4)
    z = (a - a.mean()) / a.std()
    b = 2 + 2 * z
    expected = np.log(2) + (1 + 4) / (2 * 4) - 0.5
    assert gaussian_kl(z, b) == pytest.approx(expected, abs=1e-12)
    rev = np.log(1 / 2) + (4 + 4) / 2 - 0.5
    assert symmetric_gaussian_kl(z, b) == pytest.approx(0.5 * (expected + rev), abs=1e-12)
    bh = 0.25 * np.log(0.25 * (1 / 4 + 4 + 2)) + 0.25 * 4 / 5
    assert bhattacharyya(z, b) == pytest.approx(bh, abs=1e-12)


def test_gaussian_kl_matches_numeric_integral() -> None:
    z = np.linspace(-1, 1, 11)
    z = (z - z.mean()) / z.std()
    a, b = 0.3 + 0.5 * z, -1 + 1.5 * z
    x = np.linspace(-15, 15, 200_001)
    pa, pb = norm.pdf(x, 0.3, 0.5), norm.pdf(x, -1, 1.5)
    numeric = np.trapezoid(pa * (np.log(pa) - np.log(pb)), x)
    assert gaussian_kl(a, b) == pytest.approx(numeric, abs=1e-6)
    bc = np.trapezoid(np.sqrt(pa * pb), x)
    assert bhattacharyya(a, b) == pytest.approx(-np.log(bc), abs=1e-6)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000))
def test_separability_properties(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a, b = (
        rng.normal(rng.normal(), rng.uniform(0.1, 3), 30),
        rng.normal(rng.normal(), rng.uniform(0.1, 3), 20),
    )
    assert gaussian_kl(a, b) >= 0 and bhattacharyya(a, b) >= 0
    assert bhattacharyya(a, b) == pytest.approx(bhattacharyya(b, a))
    assert symmetric_gaussian_kl(a, b) == pytest.approx(symmetric_gaussian_kl(b, a))
    # shift invariance
    assert gaussian_kl(a + 5, b + 5) == pytest.approx(gaussian_kl(a, b), rel=1e-9, abs=1e-12)


def test_noise_detection_report() -> None:
    rng = np.random.default_rng(0)
    noisy = rng.random(1000) < 0.2
    difficulty = rng.normal(size=1000) + 2 * noisy
    r = noise_detection_report(noisy, difficulty)
    assert r["auroc"] == pytest.approx(roc_auc_score(noisy, difficulty), abs=1e-6)
    assert r["ap"] == pytest.approx(average_precision_score(noisy, difficulty), abs=1e-6)
    k = round(noisy.mean() * 1000)
    top = np.argsort(-difficulty)[:k]
    assert r["fnr_at_rate"] == pytest.approx(1 - noisy[top].sum() / noisy.sum())
    assert r["flagged"] == k
    # perfect detector -> FNR 0 at the true rate; flag everything -> FNR 0; flag none -> FNR 1
    perfect = noise_detection_report(noisy, noisy.astype(float))
    assert perfect["fnr_at_rate"] == 0.0 and perfect["auroc"] == 1.0 and perfect["ap"] == 1.0
    assert noise_detection_report(noisy, difficulty, rate=1.0)["fnr_at_rate"] == 0.0
    assert noise_detection_report(noisy, difficulty, rate=0.0)["fnr_at_rate"] == 1.0


def test_bad_input() -> None:
    c, s = _data(20, 0)
    for fn in (auroc, aupr_success, aupr_error, fpr_at_tpr, aurc, eaurc, failure_report):
        with pytest.raises(ValueError, match="correct"):
            fn(np.full(20, 2), s)
        with pytest.raises(ValueError, match="trust"):
            fn(c, np.r_[s[:-1], np.nan])
        with pytest.raises(ValueError, match="mismatched"):
            fn(c, s[:10])
    with pytest.raises(ValueError, match="tpr"):
        fpr_at_tpr(c, s, tpr=1.5)
    with pytest.raises(ValueError, match="scores_a"):
        gaussian_kl(np.ones(5), s)
    with pytest.raises(ValueError, match="scores_b"):
        bhattacharyya(s, s[:1])
    with pytest.raises(ValueError, match="rate"):
        noise_detection_report(c, s, rate=-0.1)
    with pytest.raises(ValueError, match="is_noisy"):
        noise_detection_report(s, s)
