"""Static transforms, hard/easy-first, χ² divergence: formulas, limits, properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.stats import power_divergence, rankdata

from samplescope.weighting import (
    chain,
    chi2_divergence,
    clip,
    easy_first,
    floor,
    get_weighting,
    hard_first,
    hard_first_weights,
    inverse_margin,
    list_weightings,
    mean_one,
    normalize,
    power,
    solve_for_chi2,
    static_weights,
    temper,
)

finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)


def test_chain_equals_manual_composition():
    d = np.array([0.3, -1.0, 2.5, 0.0, 1.1])
    w = chain(normalize("minmax"), temper(0.5), mean_one())(d)
    dn = (d - d.min()) / (d.max() - d.min())
    ref = np.exp(dn / 0.5)
    np.testing.assert_allclose(w, ref / ref.mean())


def test_normalize_methods():
    d = np.array([3.0, 1.0, 2.0, 2.0])
    np.testing.assert_allclose(normalize("rank")(d), (rankdata(d) - 1) / 3)
    np.testing.assert_allclose(normalize("minmax")(d), [1, 0, 0.5, 0.5])
    z = normalize("zscore")(d)
    assert abs(z.mean()) < 1e-12 and abs(z.std() - 1) < 1e-12
    np.testing.assert_array_equal(normalize("minmax")(np.ones(3)), np.zeros(3))


def test_temperature_limits():
    d = np.linspace(0, 1, 50)
    w_hot = hard_first_weights(d, temperature=1e6).weights
    np.testing.assert_allclose(w_hot, 1.0, atol=1e-5)  # t -> inf: uniform
    w_cold = hard_first_weights(d, temperature=1e-3).weights
    assert w_cold.argmax() == 49 and w_cold[49] / w_cold.sum() > 0.999  # t -> 0: the hardest sample


def test_hard_first_exact_formula_and_direction():
    d = np.array([0.1, 5.0, 2.0, -3.0])
    r = hard_first_weights(d, temperature=2.0)
    rank = (rankdata(d) - 1) / 3
    ref = np.exp(rank / 2.0)
    np.testing.assert_allclose(r.weights, ref / ref.mean())
    assert np.all(np.diff(r.weights[np.argsort(d)]) > 0)
    e = easy_first(2.0)(d)
    assert np.all(np.diff(e[np.argsort(d)]) < 0)


def test_power_form_and_clip():
    d = np.array([0.0, 0.25, 1.0])
    r = hard_first_weights(d, temperature=0.5, method="minmax", form="power")
    ref = (d + 1e-12) ** 2
    np.testing.assert_allclose(r.weights, ref / ref.mean())
    w = chain(clip(1.5), mean_one())(np.array([1.0, 1.0, 10.0]))
    raw = np.array([1.0, 1.0, 1.5 * 4.0])
    np.testing.assert_allclose(w, raw / raw.mean())
    with pytest.raises(ValueError, match="non-negative"):
        power(2.0)(np.array([-1.0, 1.0]))


def test_chi2_matches_scipy_pearson_and_limits():
    rng = np.random.default_rng(0)
    w = rng.gamma(2.0, size=40)
    wh = w * 40 / w.sum()
    ref = power_divergence(wh, np.ones(40), lambda_="pearson").statistic / 40
    assert chi2_divergence(w) == pytest.approx(ref)
    assert chi2_divergence(w) == pytest.approx(np.var(wh))
    assert chi2_divergence(w, direction="uniform||weighted") == pytest.approx(np.mean(1 / wh) - 1)
    assert chi2_divergence(np.full(7, 3.0)) == pytest.approx(0.0, abs=1e-15)
    assert chi2_divergence(np.array([0.0, 1.0]), direction="uniform||weighted") == np.inf


def test_chi2_cap_is_met_tightly():
    d = np.random.default_rng(1).normal(size=200)
    r = hard_first_weights(d, chi2_cap=0.3)
    assert r.chi2 <= 0.3 + 1e-9 and r.chi2 > 0.3 - 1e-3
    # a tighter cap means a hotter temperature
    assert hard_first_weights(d, chi2_cap=0.05).temperature > r.temperature
    t, w, D = solve_for_chi2(lambda tt: np.exp((np.linspace(0, 1, 10) - 1) / tt), 0.01)
    assert D <= 0.01 + 1e-9


def test_inverse_margin():
    d = -np.array([0.5, 2.0, -1.0])  # margins 0.5, 2, -1
    w = inverse_margin(0.1)(d)
    ref = 1 / (np.array([0.5, 2.0, 0.0]) + 0.1)
    np.testing.assert_allclose(w, ref / ref.mean())


@pytest.mark.parametrize(
    "make",
    [
        lambda: temper(0),
        lambda: temper(-1),
        lambda: normalize("bogus"),
        lambda: clip(0.5, min_ratio=2),
        lambda: hard_first(form="cubic"),
        lambda: hard_first(max_ratio=0.5),
        lambda: hard_first(chi2_cap=-1),
        lambda: floor(-1),
        lambda: inverse_margin(0),
    ],
)
def test_bad_parameters_raise(make):
    with pytest.raises(ValueError):
        make()


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="values"):
        hard_first()(np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match="weights"):
        chi2_divergence(np.array([-1.0, 2.0]))
    with pytest.raises(ValueError, match="chi2_cap"):
        hard_first_weights(np.arange(5.0), chi2_cap=1e-9, method="rank")  # unreachable at t <= 1e4
    with pytest.raises(ValueError, match="weighting"):
        get_weighting("nope")
    with pytest.raises(ValueError, match="difficulty"):
        static_weights("hard_first", np.zeros(3, dtype=int))
    with pytest.raises(ValueError, match="params"):
        static_weights("grw", np.zeros(3, dtype=int), params={"bogus": 1})


@settings(max_examples=60, deadline=None)
@given(
    d=arrays(np.float64, st.integers(2, 40), elements=finite),
    t=st.floats(0.01, 100),
    data=st.data(),
)
def test_property_static_weights_finite_nonnegative(d, t, data):
    y = data.draw(arrays(np.int64, len(d), elements=st.integers(0, 3)))
    for name in list_weightings("static"):
        spec = get_weighting(name)
        params = {"temperature": t} if name in ("hard_first", "easy_first") else {}
        w = static_weights(
            name, y, d if spec.needs_difficulty else None, num_classes=4, params=params
        )
        assert w.shape == d.shape and np.all(np.isfinite(w)) and np.all(w >= 0) and w.sum() > 0
        if name in ("hard_first", "easy_first", "inverse_margin", "uniform"):
            assert w.mean() == pytest.approx(1.0)  # documented: mean one
    assert chi2_divergence(hard_first(t)(d)) >= 0


@settings(max_examples=40, deadline=None)
@given(d=arrays(np.float64, st.integers(2, 30), elements=finite), t=st.floats(0.05, 20))
def test_property_hard_first_monotone(d, t):
    w = hard_first(t, method="minmax")(d)
    o = np.argsort(d, kind="stable")
    assert np.all(np.diff(w[o]) >= -1e-12)
