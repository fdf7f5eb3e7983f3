"""Shifted copies of a test split for the unseen-domain check (Luo et al. 2021, Table 3).

Made offline and deterministically (no download): the images are corrupted, the labels and
sample ids are kept. Severities follow ImageNet-C's highest level where it transfers:

- ``noise``: additive Gaussian noise, std 0.38 (ImageNet-C ``gaussian_noise`` level 5);
- ``blur``: Gaussian blur, σ = 1.5 px (for 28×28 images), zero padding;
- ``rotation``: rotation by 45° about the centre (bilinear, zero fill);
- ``pixelate``: block averages over 4×4 pixels shown at full size (a 28×28 image becomes
  7×7 blocks: ImageNet-C ``pixelate`` level 5 resizes to 25%);

all clipped to [0, 1].
"""

from __future__ import annotations

import numpy as np

from .._validation import check_choice, check_positive
from ..data.split import DataSplit

__all__ = ["SHIFTS", "KINDS", "corrupt_images", "shifted_copy"]

#: name -> (kind, default severity)
SHIFTS = {
    "noise": ("gaussian_noise", 0.38),
    "blur": ("gaussian_blur", 1.5),
    "rotation": ("rotation", 45.0),
    "pixelate": ("pixelate", 4.0),
}
KINDS = ("gaussian_noise", "gaussian_blur", "rotation", "pixelate")


def corrupt_images(x: np.ndarray, kind: str, severity: float, seed: int = 1234) -> np.ndarray:
    """Corrupt images ``(N, C, H, W)`` in [0, 1]: ``"gaussian_noise"`` (std = severity),
    ``"gaussian_blur"`` (σ = severity pixels), ``"rotation"`` (severity degrees) or
    ``"pixelate"`` (block size = severity pixels); returns float32 clipped to [0, 1]."""
    check_choice(kind, "kind", KINDS)
    check_positive(severity, "severity")
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 4:
        raise ValueError(f"x: expected images (N, C, H, W), got shape {x.shape}")
    if kind == "gaussian_noise":
        rng = np.random.default_rng(seed)
        xs = x + rng.normal(0.0, severity, size=x.shape).astype(np.float32)
    elif kind == "gaussian_blur":
        from scipy.ndimage import gaussian_filter

        xs = gaussian_filter(x, sigma=(0, 0, severity, severity), mode="constant")
    elif kind == "rotation":
        from scipy.ndimage import rotate

        xs = rotate(x, severity, axes=(2, 3), reshape=False, order=1, mode="constant")
    else:
        xs = _pixelate(x, int(round(severity)))
    return np.clip(xs, 0, 1).astype(np.float32)


def _pixelate(x: np.ndarray, block: int) -> np.ndarray:
    """Mean over ``block × block`` tiles (edge tiles may be smaller), repeated back to size."""
    if block < 1:
        raise ValueError(f"severity: expected a block size >= 1 pixel, got {block}")
    n, c, h, w = x.shape
    hb, wb = -(-h // block), -(-w // block)
    pad = np.zeros((n, c, hb * block, wb * block), dtype=np.float64)
    cnt = np.zeros((hb * block, wb * block))
    pad[:, :, :h, :w] = x
    cnt[:h, :w] = 1
    sums = pad.reshape(n, c, hb, block, wb, block).sum((3, 5))
    counts = cnt.reshape(hb, block, wb, block).sum((1, 3))
    means = sums / counts
    return np.repeat(np.repeat(means, block, 2), block, 3)[:, :, :h, :w].astype(np.float32)


def shifted_copy(
    split: DataSplit, name: str, severity: float | None = None, seed: int = 1234
) -> DataSplit:
    """``split`` with corrupted inputs (same labels and ids); ``name`` in :data:`SHIFTS`."""
    check_choice(name, "shift", SHIFTS)
    kind, default = SHIFTS[name]
    xs = corrupt_images(split.x, kind, default if severity is None else severity, seed)
    return DataSplit(xs, split.y, split.sample_id, split.true_y)
