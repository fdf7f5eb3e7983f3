"""Calibrator contract battery: every registered calibrator through the same checks.

sklearn contract, explicit ``logits=`` / ``probs=``, bad input → ValueError naming the
argument, registry errors, the accuracy-preserving property (hypothesis), which calibrators
can move the argmax, and calibrated data staying put.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from samplescope.functional import softmax
from samplescope.metrics import ece, nll
from samplescope.uncertainty import (
    Calibrator,
    IdentityCalibrator,
    TemperatureScaling,
    get_calibrator,
    list_calibrators,
    register_calibrator,
)

ALL = list_calibrators()


def _sampled(n: int, c: int, seed: int, scale: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    """Logits ``(n, c)`` and labels drawn from ``softmax(logits)``: calibrated as given."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, c)) * scale
    p = softmax(z, axis=1)
    y = (rng.random(n)[:, None] > np.cumsum(p, 1)).sum(1)
    return z, np.minimum(y, c - 1)


def _classes(name: str) -> int:
    return 2 if name == "platt" else 3


def test_registry_names_and_flags() -> None:
    assert set(ALL) == {
        "identity",
        "ts",
        "vector",
        "matrix",
        "dirichlet",
        "dirichlet_cv",
        "ets",
        "histogram",
        "isotonic",
        "platt",
    }
    assert list_calibrators(accuracy_preserving=True) == ["ets", "identity", "ts"]
    assert isinstance(get_calibrator("temperature"), TemperatureScaling)  # alias
    assert get_calibrator("TS", max_iter=10).max_iter == 10
    with pytest.raises(ValueError, match=r"name: unknown calibrator 'nope'.*'dirichlet'"):
        get_calibrator("nope")
    with pytest.raises(ValueError, match=r"lambda: not a parameter.*allowed parameters: \['lam'"):
        get_calibrator("dirichlet", **{"lambda": 0.1})


def test_register_a_new_calibrator() -> None:
    class Sharpen(IdentityCalibrator):
        def _predict_proba(self, x: np.ndarray) -> np.ndarray:
            q = x**2
            return q / q.sum(1, keepdims=True)

    register_calibrator("sharpen_test", Sharpen)
    try:
        assert "sharpen_test" in list_calibrators()
        z, y = _sampled(50, 3, 0)
        q = get_calibrator("sharpen_test").fit(logits=z, labels=y).predict_proba(logits=z)
        np.testing.assert_allclose(q.sum(1), 1)
        with pytest.raises(ValueError, match="already registered"):
            register_calibrator("sharpen_test", Sharpen)
        for bad in ("", 3, None):
            with pytest.raises(ValueError, match="name: expected a non-empty string"):
                register_calibrator(bad, Sharpen)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="cls: expected a Calibrator subclass"):
            register_calibrator("not_one", dict)  # type: ignore[arg-type]
    finally:
        from samplescope.uncertainty.calibrators import registry

        registry._REGISTRY.pop("sharpen_test")


@pytest.mark.parametrize("name", ALL)
def test_contract(name: str) -> None:
    c = _classes(name)
    z, y = _sampled(300, c, 1)
    cal = get_calibrator(name)
    assert isinstance(cal, Calibrator)
    with pytest.raises(NotFittedError, match="not fitted"):
        cal.predict_proba(logits=z)
    assert cal.fit(logits=z, labels=y) is cal
    assert cal.n_classes_ == c
    assert not hasattr(clone(cal), "n_classes_")
    q = cal.predict_proba(logits=z)
    assert q.shape == z.shape and np.all(q >= 0)
    np.testing.assert_allclose(q.sum(1), 1.0, atol=1e-9)
    np.testing.assert_array_equal(cal.predict(logits=z), q.argmax(1))
    # probs= is the same information: fitting on softmax(z) gives a working calibrator
    p = softmax(z, axis=1)
    q2 = clone(cal).fit(probs=p, labels=y).predict_proba(probs=p)
    np.testing.assert_allclose(q2.sum(1), 1.0, atol=1e-9)
    if cal.space != "logits":  # these see exactly the same input from logits or probs
        np.testing.assert_allclose(q2, q, atol=1e-6)
    # same data, same result (deterministic)
    np.testing.assert_array_equal(clone(cal).fit(logits=z, labels=y).predict_proba(logits=z), q)


@pytest.mark.parametrize("name", ALL)
def test_bad_input_names_the_argument(name: str) -> None:
    c = _classes(name)
    z, y = _sampled(40, c, 2)
    cal = get_calibrator(name)
    with pytest.raises(ValueError, match="logits: expected exactly one.*got both"):
        cal.fit(logits=z, probs=softmax(z, axis=1), labels=y)
    with pytest.raises(ValueError, match="logits: expected exactly one.*got neither"):
        cal.fit(labels=y)
    bad = z.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="logits: expected finite values"):
        cal.fit(logits=bad, labels=y)
    with pytest.raises(ValueError, match="logits: expected 2-D"):
        cal.fit(logits=z[:, 0], labels=y)
    with pytest.raises(ValueError, match="labels: expected labels in"):
        cal.fit(logits=z, labels=np.where(np.arange(40) == 0, c, y))
    with pytest.raises(ValueError, match="labels: expected 40 labels"):
        cal.fit(logits=z, labels=y[:-1])
    with pytest.raises(ValueError, match="probs: expected"):
        cal.fit(probs=z, labels=y)  # logits passed as probabilities
    cal.fit(logits=z, labels=y)
    with pytest.raises(ValueError, match="logits: expected .* columns"):
        cal.predict_proba(logits=np.zeros((5, c + 1)))
    with pytest.raises(ValueError, match="probs: expected .* columns"):
        cal.predict_proba(probs=np.full((5, c + 1), 1.0 / (c + 1)))
    with pytest.raises(ValueError, match="logits: expected exactly one"):
        cal.predict_proba()


