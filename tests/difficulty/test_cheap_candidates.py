"""The benchmark-side candidates of benchmarks/cheap_gen_error.py against hand computations."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
cge = pytest.importorskip("cheap_gen_error")


def test_learning_time_by_hand():
    # rows = epochs 1..4, columns = samples
    correct = np.array(
        [
            [1, 0, 1, 0, 0],
            [1, 1, 0, 0, 1],
            [1, 1, 1, 0, 0],
            [1, 1, 1, 0, 1],
        ],
        dtype=float,
    )
    # sample 0 right from epoch 1; 1 from 2; 2 forgotten at 2, stays from 3; 3 never -> E = 4;
    # 4 right at 2, wrong at 3, right at 4 -> 4
    np.testing.assert_array_equal(cge.learning_time(correct), [1, 2, 3, 4, 4])


def test_learning_time_nan_is_not_learned():
    correct = np.array([[1.0, np.nan], [1.0, 1.0]])
    np.testing.assert_array_equal(cge.learning_time(correct), [1, 2])


def test_el2n_by_hand():
    z = np.array([[0.0, 0.0], [np.log(3.0), 0.0]])  # p = (.5, .5), (.75, .25)
    y = np.array([0, 1])
    expected = [np.sqrt(0.5**2 + 0.5**2), np.sqrt(0.75**2 + 0.75**2)]
    np.testing.assert_allclose(cge.el2n(z, y), expected, rtol=1e-12)
    # a confident right prediction has EL2N near 0
    assert cge.el2n(np.array([[50.0, 0.0]]), np.array([0]))[0] < 1e-10
