"""TrustScore (Jiang et al. 2018) against a brute-force k-NN computation written in numpy."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from samplescope.trust import TrustScoreTrust, density_filter, trust_score


def _brute_ratio(xtr, ytr, xte, pred, C, k, alpha):
    """Independent reference: full distance matrices, per-class k-NN radius filter, ratio."""
    keep = np.ones(len(xtr), bool)
    if alpha > 0:
        for c in range(C):
            idx = np.flatnonzero(ytr == c)
            d = np.linalg.norm(xtr[idx][:, None] - xtr[idx][None], axis=-1)
            radius = np.sort(d, axis=1)[:, min(k, len(idx) - 1)]  # column 0 is the point itself
            keep[idx] = radius <= np.percentile(radius, (1 - alpha) * 100)
    d = np.linalg.norm(xte[:, None] - xtr[keep][None], axis=-1)
    yk = ytr[keep]
    per_class = np.stack([d[:, yk == c].min(1) for c in range(C)], 1)
    d_pred = per_class[np.arange(len(xte)), pred]
    masked = per_class.copy()
    masked[np.arange(len(xte)), pred] = np.inf
    return masked.min(1) / (d_pred + 1e-12)


@pytest.mark.parametrize("alpha", [0.0, 0.2])
@pytest.mark.parametrize("algorithm", ["kd_tree", "brute"])
@pytest.mark.parametrize("dim", [3, 30])
def test_matches_brute_force(alpha: float, algorithm: str, dim: int) -> None:
    rng = np.random.default_rng(dim)
    C = 3
    ytr = rng.integers(0, C, 150)
    xtr = rng.normal(size=(150, dim)) + 2.0 * np.eye(C, dim)[ytr]
    xte = rng.normal(size=(40, dim))
    pred = rng.integers(0, C, 40)
    got = trust_score(xtr, ytr, xte, pred, num_classes=C, k=5, alpha=alpha, algorithm=algorithm)
    want = _brute_ratio(xtr, ytr, xte, pred, C, 5, alpha)
    np.testing.assert_allclose(got, want, rtol=1e-9)


def test_density_filter_drops_the_outlier() -> None:
    rng = np.random.default_rng(0)
    x = np.r_[rng.normal(size=(50, 2)), [[40.0, 40.0]]]
    keep = density_filter(x, 3, 0.02)
    assert not keep[-1] and keep.sum() == 50
    assert density_filter(x, 3, 0.0).all()


def test_estimator_on_inputs_matches_brute_force() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(120, 1, 2, 2)).astype(np.float32)
    y = (x.reshape(120, -1)[:, 0] > 0).astype(np.int64)
    torch.manual_seed(0)
    clf = nn.Sequential(nn.Flatten(), nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    xte = rng.normal(size=(30, 1, 2, 2)).astype(np.float32)
    est = TrustScoreTrust(clf, k=4, alpha=0.1, features="input").fit((x, y))
    with torch.no_grad():
        pred = clf(torch.as_tensor(xte)).argmax(1).numpy()
    r = _brute_ratio(
        x.reshape(120, -1).astype(np.float64),
        y,
        xte.reshape(30, -1).astype(np.float64),
        pred,
        2,
        4,
        0.1,
    )
    np.testing.assert_allclose(est.predict_ratio(xte), r, rtol=1e-6)
    t = est.predict_trust(xte)
    np.testing.assert_allclose(t, r / (1 + r), rtol=1e-6)
    assert t.min() >= 0 and t.max() <= 1
    # penultimate features: the classifier's trunk output
    est2 = TrustScoreTrust(clf, k=4, alpha=0.0).fit((x, y))
    with torch.no_grad():
        ftr = clf[:-1](torch.as_tensor(x)).double().numpy()
        fte = clf[:-1](torch.as_tensor(xte)).double().numpy()
    np.testing.assert_allclose(
        est2.predict_ratio(xte), _brute_ratio(ftr, y, fte, pred, 2, 4, 0.0), rtol=1e-6
    )


def test_bad_input() -> None:
    x = np.zeros((10, 3))
    y = np.r_[np.zeros(5, int), np.ones(5, int)]
    with pytest.raises(ValueError, match="test_features"):
        trust_score(x, y, np.zeros((4, 2)), np.zeros(4, int))
    with pytest.raises(ValueError, match="alpha"):
        trust_score(x, y, x, y, alpha=1.0)
    with pytest.raises(ValueError, match="predicted"):
        trust_score(x, y, x, np.full(10, 5))
    with pytest.raises(ValueError, match="algorithm"):
        trust_score(x, y, x, y, algorithm="ball")
    clf = nn.Sequential(nn.Flatten(), nn.Linear(3, 2))
    with pytest.raises(ValueError, match="not fitted"):
        TrustScoreTrust(clf).predict_trust(np.zeros((2, 3, 1)))
    with pytest.raises(ValueError, match="features"):
        TrustScoreTrust(clf, features="pixels").fit(
            (np.zeros((4, 3, 1), np.float32), np.array([0, 1, 0, 1]))
        )
