"""Class-balanced (Cui 2019) and G-RW weights against their formulas."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from samplescope.weighting import class_balanced, class_balanced_weights, grw, grw_weights


def test_class_balanced_equals_formula():
    y = np.repeat([0, 1, 2], [100, 10, 1])
    beta = 0.99
    n = np.array([100, 10, 1.0])
    raw = (1 - beta) / (1 - beta**n)
    ref = raw / raw.sum() * 3
    np.testing.assert_allclose(class_balanced_weights(y, beta), ref)
    np.testing.assert_allclose(class_balanced(beta)(np.zeros(len(y)), labels=y), ref[y])


def test_class_balanced_limits():
    y = np.repeat([0, 1, 2], [100, 10, 1])
    np.testing.assert_allclose(class_balanced_weights(y, 0.0), 1.0)  # beta = 0: uniform
    w = class_balanced_weights(y, 1 - 1e-9)  # beta -> 1: inverse frequency
    inv = 1 / np.array([100, 10, 1.0])
    np.testing.assert_allclose(w, inv / inv.sum() * 3, rtol=1e-4)


def test_grw_equals_formula():
    y = np.repeat([0, 1, 2, 3], [80, 40, 20, 10])
    r = np.array([80, 40, 20, 10.0]) / 150
    for rho in (0.0, 0.5, 1.0, 2.0):
        raw = (1 / r) ** rho
        np.testing.assert_allclose(grw_weights(y, rho), raw / raw.sum() * 4)
    np.testing.assert_allclose(
        grw(1.0)(np.zeros(len(y)), labels=y).sum(), (1 / r / (1 / r).sum() * 4)[y].sum()
    )


def test_absent_class_gets_zero_and_sum_over_present():
    y = np.array([0, 0, 2])
    w = class_balanced_weights(y, 0.9, num_classes=3)
    assert w[1] == 0 and w.sum() == pytest.approx(2.0)


@pytest.mark.parametrize("beta", [-0.1, 1.0, 1.5, float("nan")])
def test_bad_beta(beta):
    with pytest.raises(ValueError, match="beta"):
        class_balanced_weights(np.array([0, 1]), beta)


def test_bad_rho_and_labels():
    with pytest.raises(ValueError, match="rho"):
        grw_weights(np.array([0, 1]), -1)
    with pytest.raises(ValueError, match="labels"):
        class_balanced(0.9)(np.zeros(2))
    with pytest.raises(ValueError, match="labels"):
        class_balanced_weights(np.array([0, 5]), 0.9, num_classes=3)


@settings(max_examples=50, deadline=None)
@given(counts=st.lists(st.integers(1, 500), min_size=2, max_size=8), beta=st.floats(0, 0.9999))
def test_property_rarer_class_never_lighter(counts, beta):
    y = np.repeat(np.arange(len(counts)), counts)
    w = class_balanced_weights(y, beta)
    assert np.all(np.isfinite(w)) and np.all(w > 0) and w.sum() == pytest.approx(len(counts))
    o = np.argsort(counts, kind="stable")
    assert np.all(np.diff(w[o]) <= 1e-9)
