"""Temperature / vector scaling: analytic limits, scipy reference, sklearn contract; ensembles."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from samplescope.metrics import ece, nll
from samplescope.models import mlp
from samplescope.uncertainty import (
    CalibratedModel,
    TemperatureScaling,
    VectorScaling,
    predict_stochastic,
    train_ensemble,
)


def _calibrated(n: int, c: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Logits and labels drawn from softmax(logits): calibrated at T = 1."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, c)) * 2
    p = np.exp(log_softmax(z, 1))
    y = (rng.random(n)[:, None] > np.cumsum(p, 1)).sum(1)
    return z, np.minimum(y, c - 1)


def test_overconfident_logits_get_temperature_above_one() -> None:
    z, y = _calibrated(20_000, 5, 0)
    ts = TemperatureScaling().fit(3 * z, y)  # 3x sharper than calibrated
    assert ts.temperature_ > 1
    assert ts.temperature_ == pytest.approx(3.0, rel=0.05)
    assert ts.nll_after_ <= ts.nll_before_
    assert ece(ts.predict_proba(3 * z), y) < ece(np.exp(log_softmax(3 * z, 1)), y)
    # an under-confident model gets T < 1
    assert TemperatureScaling().fit(z / 2, y).temperature_ == pytest.approx(0.5, rel=0.05)


def test_uninformative_labels_push_temperature_up() -> None:
    z, _ = _calibrated(5000, 4, 1)
    y = np.random.default_rng(2).integers(0, 4, 5000)  # labels independent of the logits
    assert TemperatureScaling().fit(z, y).temperature_ > 10


def test_temperature_matches_scipy_and_keeps_argmax() -> None:
    z, y = _calibrated(3000, 3, 3)
    z = 2.5 * z
    ref = minimize_scalar(
        lambda t: nll(np.exp(log_softmax(z / t, 1)), y),
        bounds=(0.05, 20),
        method="bounded",
        options={"xatol": 1e-8},
    )
    ts = TemperatureScaling().fit(z, y)
    assert ts.temperature_ == pytest.approx(ref.x, rel=1e-4)
    assert np.array_equal(ts.predict(z), z.argmax(1))
    np.testing.assert_allclose(ts.transform(z), z / ts.temperature_)


def test_vector_scaling_at_least_as_good_and_recovers_planted_params() -> None:
    z, y = _calibrated(20_000, 3, 4)
    w, b = np.array([2.0, 0.5, 1.0]), np.array([0.3, -0.2, 0.0])
    distorted = (z - b) / w  # so that w * distorted + b = z is calibrated
    vs = VectorScaling().fit(distorted, y)
    ts = TemperatureScaling().fit(distorted, y)
    assert vs.nll_after_ <= ts.nll_after_ + 1e-9
    np.testing.assert_allclose(vs.coef_, w, rtol=0.1)
    # biases are identified up to a shared constant
    np.testing.assert_allclose(vs.intercept_ - vs.intercept_.mean(), b - b.mean(), atol=0.1)
    np.testing.assert_allclose(vs.predict_proba(distorted).sum(1), 1.0)


def test_sklearn_contract_and_errors() -> None:
    z, y = _calibrated(200, 3, 5)
    for est in (TemperatureScaling(), VectorScaling()):
        with pytest.raises(NotFittedError):
            est.predict_proba(z)
        with pytest.raises(ValueError, match="not fitted"):
            est.transform(z)
        assert est.fit(z, y) is est
        assert not hasattr(clone(est), "n_classes_")
        with pytest.raises(ValueError, match="logits"):
            est.transform(z[:, :2])
        with pytest.raises(ValueError, match="labels"):
            clone(est).fit(z, y[:10])
    with pytest.raises(ValueError, match="logits"):
        TemperatureScaling().fit(np.full((3, 3), np.nan), [0, 1, 2])
    with pytest.raises(NotFittedError):
        CalibratedModel(mlp(4, 3), TemperatureScaling())


def test_calibrated_model_wrapper() -> None:
    torch.manual_seed(0)
    net = mlp(4, 3).eval()
    x = torch.randn(10, 4)
    z = net(x).detach().numpy()
    y = np.arange(10) % 3
    ts = TemperatureScaling().fit(z, y)
    wrapped = CalibratedModel(net, ts)
    np.testing.assert_allclose(wrapped(x).detach().numpy(), z / ts.temperature_, rtol=1e-5)
    vs = VectorScaling().fit(z, y)
    np.testing.assert_allclose(
        CalibratedModel(net, vs)(x).detach().numpy(), vs.transform(z), rtol=1e-4, atol=1e-5
    )


def _tiny_net() -> torch.nn.Module:
    return mlp(6, 3, hidden=(8,))


def test_train_ensemble_seeds_and_stacking() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 6)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 1)
    members = train_ensemble(_tiny_net, (x, y), members=3, epochs=3, batch_size=32)
    again = train_ensemble(_tiny_net, (x, y), seeds=[0, 1, 2], epochs=3, batch_size=32)
    w = [m[1].weight.detach() for m in members]
    assert not torch.equal(w[0], w[1])
    assert all(torch.equal(a[1].weight, b[1].weight) for a, b in zip(members, again, strict=True))
    p = predict_stochastic(None, x, "ensemble", samples=None, members=members)
    assert p.shape == (3, 120, 3)
    with pytest.raises(ValueError, match="seeds"):
        train_ensemble(_tiny_net, (x, y), seeds=[1, 1])
    with pytest.raises(ValueError, match="seed"):
        train_ensemble(_tiny_net, (x, y), members=2, seed=3)


def test_all_correct_validation_warns() -> None:
    z = np.eye(3)[[0, 1, 2, 0]] * 4
    with pytest.warns(RuntimeWarning, match="unreliable"):
        ts = TemperatureScaling().fit(z, [0, 1, 2, 0])
    assert ts.temperature_ < 1


@pytest.mark.slow
def test_train_ensemble_process_executor_matches_inprocess() -> None:
    from functools import partial

    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 6)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    factory = partial(mlp, 6, 2, hidden=(8,))
    a = train_ensemble(factory, (x, y), members=2, epochs=2, executor="process", workers=2)
    b = train_ensemble(factory, (x, y), members=2, epochs=2)
    for m1, m2 in zip(a, b, strict=True):
        for p1, p2 in zip(m1.parameters(), m2.parameters(), strict=True):
            torch.testing.assert_close(p1, p2)