@pytest.mark.parametrize(
    ("name", "params", "arg"),
    [
        ("ts", {"init_temperature": 0.0}, "init_temperature"),
        ("ts", {"max_iter": 0}, "max_iter"),
        ("matrix", {"l2": -1.0}, "l2"),
        ("dirichlet", {"lam": -1.0}, "lam"),
        ("dirichlet", {"mu": float("nan")}, "mu"),
        ("histogram", {"n_bins": 0}, "n_bins"),
        ("histogram", {"strategy": "equal"}, "strategy"),
        ("platt", {"smoothed_targets": "yes"}, "smoothed_targets"),
        ("ets", {"max_iter": 1.5}, "max_iter"),
    ],
)
def test_bad_hyper_parameters(name: str, params: dict, arg: str) -> None:
    z, y = _sampled(30, _classes(name), 3)
    with pytest.raises(ValueError, match=arg):
        get_calibrator(name, **params).fit(logits=z, labels=y)


def test_platt_needs_two_classes() -> None:
    z, y = _sampled(30, 3, 4)
    with pytest.raises(ValueError, match=r"logits: PlattScaling needs exactly 2 classes"):
        get_calibrator("platt").fit(logits=z, labels=y)


@settings(max_examples=25, deadline=None)
@given(
    st.integers(5, 40),
    st.integers(2, 6),
    st.integers(0, 10_000),
    st.sampled_from(["ts", "ets", "identity"]),
)
def test_accuracy_preserving_calibrators_keep_the_argmax(
    n: int, c: int, seed: int, name: str
) -> None:
    rng = np.random.default_rng(seed)
    z = rng.integers(-40, 41, size=(n, c)) / 4.0  # on a grid: no ties below float resolution
    y = rng.integers(0, c, n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # TS warns when every prediction is right
        cal = get_calibrator(name).fit(logits=z, labels=y)
    np.testing.assert_array_equal(cal.predict(logits=z), z.argmax(1))
    z_new = rng.integers(-40, 41, size=(2 * n, c)) / 4.0
    np.testing.assert_array_equal(cal.predict_proba(logits=z_new).argmax(1), z_new.argmax(1))


@pytest.mark.parametrize(
    "name", ["vector", "matrix", "dirichlet", "dirichlet_cv", "histogram", "isotonic"]
)
def test_non_preserving_calibrators_can_move_the_argmax_strictly(name: str) -> None:
    """A model that is always wrong by one class: the calibrator learns to move the argmax,
    and not only by ties (REFERENCE §6 says binning/isotonic change it 'only by ties'; with
    one-vs-rest maps that differ per class they change it outright)."""
    z, _ = _sampled(2000, 3, 5, scale=3.0)
    y = (z.argmax(1) + 1) % 3
    q = get_calibrator(name).fit(logits=z, labels=y).predict_proba(logits=z)
    srt = np.sort(q, axis=1)
    strict = srt[:, -1] > srt[:, -2] + 1e-9
    moved = (q.argmax(1) != z.argmax(1)) & strict
    assert moved.mean() > 0.5, moved.mean()
    assert not get_calibrator(name).accuracy_preserving


def test_platt_moves_the_threshold() -> None:
    z, _ = _sampled(2000, 2, 6)
    y = (z[:, 1] - z[:, 0] > 1.5).astype(int)  # the true boundary is at s = 1.5, not 0
    cal = get_calibrator("platt", smoothed_targets=False).fit(logits=z, labels=y)
    assert cal.coef_ > 0 and cal.intercept_ < 0
    assert np.mean(cal.predict(logits=z) != z.argmax(1)) > 0.05


@pytest.mark.parametrize("name", ALL)
def test_calibrated_data_stays_calibrated(name: str) -> None:
    """Labels drawn from softmax(z): the calibrated output stays close to the input and its
    test ECE is not worse beyond Monte-Carlo error (ECE of 6000 samples ~ 0.01)."""
    c = _classes(name)
    zv, yv = _sampled(4000, c, 7)
    zt, yt = _sampled(6000, c, 8)
    p = softmax(zt, axis=1)
    q = get_calibrator(name).fit(logits=zv, labels=yv).predict_proba(logits=zt)
    binned = name in ("histogram", "isotonic")
    assert np.mean(np.abs(q - p)) < (0.03 if binned else 0.01)
    assert ece(q, yt) <= ece(p, yt) + 0.015
    assert nll(q, yt) <= nll(p, yt) + (0.05 if binned else 0.005)


def test_calibrated_model_names_the_unfitted_scaler() -> None:
    from samplescope.models import mlp
    from samplescope.uncertainty import CalibratedModel

    with pytest.raises(NotFittedError, match="scaler: the TemperatureScaling is not fitted"):
        CalibratedModel(mlp(4, 3), TemperatureScaling())
