"""Fuzz cases for issue 18's active-learning additions: stochastic batch acquisition, BADGE,
k-means++, TypiClust, Cohen's κ; SKIP entries for the stateful classes (tested in
tests/active/test_session.py and test_stopping.py)."""

from __future__ import annotations

import numpy as np

import samplescope.active as A

from .strategies import array, integer, labels, name, positive, probs, scalar, vec
from .test_fuzz_api import N, P, Y, add

SKIP = {
    "samplescope.active.ActiveLearner": "stateful query/teach object; its arguments and calls "
    "are checked in tests/active/test_session.py (bad ids, labels, modes, models)",
    "samplescope.active.SklearnLearner": "adapter over a user estimator; tests/active/test_session.py",
    "samplescope.active.BatchContext": "plain record passed to batch modes",
    "samplescope.active.StoppingRule": "abstract base class of the stopping rules",
    "samplescope.active.BudgetStop": "one integer argument; tests/active/test_stopping.py",
    "samplescope.active.MaxUncertaintyStop": "one number argument; tests/active/test_stopping.py",
    "samplescope.active.StabilizingPredictions": "stateful rule; tests/active/test_stopping.py",
    "samplescope.active.first_stop": "takes rule objects and a dict; tests/active/test_stopping.py",
    "samplescope.active.list_batch_modes": "lists registry names; no arguments",
    "samplescope.active.register_batch_mode": "decorator; registering is tested in test_batch_modes",
    "samplescope.active.select_batch": "takes a BatchContext record; test_batch_modes.py",
}


def _nonneg() -> np.ndarray:
    return np.abs(np.random.default_rng(0).normal(size=N)) + 0.01


def _feats(n: int = N, d: int = 3) -> np.ndarray:
    return np.random.default_rng(1).normal(size=(n, d))


for _f in (A.stochastic_batch, A.sampling_distribution):
    _extra = {"k": 3} if _f is A.stochastic_batch else {}
    add(
        f"active.{_f.__name__}",
        _f,
        lambda _extra=_extra: {"scores": _nonneg(), **_extra},
        {
            "scores": array(1),
            **({"k": integer()} if _extra else {}),
            "mode": name(),
            "beta": positive(bad=(-1.0, float("nan"), float("inf"), "x")),
        },
        vec(3) if _extra else vec(N),
    )
add(
    "active.badge_embeddings",
    A.badge_embeddings,
    lambda: {"probs": P(), "features": _feats()},
    {"probs": probs(), "features": array(2)},
    lambda res, kw: None,
)
add(
    "active.kmeans_pp",
    A.kmeans_pp,
    lambda: {"embeddings": _feats(), "k": 3},
    {"embeddings": array(2), "k": integer()},
    vec(3),
)
add(
    "active.badge",
    A.badge,
    lambda: {"probs": P(), "features": _feats(), "k": 3},
    {"probs": probs(), "features": array(2), "k": integer()},
    vec(3),
)
add(
    "active.typicality",
    A.typicality,
    lambda: {"features": _feats(), "knn": 3},
    {"features": array(2), "knn": integer()},
    vec(N),
)
add(
    "active.typiclust",
    A.typiclust,
    lambda: {"features": _feats(), "k": 2, "min_cluster_size": 1},
    {"features": array(2), "k": integer(), "knn": integer(), "min_cluster_size": integer()},
    vec(2),
)
add(
    "active.cohen_kappa",
    A.cohen_kappa,
    lambda: {"a": Y(), "b": Y()[::-1].copy()},
    {"a": labels(None), "b": labels(None)},
    scalar,
)
