"""Smooth ECE (Błasiok & Nakkiran 2024) against relplot, analytic limits, bounds, the curve."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from samplescope.functional import softmax
from samplescope.metrics import smooth_ece, smooth_ece_binary, smooth_reliability_curve

relplot = pytest.importorskip("relplot")


def _binary(n: int, seed: int, kind: str) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    f = rng.random(n)
    truth = {
        "calibrated": f,
        "s_curve": np.clip(0.5 + 1.6 * (f - 0.5), 0, 1),  # over-confident: the gap changes sign
        "wiggle": np.clip(f + 0.15 * np.sin(8 * f), 0, 1),
        "power": f**1.4,
    }[kind]
    return f, (rng.random(n) < truth).astype(float)


@pytest.mark.parametrize("kind", ["calibrated", "s_curve", "wiggle", "power"])
@pytest.mark.parametrize("n", [60, 800, 5000])
def test_matches_relplot(kind: str, n: int) -> None:
    # relplot smooths on a grid with one reflection per side and the kernel cut at ±0.5, and
    # bisects σ to 2^-10; we use every image of the reflected kernel and Brent's method. The
    # two agree to discretisation error (≲ 1% relative here).
    f, y = _binary(n, n + len(kind), kind)
    ours, sigma = smooth_ece_binary(f, y, return_sigma=True)
    ref, ref_sigma = relplot.smECE(f, y, return_width=True)
    assert ours == pytest.approx(ref, rel=0.02, abs=1e-3)
    assert sigma == pytest.approx(ref_sigma, rel=0.02, abs=2e-3)
    for s in (0.02, 0.05, 0.1):
        assert smooth_ece_binary(f, y, sigma=s) == pytest.approx(
            relplot.smECE_sigma(f, y, s), rel=0.02, abs=5e-4
        )


def test_top_label_matches_relplot_confidences() -> None:
    rng = np.random.default_rng(0)
    z = rng.normal(size=(3000, 5)) * 3
    y = rng.integers(0, 5, 3000)
    y[:1500] = z[:1500].argmax(1)  # half right
    p = softmax(z, axis=1)
    conf, correct = relplot.multiclass_logits_to_confidences(p, y, probs=True)
    assert smooth_ece(p, y) == pytest.approx(relplot.smECE(conf, correct), rel=0.02, abs=1e-3)
    assert smooth_ece(p, y) == pytest.approx(smooth_ece_binary(conf, correct.astype(int)))


def test_fixed_point_and_constant_prediction() -> None:
    f, y = _binary(2000, 1, "s_curve")
    value, sigma = smooth_ece_binary(f, y, return_sigma=True)
    assert value == pytest.approx(sigma, abs=1e-5)  # smECE_σ* = σ*
    assert smooth_ece_binary(f, y, sigma=sigma) == pytest.approx(value)
    # a constant prediction: ∫|Σ K(t, f) r_i| dt / n = |mean r| exactly (∫ K dt = 1)
    y = (np.random.default_rng(2).random(1000) < 0.6).astype(float)
    assert smooth_ece_binary(np.full(1000, 0.7), y) == pytest.approx(abs(y.mean() - 0.7), abs=1e-9)


def test_calibrated_is_small_miscalibrated_is_not() -> None:
    f, y = _binary(20_000, 3, "calibrated")
    g, yg = _binary(20_000, 3, "power")
    assert smooth_ece_binary(f, y) < 0.01
    assert smooth_ece_binary(g, yg) > 0.05  # E|f - f^1.4| ≈ 0.07


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 80), st.integers(0, 10_000), st.sampled_from([None, 0.01, 0.1, 0.5]))
def test_bounds(n: int, seed: int, sigma: float | None) -> None:
    """|mean r| ≤ smECE_σ ≤ mean |r| for the residuals r = y − f (∫ K_σ(t, f) dt = 1)."""
    rng = np.random.default_rng(seed)
    f = rng.random(n)
    y = (rng.random(n) < rng.random()).astype(float)
    v = smooth_ece_binary(f, y, sigma=sigma)
    r = y - f
    # exact for the integral; the kernel is integrated on a grid (as relplot does), which
    # loses up to ~0.5% of its mass at the largest fixed-point bandwidths (n=31, seed=5:
    # |mean r| = 0.3566, smECE 0.3548): 1% relative slack
    assert abs(r.mean()) * (1 - 1e-2) - 1e-9 <= v <= np.abs(r).mean() * (1 + 1e-2) + 1e-9
    perm = rng.permutation(n)
    assert smooth_ece_binary(f[perm], y[perm], sigma=sigma) == pytest.approx(v, rel=1e-9, abs=1e-12)


def test_bad_input() -> None:
    f, y = _binary(20, 4, "calibrated")
    with pytest.raises(ValueError, match="scores: expected probabilities in"):
        smooth_ece_binary(f + 1, y)
    with pytest.raises(ValueError, match="outcomes"):
        smooth_ece_binary(f, y + 2)
    with pytest.raises(ValueError, match="outcomes: expected 20 values"):
        smooth_ece_binary(f, y[:5])
    with pytest.raises(ValueError, match="sigma"):
        smooth_ece_binary(f, y, sigma=0)
    with pytest.raises(ValueError, match="sigma"):
        smooth_ece_binary(f, y, sigma=2.0)
    with pytest.raises(ValueError, match="probs"):
        smooth_ece(np.full((3, 2), 0.7), [0, 1, 0])
    with pytest.raises(ValueError, match="labels"):
        smooth_ece(np.full((3, 2), 0.5), [0, 2, 0])


def test_reliability_curve_of_a_calibrated_model() -> None:
    rng = np.random.default_rng(5)
    z = rng.normal(size=(6000, 4)) * 2
    p = softmax(z, axis=1)
    y = np.minimum((rng.random(6000)[:, None] > np.cumsum(p, 1)).sum(1), 3)
    c = smooth_reliability_curve(p, y, n_boot=50, seed=0)
    assert set(c) == {"t", "mu", "lower", "upper", "density", "sigma", "smooth_ece"}
    assert c["smooth_ece"] == pytest.approx(smooth_ece(p, y))
    dt = c["t"][1] - c["t"][0]
    assert np.sum(c["density"]) * dt == pytest.approx(1.0, abs=0.02)
    seen = (c["t"] > 0.4) & (c["t"] < 0.95)  # where the confidences are dense
    assert np.all(c["lower"][seen] <= c["mu"][seen] + 1e-12)
    assert np.all(c["mu"][seen] <= c["upper"][seen] + 1e-12)
    assert np.mean(np.abs(c["mu"][seen] - c["t"][seen])) < 0.03  # μ̂(t) ≈ t
    covered = (c["lower"][seen] <= c["t"][seen]) & (c["t"][seen] <= c["upper"][seen])
    assert covered.mean() > 0.7
    over = smooth_reliability_curve(softmax(3 * z, axis=1), y, n_boot=0)
    assert np.all(np.isnan(over["lower"]))
    assert np.mean(over["mu"][seen] - over["t"][seen]) < -0.05  # over-confident: below diagonal
    with pytest.raises(ValueError, match="n_boot"):
        smooth_reliability_curve(p, y, n_boot=-1)
    with pytest.raises(ValueError, match="n_points"):
        smooth_reliability_curve(p, y, n_points=1)
    with pytest.raises(ValueError, match="n_points"):
        smooth_reliability_curve(p, y, n_points=float("nan"))
    with pytest.raises(ValueError, match="n_boot"):
        smooth_reliability_curve(p, y, n_boot=float("nan"))
