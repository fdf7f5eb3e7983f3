"""Calibration metrics: torchmetrics/netcal agreement, analytic limits, properties, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torchmetrics.functional.classification import multiclass_calibration_error

from samplescope.metrics import (
    adaptive_ece,
    brier,
    classwise_ece,
    ece,
    mce,
    nll,
    plot_reliability_diagram,
    reliability_diagram_data,
)


def _random_probs(n: int, c: int, seed: int, sharp: float = 3.0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, c)) * sharp
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    y = rng.integers(0, c, size=n)
    return p, y


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("n_bins", [5, 15])
def test_ece_mce_match_torchmetrics(seed: int, n_bins: int) -> None:
    p, y = _random_probs(500, 4, seed)
    tp, ty = torch.as_tensor(p), torch.as_tensor(y)
    ref_ece = multiclass_calibration_error(tp, ty, num_classes=4, n_bins=n_bins, norm="l1")
    ref_mce = multiclass_calibration_error(tp, ty, num_classes=4, n_bins=n_bins, norm="max")
    assert ece(p, y, n_bins) == pytest.approx(float(ref_ece), abs=1e-6)
    assert mce(p, y, n_bins) == pytest.approx(float(ref_mce), abs=1e-6)


def test_confidence_one_bin_differs_from_torchmetrics_as_documented() -> None:
    # Saturated predictions (confidence exactly 1.0) plus others in the top bin: we put
    # 1.0 into the last bin (lo, 1]; torchmetrics puts it alone into a phantom 16th bin.
    p = np.array([[1.0, 0.0], [1.0, 0.0], [0.96, 0.04], [0.96, 0.04]])
    y = np.array([0, 1, 0, 0])
    ours = ece(p, y, 15)
    # by hand: one bin with conf mean 0.98 and accuracy 3/4
    assert ours == pytest.approx(abs(0.75 - 0.98), abs=1e-12)
    ref = float(multiclass_calibration_error(torch.as_tensor(p), torch.as_tensor(y), 2, n_bins=15))
    # torchmetrics: phantom bin {1.0, 1.0} acc 0.5 -> 0.5*0.5 = 0.25; bin {0.96} acc 1 -> 0.5*0.04
    assert ref == pytest.approx(0.5 * 0.5 + 0.5 * 0.04, abs=1e-6)
    assert ours != pytest.approx(ref, abs=1e-3)


def test_classwise_ece_matches_torchmetrics_binary_per_class() -> None:
    p, y = _random_probs(400, 3, 7)
    # independent computation: per class, torchmetrics binary calibration error of p_k vs 1[y=k]
    from torchmetrics.functional.classification import binary_calibration_error

    per_class = [
        float(
            binary_calibration_error(
                torch.as_tensor(np.ascontiguousarray(p[:, k])), torch.as_tensor(y == k).long(), 15
            )
        )
        for k in range(3)
    ]
    assert classwise_ece(p, y) == pytest.approx(np.mean(per_class), abs=1e-6)


def test_brier_nll_match_sklearn() -> None:
    from sklearn.metrics import log_loss

    p, y = _random_probs(300, 5, 3)
    assert nll(p, y) == pytest.approx(log_loss(y, p, labels=range(5)), abs=1e-9)
    onehot = np.eye(5)[y]
    assert brier(p, y) == pytest.approx(float(((p - onehot) ** 2).sum(1).mean()), abs=1e-12)
    # binary Brier: sklearn's brier_score_loss is the mean over one column -> ours = 2x theirs
    from sklearn.metrics import brier_score_loss

    p2, y2 = _random_probs(300, 2, 4)
    assert brier(p2, y2) == pytest.approx(2 * brier_score_loss(y2, p2[:, 1]), abs=1e-12)


def test_perfectly_calibrated_limit() -> None:
    # labels drawn from the predicted distribution: ECE -> 0 as N grows (sampling error only)
    rng = np.random.default_rng(0)
    p, _ = _random_probs(200_000, 3, 1, sharp=1.0)
    y = (rng.random(len(p))[:, None] > np.cumsum(p, 1)).sum(1)
    assert ece(p, y) < 0.01
    assert adaptive_ece(p, y) < 0.01
    assert classwise_ece(p, y) < 0.01


def test_overconfident_limit() -> None:
    # always confidence 1 but 50% accurate -> ECE = MCE = 0.5, Brier = 1.0, NLL huge
    p = np.tile([1.0, 0.0], (10, 1))
    y = np.array([0, 1] * 5)
    assert ece(p, y) == pytest.approx(0.5)
    assert mce(p, y) == pytest.approx(0.5)
    assert adaptive_ece(p, y) == pytest.approx(0.5)
    assert brier(p, y) == pytest.approx(1.0)
    assert nll(p, y) > 10


def test_reliability_data_and_plot(tmp_path) -> None:
    p, y = _random_probs(300, 3, 2)
    d = reliability_diagram_data(p, y, 10)
    assert d["count"].sum() == 300 and len(d["edges"]) == 11
    assert d["ece"] == pytest.approx(ece(p, y, 10))
    assert d["mce"] == pytest.approx(mce(p, y, 10))
    nz = d["count"] > 0
    lo, hi = d["edges"][:-1][nz], d["edges"][1:][nz]
    assert np.all((d["confidence"][nz] > lo) & (d["confidence"][nz] <= hi + 1e-12))
    out = tmp_path / "rel.png"
    plot_reliability_diagram(p, y, 10, path=out)
    assert out.stat().st_size > 1000


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 60), st.integers(2, 6), st.integers(0, 10_000), st.integers(1, 20))
def test_properties(n: int, c: int, seed: int, n_bins: int) -> None:
    p, y = _random_probs(n, c, seed)
    e, m, a = ece(p, y, n_bins), mce(p, y, n_bins), adaptive_ece(p, y, n_bins)
    assert 0 <= e <= m + 1e-12 <= 1 + 1e-12
    assert 0 <= a <= 1 and 0 <= classwise_ece(p, y, n_bins) <= 1
    assert 0 <= brier(p, y) <= 2 and nll(p, y) >= 0
    # permutation invariance
    perm = np.random.default_rng(seed).permutation(n)
    assert ece(p[perm], y[perm], n_bins) == pytest.approx(e, abs=1e-12)


@pytest.mark.parametrize("fn", [ece, mce, adaptive_ece, classwise_ece, brier, nll])
def test_bad_input(fn) -> None:
    p, y = _random_probs(10, 3, 0)
    with pytest.raises(ValueError, match="probs"):
        fn(p * 2, y)  # not probabilities
    with pytest.raises(ValueError, match="labels"):
        fn(p, y[:5])
    with pytest.raises(ValueError, match="labels"):
        fn(p, np.full(10, 3))
    with pytest.raises(ValueError, match="probs"):
        fn(p[:, :1] * 0 + 1, y * 0)  # one class


def test_bad_n_bins() -> None:
    p, y = _random_probs(10, 3, 0)
    with pytest.raises(ValueError, match="n_bins"):
        ece(p, y, 0)
    with pytest.raises(ValueError, match="n_bins"):
        ece(p, y, 2.5)
