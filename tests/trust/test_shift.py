"""Shifted test copies: rotation and pixelation against hand computations."""

from __future__ import annotations

import numpy as np
import pytest

from samplescope.data import DataSplit
from samplescope.trust.shift import SHIFTS, corrupt_images, shifted_copy


def _img(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((2, 1, 8, 8)).astype(np.float32)


def test_rotation_by_90_degrees_is_rot90() -> None:
    x = _img()
    r = corrupt_images(x, "rotation", 90.0)
    np.testing.assert_allclose(r, np.rot90(x, 1, axes=(2, 3)), atol=1e-5)
    assert corrupt_images(x, "rotation", 360.0) == pytest.approx(x, abs=1e-5)


def test_pixelate_is_the_block_mean() -> None:
    x = _img()
    p = corrupt_images(x, "pixelate", 4.0)
    for i in (0, 4):
        for j in (0, 4):
            block = x[:, :, i : i + 4, j : j + 4]
            np.testing.assert_allclose(
                p[:, :, i : i + 4, j : j + 4],
                np.broadcast_to(block.mean((2, 3), keepdims=True), block.shape),
                rtol=1e-6,
            )
    # uneven edge: 8 px in blocks of 3 -> last block of 2 px is its own mean
    q = corrupt_images(x, "pixelate", 3.0)
    np.testing.assert_allclose(q[0, 0, 6:, 6:], x[0, 0, 6:, 6:].mean(), rtol=1e-6)
    np.testing.assert_allclose(corrupt_images(x, "pixelate", 1.0), x)


def test_every_shift_keeps_labels_and_ids() -> None:
    x = _img()
    split = DataSplit(x, np.array([0, 1]), np.array([5, 6]))
    assert set(SHIFTS) == {"noise", "blur", "rotation", "pixelate"}
    for name in SHIFTS:
        s = shifted_copy(split, name)
        assert s.x.shape == x.shape and s.x.min() >= 0 and s.x.max() <= 1
        np.testing.assert_array_equal(s.y, split.y)
        np.testing.assert_array_equal(s.sample_id, split.sample_id)
    with pytest.raises(ValueError, match="kind"):
        corrupt_images(x, "fog", 1.0)
