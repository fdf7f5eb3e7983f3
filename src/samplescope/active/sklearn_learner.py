"""scikit-learn classifiers as active learners: ``predict_proba``, committees and ensembles.

``SklearnLearner(estimator)`` retrains a clone of ``estimator`` from scratch on the labelled
set (S = 1: entropy, margin, least confidence, and the stochastic / BADGE batch modes work;
BALD is 0). For BALD (Houlsby et al. 2011) the predictive distribution needs several
members: ``committee=M`` fits M clones on bootstrap resamples of the labelled set
(query-by-bagging, Abe & Mamitsuka 1998), and a list of estimators is an ensemble fitted on
the full labelled set. Probabilities are ``(S, N, C)`` with the columns placed by each
member's ``classes_`` (a class a bootstrap sample missed gets probability 0).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_integer
from ..data.split import DataSplit, as_split
from ..functional import label_nll
from .badge import badge_embeddings

__all__ = ["SklearnLearner"]


def _is_classifier(est: Any) -> bool:
    return callable(getattr(est, "fit", None)) and callable(getattr(est, "predict_proba", None))


class SklearnLearner:
    """An active learner over a scikit-learn classifier (or a committee / an ensemble of them).

    Args:
        estimator: a classifier with ``fit`` and ``predict_proba``, or a list of them.
        committee: M >= 1 bootstrap members (one estimator only); 1 = the estimator itself.
        num_classes: C (default: 1 + the largest label seen in ``fit``).
    """

    def __init__(
        self, estimator: Any, *, committee: int = 1, num_classes: int | None = None
    ) -> None:
        members = list(estimator) if isinstance(estimator, (list, tuple)) else [estimator]
        if not members or not all(_is_classifier(m) for m in members):
            raise ValueError(
                "estimator: expected a scikit-learn classifier (fit + predict_proba) or a list "
                f"of them, got {estimator!r}"
            )
        self.committee = check_integer(committee, "committee")
        if self.committee > 1 and len(members) > 1:
            raise ValueError("committee: a bootstrap committee takes one estimator, got a list")
        self.members = members
        self.num_classes = (
            None if num_classes is None else check_integer(num_classes, "num_classes", minimum=2)
        )
        self.fitted_: list[Any] = []
        self.classes_: int = 0

    def fit(self, train: DataSplit, seed: int) -> SklearnLearner:
        """Fit clones of the members (bootstrap resamples for a committee)."""
        from sklearn.base import clone

        train = as_split(train)
        x, y = train.x.reshape(len(train), -1), train.y
        self.classes_ = max(self.num_classes or 0, int(y.max()) + 1)
        rng = np.random.default_rng(seed)
        protos = self.members * self.committee if len(self.members) == 1 else self.members
        self.fitted_ = []
        for m, proto in enumerate(protos):
            est = clone(proto)
            if "random_state" in est.get_params():
                est.set_params(random_state=(seed + m) % 2**31)
            idx = np.arange(len(y))
            if self.committee > 1:
                for _ in range(20):  # a resample with at least two classes
                    idx = rng.integers(len(y), size=len(y))
                    if len(np.unique(y[idx])) > 1:
                        break
                else:
                    idx = np.arange(len(y))
            if len(np.unique(y[idx])) < 2:
                raise ValueError(
                    f"train: expected labels of at least two classes, got only {np.unique(y).tolist()}"
                )
            self.fitted_.append(est.fit(x[idx], y[idx]))
        return self

    def probs(
        self, split: DataSplit, seed: int = 0, *, consistent_masks: bool = False
    ) -> np.ndarray:
        """``(S, N, C)`` member probabilities (S = committee size or ensemble size)."""
        if not self.fitted_:
            raise ValueError("learner: call fit(train, seed) before predicting")
        x = split.x.reshape(len(split), -1)
        out = np.zeros((len(self.fitted_), len(split), self.classes_))
        for s, est in enumerate(self.fitted_):
            cols = np.asarray(est.classes_, dtype=np.int64)
            out[s][:, cols] = est.predict_proba(x)
        return out

    def features(self, split: DataSplit) -> np.ndarray:
        """The inputs, flattened ``(N, D)`` (a linear model's "penultimate" features)."""
        return split.x.reshape(len(split), -1).astype(np.float64)

    def embeddings(self, split: DataSplit) -> np.ndarray:
        """BADGE embeddings ``(p - e_ŷ) ⊗ x`` of a linear model on the raw inputs."""
        return badge_embeddings(self.probs(split).mean(axis=0), self.features(split))

    def evaluate(self, test: Any, seed: int = 0) -> dict[str, float]:
        test = as_split(test)
        pbar = self.probs(test).mean(axis=0)
        if int(test.y.max()) >= pbar.shape[1]:
            raise ValueError(
                f"test: expected labels in [0, {pbar.shape[1]}), got {int(test.y.max())}"
            )
        return {
            "accuracy": float((pbar.argmax(1) == test.y).mean()),
            "nll": float(label_nll(np.clip(pbar, 1e-12, 1), test.y).mean()),
        }
