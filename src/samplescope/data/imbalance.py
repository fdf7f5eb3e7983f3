"""Long-tailed subsampling (Cui et al., CVPR 2019).

Class ``c`` (0 = head) keeps ``n_c`` samples with ``n_max = min_c available_c``:

- ``exponential``: ``n_c = round(n_max * ratio ** (-c / (C - 1)))``;
- ``step``: the first ``ceil(C/2)`` classes keep ``n_max``, the rest ``round(n_max / ratio)``.

The imbalance ratio ``max_c n_c / min_c n_c`` equals ``ratio`` up to rounding.
"""

from __future__ import annotations

import numpy as np

from .._validation import (
    check_choice,
    check_integer,
    check_labels,
    check_num_classes,
    check_number,
)

__all__ = ["imbalanced_counts", "make_imbalanced"]


def imbalanced_counts(
    n_max: int, num_classes: int, ratio: float, profile: str = "exponential"
) -> np.ndarray:
    """Per-class sample counts ``(C,)`` of a long-tailed profile."""
    check_choice(profile, "profile", ("exponential", "step"))
    n_max = check_integer(n_max, "n_max", minimum=1)
    if check_number(ratio, "ratio") < 1:
        raise ValueError(f"ratio: expected an imbalance ratio >= 1, got {ratio!r}")
    C = check_num_classes(num_classes, minimum=1)
    if profile == "exponential":
        c = np.arange(C)
        counts = n_max * np.power(float(ratio), -c / max(C - 1, 1))
    else:
        counts = np.full(C, float(n_max))
        counts[(C + 1) // 2 :] = n_max / ratio
    return np.maximum(np.round(counts).astype(np.int64), 1)


def make_imbalanced(
    labels: np.ndarray,
    ratio: float,
    profile: str = "exponential",
    seed: int = 0,
    *,
    num_classes: int | None = None,
) -> np.ndarray:
    """Indices of a long-tailed subset of ``labels``.

    Args:
        labels: ``(N,)`` int labels.
        ratio: imbalance ratio ``n_head / n_tail`` >= 1 (1 = balanced subsample).
        profile: ``"exponential"`` or ``"step"``.
        seed: which samples of each class are kept.

    Returns:
        Sorted int64 positions ``(M,)`` into ``labels``.
    """
    if num_classes is not None:
        num_classes = check_num_classes(num_classes)
    y = check_labels(labels, "labels", num_classes=num_classes)
    seed = check_integer(seed, "seed", minimum=0)
    C = num_classes if num_classes is not None else int(y.max()) + 1
    available = np.bincount(y, minlength=C)
    if available.min() == 0:
        raise ValueError(
            f"labels: every class needs samples to subsample, got counts {available.tolist()}"
        )
    counts = imbalanced_counts(int(available.min()), C, ratio, profile)
    rng = np.random.default_rng(seed)
    keep = [rng.choice(np.flatnonzero(y == c), size=counts[c], replace=False) for c in range(C)]
    return np.sort(np.concatenate(keep)).astype(np.int64)
