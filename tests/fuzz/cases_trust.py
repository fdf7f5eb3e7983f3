"""Fuzz cases for issue 13's trust API: AUGRC / risk at coverage, the MSP anchor, the
logit-based baselines, Rel-U's matrix and the cross-fitted correctness labels."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

import samplescope.metrics as M
import samplescope.trust as T

from .strategies import array, binary, fraction, integer, name, obj, positive, probs, scalar, vec
from .test_fuzz_api import _BATCH, _DATA, _MODEL, SPLIT, B, C, N, V, X, add, dnet, net

SKIP = {
    "samplescope.trust.CORRECTNESS": "constant tuple of correctness sources",
    "samplescope.trust.CorrectnessTargets": "result record of crossfit_correctness (fuzzed)",
    "samplescope.trust.FreshCopy": "factory record built by classifier_fold_config (fuzzed)",
    "samplescope.trust.list_baselines": "lists registry names; no arguments",
}

_OUTCOME = {"correct": binary(), "trust": array(1)}
add("metrics.augrc", M.augrc, lambda: {"correct": B(), "trust": V()}, dict(_OUTCOME), scalar)
add(
    "metrics.risk_at_coverage",
    M.risk_at_coverage,
    lambda: {"correct": B(), "trust": V(), "coverage": 0.9},
    {**_OUTCOME, "coverage": fraction(bad=(0.0, -0.1, 1.5, float("nan"), "x"))},
    scalar,
)
add(
    "trust.msp_logit",
    T.msp_logit,
    lambda: {"logits": np.random.default_rng(0).normal(size=(N, C))},
    {"logits": array(2, skip=frozenset({"nonfinite", "dtype", "empty"}))},
    vec(N),
    call=lambda logits: T.msp_logit(
        torch.as_tensor(logits) if isinstance(logits, np.ndarray) else logits
    ).numpy(),
)
add(
    "trust.MSPAnchoredHead",
    T.MSPAnchoredHead,
    lambda: {"in_features": 4, "scale": 1.0},
    {"in_features": integer(), "scale": positive()},
    lambda res, kw: None,
)
add(
    "trust.relative_uncertainty_matrix",
    T.relative_uncertainty_matrix,
    lambda: {
        "probs": np.full((N, C), 1 / C) + np.eye(C)[np.arange(N) % C] * 0.0,
        "correct": B(),
        "lam": 0.5,
    },
    {"probs": probs(), "correct": binary(), "lam": fraction()},
    lambda res, kw: None,
)
add(
    "trust.targets_from_logits",
    T.targets_from_logits,
    lambda: {
        "logits": np.random.default_rng(0).normal(size=(N, C)),
        "labels": np.arange(N) % C,
        "source": "insample",
    },
    {"logits": obj(bad=(None, "abc", np.zeros((N + 1, C))))},
    lambda res, kw: None,
)


def _baseline(cls: Any, data: Any, test: Any, **params: Any) -> Any:
    return cls(dnet(), **params).fit(data).predict_trust(test)


_TEST = array((2, 3, 4, 5), fixed_trailing=True, group=None, aliases=("data",))
for _cls, _params, _pargs in (
    (T.MaxLogitTrust, {"batch_size_eval": 5}, {"batch_size_eval": _BATCH}),
    (T.MaxLogitPNormTrust, {"p": 2.0}, {"p": positive(bad=(0.5, -1.0, float("nan"), "x"))}),
    (T.EnergyTrust, {"temperature": 1.0}, {"temperature": positive()}),
    (T.DoctorTrust, {"temperature": 1.0}, {"temperature": positive()}),
    (
        T.RelativeUncertaintyTrust,
        {"lam": 0.5, "temperature": 1.0},
        {"lam": fraction(), "temperature": positive()},
    ),
    (
        T.EnsembleTrust,
        {"members": [net(seed=1)]},
        {"members": obj(bad=(None, "abc", 3, [3], net()))},
    ),
):
    add(
        f"trust.{_cls.__name__}",
        _cls,
        (lambda p: lambda: {"data": SPLIT(), "test": X(6, seed=1), **p})(_params),
        {"data": _DATA, "test": _TEST, **_pargs},
        vec(6),
        call=(lambda c: lambda data, test, **p: _baseline(c, data, test, **p))(_cls),
    )
add(
    "trust.describe_baseline",
    T.describe_baseline,
    lambda: {"name": "mcp"},
    {"name": name(aliases=("baseline",))},
    lambda res, kw: None,
)
add(
    "trust.classifier_fold_config",
    T.classifier_fold_config,
    lambda: {"classifier": net(), "num_classes": C, "epochs": 1},
    {
        "classifier": _MODEL,
        "num_classes": integer(bad=(1, 0, -1, 1.5, "2", None)),
        "epochs": integer(bad=(0, -1, 1.5, "2")),
    },
    lambda res, kw: None,
)
add(
    "trust.crossfit_correctness",
    T.crossfit_correctness,
    lambda: {
        "data": SPLIT(),
        "config": T.classifier_fold_config(net(), C, epochs=1, batch_size=4),
        "folds": 2,
        "seed": 0,
    },
    {
        "data": _DATA,
        "config": obj(bad=(None, "abc", 3)),
        "folds": integer(bad=(1, 0, -1, 1.5, "2")),
        "seed": integer(bad=(-1, 1.5, "2")),
    },
    lambda res, kw: vec(N)(res.o, kw),
    slow=True,
)
