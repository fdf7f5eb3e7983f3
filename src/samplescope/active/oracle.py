"""Label oracles: who answers a label query.

``GroundTruthOracle`` returns the data set's labels. ``NoisyOracle(rate=r)`` returns a
wrong label (uniform over the other C - 1 classes) with probability ``r``; the corruption
of each sample id is a deterministic function of ``(seed, sample_id)``, so asking again
(e.g. after a resumed run) gives the same answer. Rate r reproduces the report's
"probability of a mislabel at each acquisition step" (report §5.1).
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from .._validation import check_fraction, check_ids, check_integer, check_labels, check_num_classes
from ..data.split import DataSplit

__all__ = ["LabelOracle", "GroundTruthOracle", "NoisyOracle"]


class LabelOracle(Protocol):
    """``oracle(sample_ids (k,)) -> labels (k,)`` int64."""

    def __call__(self, sample_ids: np.ndarray) -> np.ndarray: ...


class GroundTruthOracle:
    """Answers with the split's labels ``y`` (its clean labels when ``use_true=True``)."""

    def __init__(self, split: DataSplit, *, use_true: bool = False) -> None:
        if not isinstance(split, DataSplit):
            raise ValueError(f"split: expected a DataSplit, got {type(split).__name__}")
        self.split = split
        self.use_true = use_true

    def __call__(self, sample_ids: Any) -> np.ndarray:
        pos = self.split.positions(
            check_ids(sample_ids, "sample_ids", unique=False, allow_empty=True)
        )
        y = self.split.true_y if (self.use_true and self.split.true_y is not None) else self.split.y
        return y[pos].copy()

    def true_labels(self, sample_ids: Any) -> np.ndarray:
        pos = self.split.positions(sample_ids)
        y = self.split.true_y if self.split.true_y is not None else self.split.y
        return y[pos].copy()


class NoisyOracle(GroundTruthOracle):
    """A labeller that errs with probability ``rate`` (symmetric noise), deterministic per id."""

    def __init__(self, split: DataSplit, rate: float, num_classes: int, *, seed: int = 0) -> None:
        super().__init__(split)
        self.rate = check_fraction(rate, "rate")
        self.num_classes = check_num_classes(num_classes)
        self.seed = check_integer(seed, "seed", minimum=0)

    def __call__(self, sample_ids: Any) -> np.ndarray:
        ids = check_ids(sample_ids, "sample_ids", unique=False, allow_empty=True)
        y = check_labels(self.true_labels(ids), "labels", allow_empty=True).copy()
        for i, sid in enumerate(ids):
            rng = np.random.default_rng([self.seed, 7919, int(sid)])
            if rng.random() < self.rate:
                y[i] = (y[i] + 1 + rng.integers(self.num_classes - 1)) % self.num_classes
        return y
