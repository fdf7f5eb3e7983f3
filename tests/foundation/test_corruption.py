import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from samplescope.data import ASYMMETRIC_MAPS, imbalanced_counts, inject_label_noise, make_imbalanced


@given(
    n=st.integers(20, 400),
    c=st.integers(2, 12),
    rate=st.floats(0, 1),
    seed=st.integers(0, 10_000),
    kind=st.sampled_from(["symmetric", "pairflip"]),
)
@settings(max_examples=60, deadline=None)
def test_exact_rate_and_allowed_transitions(n, c, rate, seed, kind):
    y = np.random.default_rng(seed).integers(0, c, n)
    y2, noisy = inject_label_noise(y, rate, kind, c, seed)
    assert noisy.sum() == round(rate * n)  # exact rate
    np.testing.assert_array_equal(noisy, y2 != y)  # every chosen sample really changes
    assert y2.min() >= 0 and y2.max() < c
    if kind == "pairflip":
        np.testing.assert_array_equal(y2[noisy], (y[noisy] + 1) % c)


def test_symmetric_targets_are_uniform_over_other_classes():
    y = np.zeros(20000, dtype=np.int64)
    y2, noisy = inject_label_noise(y, 0.9, "symmetric", 5, seed=1)
    counts = np.bincount(y2[noisy], minlength=5)
    assert counts[0] == 0
    assert np.all(np.abs(counts[1:] / noisy.sum() - 0.25) < 0.02)


def test_asymmetric_mnist_map_exact_per_class():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, 5000)
    y2, noisy = inject_label_noise(y, 0.4, "asymmetric", 10, seed=3, mapping="mnist")
    amap = ASYMMETRIC_MAPS["mnist"]
    assert amap == {2: 7, 3: 8, 5: 6, 6: 5, 7: 1}
    for c in range(10):
        m = y == c
        if c in amap:
            assert noisy[m].sum() == round(0.4 * m.sum())
            assert set(np.unique(y2[m & noisy])) <= {amap[c]}
        else:
            assert noisy[m].sum() == 0


def test_noise_reproducible_by_seed():
    y = np.arange(1000) % 10
    a = inject_label_noise(y, 0.2, "symmetric", 10, 7)[0]
    b = inject_label_noise(y, 0.2, "symmetric", 10, 7)[0]
    c = inject_label_noise(y, 0.2, "symmetric", 10, 8)[0]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"rate": 1.5}, "rate: expected"),
        ({"rate": 0.1, "kind": "weird"}, "kind: expected one of"),
        ({"rate": 0.1, "kind": "asymmetric", "mapping": "imagenet"}, "mapping: expected one of"),
        ({"rate": 0.1, "kind": "asymmetric", "mapping": {1: 1}}, "mapping: expected distinct"),
    ],
)
def test_noise_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        inject_label_noise(np.arange(10) % 3, num_classes=3, **kwargs)


@pytest.mark.parametrize("profile", ["exponential", "step"])
@pytest.mark.parametrize("ratio", [1, 10, 100])
def test_imbalance_profile(profile, ratio):
    y = np.repeat(np.arange(10), 600)
    idx = make_imbalanced(y, ratio, profile, seed=0)
    counts = np.bincount(y[idx], minlength=10)
    np.testing.assert_array_equal(counts, imbalanced_counts(600, 10, ratio, profile))
    assert counts[0] == 600 and counts.max() / counts.min() == pytest.approx(ratio, rel=0.02)
    if profile == "exponential":
        assert np.all(np.diff(counts) <= 0)
    else:
        assert set(counts.tolist()) <= {600, round(600 / ratio)}
    assert len(np.unique(idx)) == len(idx)


def test_imbalance_bad_ratio():
    with pytest.raises(ValueError, match="ratio: expected"):
        make_imbalanced(np.arange(10) % 2, 0.5)
