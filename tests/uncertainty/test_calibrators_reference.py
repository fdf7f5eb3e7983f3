"""Each calibrator against an independent implementation on the same inputs.

- temperature scaling vs netcal ``TemperatureScaling`` (netcal fits ``w = 1/T`` on ``log p``);
- histogram binning vs netcal ``HistogramBinning`` (one-vs-rest, renormalised);
- isotonic vs scikit-learn ``IsotonicRegression`` per class, and our PAV vs sklearn's;
- Platt vs scikit-learn (``_sigmoid_calibration``: Platt's smoothed targets) and vs netcal
  ``LogisticCalibration`` / sklearn ``LogisticRegression`` (plain 0/1 targets);
- vector scaling on ``probs=`` vs netcal ``LogisticCalibration`` (``w ⊙ log p + b``);
- matrix scaling and Dirichlet calibration without penalty vs sklearn's unpenalised
  multinomial ``LogisticRegression`` on ``z`` and on ``log p`` (the same model);
- ETS vs a brute-force grid over the weight simplex at the same temperature.

Where the definitions differ the test says so (netcal: float32 inputs, quantile bins).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

from samplescope.functional import log_softmax, softmax
from samplescope.uncertainty import get_calibrator
from samplescope.uncertainty.calibrators.isotonic import pav

netcal_scaling = pytest.importorskip("netcal.scaling")
netcal_binning = pytest.importorskip("netcal.binning")


def _data(n: int, c: int, seed: int, sharpen: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Logits of a model ``sharpen`` times too confident, labels from the calibrated softmax."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, c)) * 2.0
    p = softmax(z, axis=1)
    y = np.minimum((rng.random(n)[:, None] > np.cumsum(p, 1)).sum(1), c - 1)
    return sharpen * z, y


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # netcal/pyro chatter
        yield


def test_temperature_matches_netcal_in_float64() -> None:
    z, y = _data(3000, 4, 0, sharpen=3.0)
    p = softmax(z, axis=1)
    ours = get_calibrator("ts").fit(logits=z, labels=y)
    ref = netcal_scaling.TemperatureScaling(method="mle")
    ref.fit(p, y)  # netcal takes probabilities and fits softmax(w · log p), w = 1/T
    assert 1.0 / float(np.ravel(ref.weights)[0]) == pytest.approx(ours.temperature_, rel=1e-4)
    # netcal clips p at machine epsilon before the log, we at 1e-12: compare rows above both
    ok = p.min(1) > 1e-12
    assert ok.mean() > 0.9
    np.testing.assert_allclose(ref.transform(p)[ok], ours.predict_proba(logits=z)[ok], atol=1e-5)
    # ours is the same from float32 inputs (netcal's scipy fit stays at w = 1 there; see the
    # calibration_vs_netcal benchmark and netcal issue #61)
    t32 = get_calibrator("ts").fit(logits=z.astype(np.float32), labels=y).temperature_
    assert t32 == pytest.approx(ours.temperature_, rel=1e-5)


@pytest.mark.parametrize("n_bins", [5, 10, 15])
def test_histogram_binning_matches_netcal(n_bins: int) -> None:
    # netcal bins [lo, hi) when fitting and (lo, hi] when transforming; with continuous
    # probabilities no value lies on an edge and the two definitions coincide
    z, y = _data(2000, 4, 1, sharpen=2.0)
    p = softmax(z, axis=1)
    pt = softmax(_data(1000, 4, 2, sharpen=2.0)[0], axis=1)
    ours = get_calibrator("histogram", n_bins=n_bins).fit(probs=p, labels=y)
    ref = netcal_binning.HistogramBinning(bins=n_bins)
    ref.fit(p, y)
    np.testing.assert_allclose(ours.predict_proba(probs=pt), ref.transform(pt), atol=1e-12)


def test_histogram_quantile_bins_hold_equal_mass() -> None:
    # netcal has no transform for equal-mass bins (equal_intervals=False): checked directly
    z, y = _data(3000, 3, 3, sharpen=2.0)
    p = softmax(z, axis=1)
    cal = get_calibrator("histogram", n_bins=10, strategy="quantile").fit(probs=p, labels=y)
    for k in range(3):
        edges = cal.edges_[k]
        idx = np.clip(np.searchsorted(edges, p[:, k], side="left") - 1, 0, len(edges) - 2)
        counts = np.bincount(idx, minlength=len(edges) - 1)
        assert len(counts) == 10 and counts.max() - counts.min() <= 2
        freq = np.bincount(idx, weights=(y == k), minlength=10) / counts
        np.testing.assert_allclose(cal.values_[k], freq)


def test_isotonic_matches_sklearn_per_class_with_ties() -> None:
    z, y = _data(1500, 4, 4, sharpen=2.5)
    p = np.round(softmax(z, axis=1), 2)  # ties in the inputs (pooled first, as sklearn does)
    p = p / p.sum(1, keepdims=True)
    pt = softmax(_data(700, 4, 5, sharpen=2.5)[0], axis=1)
    ours = get_calibrator("isotonic").fit(probs=p, labels=y)
    ref = np.empty_like(pt)
    for k in range(4):
        iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
        ref[:, k] = iso.fit(p[:, k], (y == k).astype(float)).predict(pt[:, k])
    ref = ref / ref.sum(1, keepdims=True)
    np.testing.assert_allclose(ours.predict_proba(probs=pt), ref, atol=1e-10)


def test_isotonic_all_zero_rows_become_uniform() -> None:
    p = np.array([[0.9, 0.1], [0.8, 0.2], [0.2, 0.8], [0.1, 0.9]])
    y = np.array([1, 1, 0, 0])  # perfectly anti-calibrated: every g_k is 0 on the low side
    q = get_calibrator("isotonic").fit(probs=p, labels=y).predict_proba(probs=[[0.95, 0.05]])
    assert np.all(np.isfinite(q))
    np.testing.assert_allclose(q.sum(1), 1.0)


def test_pav_matches_sklearn() -> None:
    from sklearn.isotonic import isotonic_regression

    rng = np.random.default_rng(6)
    for n in (1, 2, 7, 200):
        yv, w = rng.normal(size=n), rng.random(n) + 0.1
        np.testing.assert_allclose(pav(yv, w), isotonic_regression(yv, sample_weight=w), atol=1e-12)


def test_platt_smoothed_matches_sklearn_sigmoid_calibration() -> None:
    sigmoid_calibration = pytest.importorskip("sklearn.calibration")._sigmoid_calibration
    z, _ = _data(2000, 2, 7)
    s = z[:, 1] - z[:, 0]
    y = (np.random.default_rng(8).random(2000) < 1 / (1 + np.exp(-(0.5 * s - 0.3)))).astype(int)
    a, b = sigmoid_calibration(s, y)  # sklearn: P(y=1) = 1 / (1 + exp(a s + b))
    ours = get_calibrator("platt").fit(logits=z, labels=y)
    assert ours.coef_ == pytest.approx(-a, rel=1e-4)
    assert ours.intercept_ == pytest.approx(-b, abs=1e-4)


def test_platt_plain_matches_netcal_and_logistic_regression() -> None:
    z, _ = _data(2000, 2, 9)
    p = softmax(z, axis=1)
    y = (np.random.default_rng(10).random(2000) < p[:, 1] ** 1.5).astype(int)
    ours = get_calibrator("platt", smoothed_targets=False).fit(probs=p, labels=y)
    ref = netcal_scaling.LogisticCalibration(method="mle")
    ref.fit(p[:, 1].astype(np.float64), y)  # binary: sigmoid(w · logit(p1) + b)
    assert ours.coef_ == pytest.approx(float(np.ravel(ref.weights)[0]), rel=1e-4)
    assert ours.intercept_ == pytest.approx(float(np.ravel(ref.intercept)[0]), abs=1e-4)
    lr = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000)
    lr.fit(np.log(p[:, 1] / p[:, 0])[:, None], y)
    np.testing.assert_allclose(
        ours.predict_proba(probs=p), lr.predict_proba(np.log(p[:, 1] / p[:, 0])[:, None]), atol=1e-5
    )


def test_vector_scaling_on_probs_matches_netcal_logistic_calibration() -> None:
    z, y = _data(2000, 3, 11, sharpen=2.0)
    p = softmax(z, axis=1)
    ours = get_calibrator("vector").fit(probs=p, labels=y)
    ref = netcal_scaling.LogisticCalibration(method="mle")
    ref.fit(p, y)  # multiclass: softmax(w ⊙ log p + b)
    np.testing.assert_allclose(ours.predict_proba(probs=p), ref.transform(p), atol=1e-4)


@pytest.mark.parametrize(("name", "features"), [("matrix", "logits"), ("dirichlet", "log_probs")])
def test_unpenalised_matrix_and_dirichlet_are_multinomial_logistic_regression(
    name: str, features: str
) -> None:
    z, y = _data(1500, 3, 12, sharpen=2.0)
    params = {"l2": 0.0} if name == "matrix" else {"lam": 0.0, "mu": 0.0}
    ours = get_calibrator(name, **params).fit(logits=z, labels=y)
    x = z if features == "logits" else log_softmax(z, axis=1)
    lr = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(x, y)
    np.testing.assert_allclose(ours.predict_proba(logits=z), lr.predict_proba(x), atol=1e-4)


def test_dirichlet_odir_shrinks_off_diagonal_and_intercept_only() -> None:
    z, y = _data(4000, 4, 13, sharpen=3.0)  # truth: q ∝ p^(1/3), i.e. W = I/3, b = 0
    cal = get_calibrator("dirichlet", lam=1e4, mu=1e4).fit(logits=z, labels=y)
    off = cal.coef_[~np.eye(4, dtype=bool)]
    assert np.abs(off).max() < 1e-2 and np.abs(cal.intercept_).max() < 1e-2
    np.testing.assert_allclose(np.diag(cal.coef_), 1 / 3, atol=0.04)  # diagonal is free
    free = get_calibrator("dirichlet", lam=0.0, mu=0.0).fit(logits=z, labels=y)
    assert np.abs(free.coef_[~np.eye(4, dtype=bool)]).max() > np.abs(off).max()


def test_ets_weights_are_the_simplex_optimum() -> None:
    z, y = _data(3000, 5, 14, sharpen=2.5)
    ets = get_calibrator("ets").fit(logits=z, labels=y)
    assert ets.temperature_ == pytest.approx(
        get_calibrator("ts").fit(logits=z, labels=y).temperature_
    )
    comps = [softmax(z / ets.temperature_, axis=1), softmax(z, axis=1), np.full(z.shape, 0.2)]
    py = np.stack([c[np.arange(len(y)), y] for c in comps])
    grid = np.linspace(0, 1, 101)
    best = min(
        -np.mean(np.log(np.array([a, b, 1 - a - b]) @ py))
        for a in grid
        for b in grid
        if a + b <= 1 + 1e-12
    )
    ours = -np.mean(np.log(ets.weights_ @ py))
    assert ours <= best + 1e-9
    assert ets.weights_.min() >= 0 and ets.weights_.sum() == pytest.approx(1.0)
    assert ets.nll_after_ <= get_calibrator("ts").fit(logits=z, labels=y).nll_after_ + 1e-9
