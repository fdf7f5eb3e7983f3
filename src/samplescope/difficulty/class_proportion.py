"""Category-proportion difficulty (imbalanced learning; Zhou et al. 2022 §1): rarer class = harder.

``class_proportion_i = 1 - n_{y_i} / N`` where ``n_c`` counts label ``c`` among the ``N``
labels, shape ``(N,)`` in ``[0, 1)``; higher = harder (a smaller class proportion).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_labels
from .registry import register_measure

__all__ = ["class_proportion_score"]


@register_measure(
    "class_proportion", "labels", "1 - n_y/N: one minus the proportion of the sample's class"
)
def class_proportion_score(labels: Any, num_classes: int | None = None) -> np.ndarray:
    """``1 - n_{y_i}/N``, shape ``(N,)``; higher = harder (rarer class)."""
    y = check_labels(labels, "labels", num_classes=num_classes)
    if len(y) == 0:
        raise ValueError("labels: expected at least one label, got 0")
    counts = np.bincount(y)
    return 1.0 - counts[y] / len(y)
