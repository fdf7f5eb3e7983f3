"""Bootstrap intervals: coverage of a known population value, determinism, the report, errors."""

from __future__ import annotations

import numpy as np
import pytest

from samplescope.metrics import (
    REPORT_MEASURES,
    adaptive_ece,
    aurc,
    auroc,
    bootstrap_ci,
    brier,
    calibration_report,
    classwise_ece,
    ece,
    mce,
    nll,
    smooth_ece,
)


class _Population:
    """M inputs drawn uniformly; at input x the model says ``p_x``, the truth is ``q_x``."""

    def __init__(self, m: int = 25, c: int = 4, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.p = rng.dirichlet(np.full(c, 0.7), size=m)
        self.q = 0.6 * rng.dirichlet(np.full(c, 0.7), size=m) + 0.4 * self.p
        self.c = c

    def values(self) -> dict[str, float]:
        p, q = self.p, self.q
        return {
            "accuracy": float(np.mean(q[np.arange(len(p)), p.argmax(1)])),
            "nll": float(np.mean(np.sum(q * -np.log(p), axis=1))),
            # E_y Σ_j (p_j − 1[j = y])² = Σ_j p_j² − 2 p·q + 1
            "brier": float(np.mean(np.sum(p**2, 1) - 2 * np.sum(p * q, 1) + 1)),
        }

    def sample(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        x = rng.integers(0, len(self.p), n)
        y = (rng.random(n)[:, None] > np.cumsum(self.q[x], 1)).sum(1)
        return self.p[x], np.minimum(y, self.c - 1)


def test_percentile_intervals_cover_the_population_value_at_the_stated_rate() -> None:
    pop = _Population()
    truth = pop.values()
    rng = np.random.default_rng(1)
    reps = 150
    hits = {ci: dict.fromkeys(truth, 0) for ci in (0.95, 0.5)}
    for r in range(reps):
        p, y = pop.sample(300, rng)
        for ci in hits:
            rep = calibration_report(p, y, ci=ci, n_boot=200, measures=list(truth), seed=r)
            for k, (_, lo, hi) in rep.items():
                hits[ci][k] += lo <= truth[k] <= hi
    # Monte-Carlo sd of a coverage estimate over 150 repetitions: ~0.018 at 0.95, ~0.04 at 0.5
    for k in truth:
        assert 0.89 <= hits[0.95][k] / reps <= 1.0, (k, hits[0.95][k] / reps)
        assert 0.36 <= hits[0.5][k] / reps <= 0.64, (k, hits[0.5][k] / reps)


def test_bootstrap_ci_is_deterministic_and_brackets_the_value() -> None:
    p, y = _Population(seed=2).sample(400, np.random.default_rng(3))
    a = bootstrap_ci(nll, p, y, n_boot=300, seed=7)
    assert a == bootstrap_ci(nll, p, y, n_boot=300, seed=7)
    assert a != bootstrap_ci(nll, p, y, n_boot=300, seed=8)
    v, lo, hi = a
    assert v == pytest.approx(nll(p, y)) and lo < v < hi
    wide = bootstrap_ci(nll, p, y, n_boot=300, seed=7, ci=0.99)
    assert wide[1] <= lo and wide[2] >= hi
    # with a custom measure, bound with a lambda
    e10 = bootstrap_ci(lambda q, t: ece(q, t, n_bins=10), p, y, n_boot=50)
    assert e10[0] == pytest.approx(ece(p, y, 10))


def test_basic_interval_reflects_the_percentile_one() -> None:
    p, y = _Population(seed=4).sample(300, np.random.default_rng(5))
    v, lo, hi = bootstrap_ci(ece, p, y, n_boot=200, seed=0)
    vb, lob, hib = bootstrap_ci(ece, p, y, n_boot=200, seed=0, method="basic")
    assert vb == v
    assert lob == pytest.approx(2 * v - hi) and hib == pytest.approx(2 * v - lo)


def test_report_matches_the_public_functions() -> None:
    p, y = _Population(seed=6).sample(500, np.random.default_rng(7))
    rep = calibration_report(p, y, n_boot=20, seed=0)
    assert list(rep) == list(REPORT_MEASURES)
    correct, conf = p.argmax(1) == y, p.max(1)
    expected = {
        "accuracy": correct.mean(),
        "nll": nll(p, y),
        "brier": brier(p, y),
        "ece": ece(p, y),
        "adaptive_ece": adaptive_ece(p, y),
        "classwise_ece": classwise_ece(p, y),
        "mce": mce(p, y),
        "smooth_ece": smooth_ece(p, y),
        "auroc": auroc(correct, conf),
        "aurc": aurc(correct, conf),
    }
    for k, v in expected.items():
        assert rep[k][0] == pytest.approx(v), k
        assert rep[k][1] <= rep[k][2]
    sub = calibration_report(p, y, n_boot=20, seed=0, measures=["ece", "nll"], n_bins=10)
    assert list(sub) == ["ece", "nll"] and sub["ece"][0] == pytest.approx(ece(p, y, 10))
    assert sub["nll"] == rep["nll"]  # same resamples for the same seed


def test_undefined_resamples_warn() -> None:
    p, y = _Population(seed=8).sample(40, np.random.default_rng(9))
    with pytest.warns(RuntimeWarning, match="undefined"):
        bootstrap_ci(lambda q, t: float("nan") if t[0] == t[1] else 1.0, p, y, n_boot=50)


def test_bad_input() -> None:
    p, y = _Population(seed=10).sample(30, np.random.default_rng(11))
    with pytest.raises(ValueError, match="ci"):
        bootstrap_ci(nll, p, y, ci=1.0)
    with pytest.raises(ValueError, match="ci"):
        calibration_report(p, y, ci=0.0)
    with pytest.raises(ValueError, match="n_boot"):
        bootstrap_ci(nll, p, y, n_boot=0)
    for bad in (float("nan"), 1.5, True, "10"):
        with pytest.raises(ValueError, match="n_boot"):
            bootstrap_ci(nll, p, y, n_boot=bad)
    with pytest.raises(ValueError, match="n_bins"):
        calibration_report(p, y, n_bins=float("nan"))
    with pytest.raises(ValueError, match="method"):
        bootstrap_ci(nll, p, y, method="bca")
    with pytest.raises(ValueError, match="metric_fn"):
        bootstrap_ci("nll", p, y)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="measures"):
        calibration_report(p, y, measures=["ece", "auc"])
    with pytest.raises(ValueError, match="n_bins"):
        calibration_report(p, y, n_bins=0)
    with pytest.raises(ValueError, match="probs"):
        calibration_report(p * 2, y)
    with pytest.raises(ValueError, match="labels"):
        bootstrap_ci(nll, p, y[:-1])
    bad = p.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="probs: expected finite"):
        calibration_report(bad, y)
