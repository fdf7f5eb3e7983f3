"""Fuzz battery over the public Python surface (issue 16, item 8).

Every public name of ``samplescope.__all__`` and of the sub-packages' ``__all__`` is either
in the case table below (a valid baseline call plus a description of its arguments) or in
:data:`SKIP` with the reason; :func:`test_every_public_name_is_covered` fails when a new
public name appears that neither lists.

For every case: the baseline call must give a finite result of the right shape, and
every corruption drawn by :mod:`tests.fuzz.strategies` (NaN/inf, wrong ndim, wrong trailing
shape, wrong dtype, empty, wrong type, mismatched lengths, labels out of range, unknown
names, bad scalars) must be rejected with a ``ValueError`` naming the argument (or a
``TypeError`` for a wrong type), never another exception and never a silent result.

Example counts come from the hypothesis profile (tests/conftest.py: ``HYPOTHESIS_PROFILE``
= ``default`` | ``slow``); the training-based cases run fewer examples by default and the
full count under ``-m slow``. A summary (cases, examples, failures) is printed at the end
of the session (tests/fuzz/conftest.py).
"""

from __future__ import annotations

import atexit
import copy
import functools
import importlib
import re
import shutil
import tempfile
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

from .strategies import (
    EXAMPLES,
    TYPE_FAMILIES,
    Arg,
    Case,
    array,
    assert_finite,
    binary,
    corruption,
    data,
    each,
    finite,
    fraction,
    integer,
    labels,
    logits,
    model,
    name,
    obj,
    positive,
    probs,
    scalar,
    shape,
    sprobs,
    vec,
)

N, C, S, D = 12, 3, 4, 6

PUBLIC_MODULES = (
    "samplescope",
    "samplescope.functional",
    "samplescope.metrics",
    "samplescope.difficulty",
    "samplescope.weighting",
    "samplescope.trust",
    "samplescope.active",
    "samplescope.uncertainty",
    "samplescope.data",
    "samplescope.io",
    "samplescope.labels",
    "samplescope.models",
    "samplescope.auditing",
)


# --- valid inputs -----------------------------------------------------------------------------


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def P(n: int = N, c: int = C, seed: int = 0) -> np.ndarray:
    """Probabilities ``(n, c)``."""
    return _rng(seed).dirichlet(np.ones(c), size=n)


def SP(s: int = S, n: int = N, c: int = C, seed: int = 0) -> np.ndarray:
    """Stochastic probabilities ``(s, n, c)``."""
    return _rng(seed).dirichlet(np.ones(c), size=(s, n))


def Z(n: int = N, c: int = C, seed: int = 0) -> np.ndarray:
    """Logits ``(n, c)``."""
    return _rng(seed).normal(size=(n, c))


def Y(n: int = N, c: int = C) -> np.ndarray:
    """Labels with every class present."""
    return np.arange(n, dtype=np.int64) % c


def B(n: int = N) -> np.ndarray:
    """0/1 outcomes with both classes (2 of 3 correct)."""
    return (np.arange(n) % 3 != 0).astype(np.int64)


def V(n: int = N, seed: int = 0) -> np.ndarray:
    """Scores ``(n,)`` without ties."""
    return _rng(seed).normal(size=n)


def F(n: int = N, d: int = D, seed: int = 0) -> np.ndarray:
    """Features ``(n, d)``."""
    return _rng(seed).normal(size=(n, d))


# --- the case table ---------------------------------------------------------------------------

CASES: dict[str, Case] = {}
#: case id -> the public object it covers
TARGETS: dict[str, Any] = {}


def add(
    cid: str,
    target: Any,
    make: Callable[[], dict[str, Any]],
    args: dict[str, Arg],
    check: Callable[[Any, dict[str, Any]], None] = finite,
    *,
    call: Callable[..., Any] | None = None,
    slow: bool = False,
) -> None:
    assert cid not in CASES, cid
    CASES[cid] = Case(cid, call or target, make, args, check, slow=slow)
    TARGETS[cid] = target


def _expect_value_error(fn: Callable[[], Any]) -> None:
    """Baseline of a call that must refuse its (valid-looking) input with a ValueError."""
    try:
        fn()
    except ValueError:
        return
    raise AssertionError("expected a ValueError")


def n_of(key: str, axis: int = 0) -> Callable[[dict[str, Any]], int]:
    return lambda kw: np.shape(kw[key])[axis]


import samplescope.active as A  # noqa: E402
import samplescope.data as Dt  # noqa: E402
import samplescope.difficulty as Df  # noqa: E402
import samplescope.functional as Fn  # noqa: E402
import samplescope.io as Io  # noqa: E402
import samplescope.metrics as M  # noqa: E402
import samplescope.trust as T  # noqa: E402
import samplescope.uncertainty as U  # noqa: E402
import samplescope.weighting as W  # noqa: E402

#: scratch folder of the file-based cases (removed at exit)
_TMP = tempfile.mkdtemp(prefix="samplescope-fuzz-")
atexit.register(shutil.rmtree, _TMP, ignore_errors=True)

# ---- metrics ---------------------------------------------------------------------------------

for _f in (M.ece, M.mce, M.adaptive_ece, M.classwise_ece):
    add(
        f"metrics.{_f.__name__}",
        _f,
        lambda: {"probs": P(), "labels": Y(), "n_bins": 5},
        {"probs": probs(), "labels": labels(C), "n_bins": integer()},
        scalar,
    )
for _f in (M.brier, M.nll):
    add(
        f"metrics.{_f.__name__}",
        _f,
        lambda: {"probs": P(), "labels": Y()},
        {"probs": probs(), "labels": labels(C)},
        scalar,
    )
add(
    "metrics.reliability_diagram_data",
    M.reliability_diagram_data,
    lambda: {"probs": P(), "labels": Y(), "n_bins": 5},
    {"probs": probs(), "labels": labels(C), "n_bins": integer()},
    lambda res, kw: None,  # empty bins are NaN by design (documented)
)


def _plot_reliability(**kw: Any) -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    try:
        return M.plot_reliability_diagram(**kw)
    finally:
        plt.close("all")


add(
    "metrics.plot_reliability_diagram",
    M.plot_reliability_diagram,
    lambda: {"probs": P(), "labels": Y(), "n_bins": 5},
    {"probs": probs(), "labels": labels(C), "n_bins": integer()},
    lambda res, kw: None,
    call=_plot_reliability,
)

_OUTCOME = {"correct": binary(), "trust": array(1)}
for _f in (M.auroc, M.aupr_success, M.aupr_error, M.aurc, M.eaurc):
    add(
        f"metrics.{_f.__name__}",
        _f,
        lambda: {"correct": B(), "trust": V()},
        dict(_OUTCOME),
        scalar,
    )
add(
    "metrics.fpr_at_tpr",
    M.fpr_at_tpr,
    lambda: {"correct": B(), "trust": V(), "tpr": 0.9},
    {**_OUTCOME, "tpr": fraction()},
    scalar,
)
add(
    "metrics.tpr_tnr",
    M.tpr_tnr,
    lambda: {"correct": B(), "trust": V(), "threshold": 0.1},
    {**_OUTCOME, "threshold": positive(bad=(float("nan"), float("inf"), "x"))},
    each(scalar),
)
add(
    "metrics.failure_report",
    M.failure_report,
    lambda: {"correct": B(), "trust": V(), "threshold": 0.1},
    {**_OUTCOME, "threshold": positive(bad=(float("nan"), float("inf"), "x"))},
    each(scalar),
)
add(
    "metrics.risk_coverage_curve",
    M.risk_coverage_curve,
    lambda: {"correct": B(), "trust": V()},
    dict(_OUTCOME),
    each(vec(N)),
)
add(
    "metrics.optimal_aurc",
    M.optimal_aurc,
    lambda: {"correct": B()},
    {"correct": binary()},
    scalar,
)
add(
    "metrics.noise_detection_report",
    M.noise_detection_report,
    lambda: {"is_noisy": B(), "difficulty": V(), "rate": 0.3},
    {"is_noisy": binary(), "difficulty": array(1), "rate": fraction(optional=True)},
    each(scalar),
)
add(
    "metrics.gaussian_fit",
    M.gaussian_fit,
    lambda: {"scores": V()},
    {"scores": array(1)},
    each(scalar),
)
for _f in (M.gaussian_kl, M.symmetric_gaussian_kl, M.bhattacharyya):
    add(
        f"metrics.{_f.__name__}",
        _f,
        lambda: {"scores_a": V(), "scores_b": V(8, seed=1)},
        {"scores_a": array(1, group=None), "scores_b": array(1, group=None)},
        scalar,
    )

# ---- uncertainty: decomposition (validated wrappers of the functional core) ------------------

for _f in (
    U.predictive_entropy,
    U.expected_entropy,
    U.mutual_information,
    U.predictive_variance,
):
    add(f"uncertainty.{_f.__name__}", _f, lambda: {"probs": SP()}, {"probs": sprobs()}, vec(N))
add(
    "uncertainty.decompose", U.decompose, lambda: {"probs": SP()}, {"probs": sprobs()}, each(vec(N))
)
add(
    "uncertainty.entropy",
    U.entropy,
    lambda: {"p": P()},
    {"p": Arg("array", ndims=(1, 2, 3), classes=True, simplex=True)},
    vec(N),
)

# ---- difficulty measures -----------------------------------------------------------------------

for _f in (Df.loss_score, Df.confidence_score, Df.margin_score):
    add(
        f"difficulty.{_f.__name__}",
        _f,
        lambda: {"logits": Z(), "labels": Y()},
        {"logits": logits(), "labels": labels(C)},
        vec(N),
    )
add(
    "difficulty.entropy_score",
    Df.entropy_score,
    lambda: {"logits": Z(), "labels": Y()},
    {"logits": logits(), "labels": labels(C, optional=True)},
    vec(N),
)
for _f in (
    Df.predictive_entropy_score,
    Df.expected_entropy_score,
    Df.mutual_information_score,
    Df.predictive_variance_score,
    Df.variation_ratio_score,
    Df.mean_std_score,
):
    add(
        f"difficulty.{_f.__name__}",
        _f,
        lambda: {"probs": SP(), "labels": Y()},
        {"probs": sprobs(), "labels": labels(C, optional=True)},
        vec(N),
    )
add(
    "difficulty.class_proportion_score",
    Df.class_proportion_score,
    lambda: {"labels": Y(), "num_classes": C},
    {"labels": labels(C), "num_classes": integer(optional=True)},
    vec(N),
)
add(
    "difficulty.decompose_cross_entropy",
    Df.decompose_cross_entropy,
    lambda: {"logits": np.stack([Z(seed=0), Z(seed=1)]), "labels": Y()},
    {"logits": Arg("array", ndims=(3,), n_axis=1, classes=True), "labels": labels(C)},
    each(vec(N)),
)
add(
    "difficulty.last_layer_grad_norm_from_features",
    Df.last_layer_grad_norm_from_features,
    lambda: {"features": F(), "logits": Z(), "labels": Y()},
    {"features": array(2), "logits": logits(), "labels": labels(C)},
    vec(N),
)
add(
    "difficulty.stratified_fold_ids",
    Df.stratified_fold_ids,
    lambda: {"labels": Y(), "folds": 2, "repeats": 2, "seed": 0},
    {"labels": labels(None), "folds": integer(), "repeats": integer()},  # no C: any class index
    shape(2, N),
)
add(
    "difficulty.get_measure",
    Df.get_measure,
    lambda: {"name": "loss"},
    {"name": name(aliases=("measure",))},
    lambda res, kw: None,
)
add(
    "difficulty.list_measures",
    Df.list_measures,
    lambda: {"kind": "logits"},
    {"kind": name(bad=("nope", "", 3), optional=True)},
    lambda res, kw: None,
)

# ---- active: acquisitions and selection --------------------------------------------------------

for _f in (
    A.bald,
    A.max_entropy,
    A.variation_ratios,
    A.mean_std,
    A.predictive_trace,
    A.least_confidence,
    A.margin_scores,
):
    add(f"active.{_f.__name__}", _f, lambda: {"probs": SP()}, {"probs": sprobs()}, vec(N))
add(
    "active.random_scores",
    A.random_scores,
    lambda: {"probs": SP(), "rng": np.random.default_rng(0)},
    {"probs": sprobs()},
    vec(N),
)
add(
    "active.acquisition_scores",
    A.acquisition_scores,
    lambda: {"name": "bald", "probs": SP(), "seed": 0},
    {"name": name(aliases=("acquisition",)), "probs": sprobs()},
    vec(N),
)
add(
    "active.get_acquisition",
    A.get_acquisition,
    lambda: {"name": "bald"},
    {"name": name(aliases=("acquisition",))},
    lambda res, kw: None,
)
add(
    "active.Acquisition.__call__",
    A.Acquisition,
    lambda: {"probs": SP()},
    {"probs": sprobs()},
    vec(N),
    call=lambda **kw: A.get_acquisition("mean_std")(**kw),
)
add(
    "active.batch_bald",
    A.batch_bald,
    lambda: {"probs": SP(), "k": 3},
    {"probs": sprobs(), "k": integer()},
    each(vec(3)),
)
add(
    "active.joint_entropy_exact",
    A.joint_entropy_exact,
    lambda: {"probs": SP(n=3)},
    {"probs": sprobs()},
    scalar,
)
add(
    "active.top_k",
    A.top_k,
    lambda: {"scores": V(), "k": 4},
    {"scores": array(1), "k": integer()},
    vec(4),
)
add(
    "active.diverse_top_k",
    A.diverse_top_k,
    lambda: {"scores": V(), "features": F(), "k": 4, "lam": 0.5},
    {
        "scores": array(1),
        "features": array(2),
        "k": integer(),
        "lam": positive(bad=(float("nan"), float("inf"), "x")),
    },
    vec(4),
)
add(
    "active.balanced_random_initial_set",
    A.balanced_random_initial_set,
    lambda: {"sample_ids": np.arange(N) + 100, "labels": Y(), "per_class": 2},
    {
        "sample_ids": labels(None),
        "labels": labels(None),  # no C: any class index
        "per_class": integer(bad=(-1, 1.5, float("nan"), "2")),
    },
    vec(2 * C),
)
add(
    "active.kmeans_initial_set",
    A.kmeans_initial_set,
    lambda: {"sample_ids": np.arange(N) + 100, "labels": Y(), "features": F(), "per_class": 2},
    {
        "sample_ids": labels(None),
        "labels": labels(None),
        "features": array(2),
        "per_class": integer(bad=(-1, 1.5, float("nan"), "2")),
    },
    vec(2 * C),
)
add(
    "active.dynamic_tau",
    A.dynamic_tau,
    lambda: {"mean_probs": P(), "tau_max": 0.25},
    {"mean_probs": probs(), "tau_max": fraction()},
    scalar,
)
add(
    "active.LabelFilter",
    A.LabelFilter,
    lambda: {"tau": 0.1, "tau_max": 0.25},
    {"tau": fraction(bad=(-0.1, 1.5, float("nan"), "static")), "tau_max": fraction()},
    lambda res, kw: None,
)
add(
    "active.LabelFilter.keep",
    A.LabelFilter,
    lambda: {"probs": P(), "labels": Y(), "context_probs": P(20, seed=3)},
    {"probs": probs(), "labels": labels(C), "context_probs": probs(group=None, optional=True)},
    vec(N, dtype_kind="b"),
    call=lambda **kw: A.LabelFilter(tau="dynamic").keep(**kw),
)


# ---- weighting ---------------------------------------------------------------------------------

add(
    "weighting.chi2_divergence",
    W.chi2_divergence,
    lambda: {"weights": np.abs(V()) + 0.1, "direction": "weighted||uniform"},
    {"weights": array(1), "direction": name()},
    scalar,
)
add(
    "weighting.class_balanced_weights",
    W.class_balanced_weights,
    lambda: {"labels": Y(), "beta": 0.9, "num_classes": C},
    {
        "labels": labels(C),
        "beta": fraction(bad=(-0.1, 1.0, float("nan"), "x")),
        "num_classes": integer(optional=True),
    },
    vec(C),
)
add(
    "weighting.grw_weights",
    W.grw_weights,
    lambda: {"labels": Y(), "rho": 1.0, "num_classes": C},
    {
        "labels": labels(C),
        "rho": positive(bad=(-1.0, float("nan"), float("inf"), "x")),
        "num_classes": integer(optional=True),
    },
    vec(C),
)
add(
    "weighting.hard_first_weights",
    W.hard_first_weights,
    lambda: {
        "difficulty": V(),
        "temperature": 0.5,
        "method": "rank",
        "form": "exp",
        "max_ratio": 3.0,
    },
    {
        "difficulty": array(1),
        "temperature": positive(),
        "method": name(),
        "form": name(),
        "max_ratio": positive(bad=(0.5, -1.0, float("nan"), "x"), optional=True),
    },
    lambda res, kw: vec(N)(res.weights, kw),
)
add(
    "weighting.superloss_sigma",
    W.superloss_sigma,
    lambda: {"losses": np.abs(V()), "tau": 1.0, "lam": 1.0},
    {"losses": array(1), "tau": positive(bad=(float("nan"), float("inf"), "x")), "lam": positive()},
    vec(N),
)
add(
    "weighting.superloss_objective",
    W.superloss_objective,
    lambda: {"loss": 0.5, "sigma": 0.8, "tau": 1.0, "lam": 1.0},
    {
        "loss": positive(bad=(float("nan"), float("inf"), "x")),
        "sigma": positive(),
        "tau": positive(bad=(float("nan"), float("inf"), "x")),
        "lam": positive(),
    },
    scalar,
)
add(
    "weighting.spl_weights",
    W.spl_weights,
    lambda: {"losses": np.abs(V()), "lam": 0.7, "kind": "linear"},
    {"losses": array(1), "lam": positive(bad=(0.0, -1.0, float("nan"), "x")), "kind": name()},
    vec(N),
)
add(
    "weighting.spl_threshold",
    W.spl_threshold,
    lambda: {"losses": torch.as_tensor(np.abs(V())), "rate": 0.5},
    {"losses": array(1), "rate": fraction()},
    scalar,
)
add(
    "weighting.difficulty_from_table",
    W.difficulty_from_table,
    lambda: {
        "table": Io.ScoreTable.from_arrays(np.arange(N) + 5, Y(), gen_error=V()),
        "column": "gen_error",
        "sample_ids": np.arange(N)[::-1] + 5,
    },
    {
        "table": obj(bad=(None, 3, {"a": 1})),
        "column": name(bad=("nope", 3, None)),
        "sample_ids": labels(None, group=None, skip=frozenset({"empty"})),
    },
    vec(N),
)


def _static(scheme: str, **params: Any) -> Callable[..., Any]:
    return lambda **kw: W.static_weights(scheme, num_classes=C, params=params or None, **kw)


add(
    "weighting.static_weights",
    W.static_weights,
    lambda: {"scheme": "hard_first", "labels": Y(), "difficulty": V()},
    {"scheme": name(aliases=("weighting",)), "labels": labels(None), "difficulty": array(1)},
    vec(N),
)
add(
    "weighting.static_weights[label-only]",
    W.static_weights,
    lambda: {"labels": Y()},
    {"labels": labels(C)},
    vec(N),
    call=_static("class_balanced"),
)


def _transform_case(
    cid: str,
    factory: Callable[..., Any],
    params: dict[str, Any],
    pargs: dict[str, Arg],
    values: Callable[[], np.ndarray] = V,
    needs_labels: bool = False,
) -> None:
    """A transform factory: its parameters, then the Transform on ``values`` ``(N,)``."""

    def call(values: Any, labels: Any, **p: Any) -> Any:
        return factory(**p)(values, labels=labels, num_classes=C)

    add(
        cid,
        factory,
        lambda: {"values": values(), "labels": Y(), **params},
        {"values": array(1), "labels": labels(C, optional=not needs_labels), **pargs},
        vec(N),
        call=call,
    )


_pos = lambda: np.abs(V()) + 0.1  # noqa: E731
_transform_case("weighting.identity", W.identity, {}, {})
_transform_case("weighting.negate", W.negate, {}, {})
_transform_case("weighting.normalize", W.normalize, {"method": "rank"}, {"method": name()})
_transform_case("weighting.temper", W.temper, {"temperature": 0.5}, {"temperature": positive()})
_transform_case(
    "weighting.power",
    W.power,
    {"p": 2.0, "eps": 1e-6},
    {
        "p": positive(bad=(-1.0, float("nan"), float("inf"), "x")),
        "eps": positive(bad=(-1.0, float("nan"), "x")),
    },
    _pos,
)
_transform_case(
    "weighting.floor", W.floor, {"eps": 0.1}, {"eps": positive(bad=(-1.0, float("nan"), "x"))}, _pos
)
_transform_case(
    "weighting.clip",
    W.clip,
    {"max_ratio": 2.0, "min_ratio": 0.1},
    {
        "max_ratio": positive(optional=True),
        "min_ratio": positive(bad=(-1.0, float("nan"), "x", 5.0)),
    },
    _pos,
)
_transform_case("weighting.mean_one", W.mean_one, {}, {}, _pos)
_transform_case("weighting.sum_to", W.sum_to, {"total": 3.0}, {"total": positive()}, _pos)
_transform_case(
    "weighting.class_balanced",
    W.class_balanced,
    {"beta": 0.9},
    {"beta": fraction(bad=(-0.1, 1.0, float("nan"), "x"))},
    needs_labels=True,
)
_transform_case(
    "weighting.grw",
    W.grw,
    {"rho": 0.5},
    {"rho": positive(bad=(-1.0, float("nan"), float("inf"), "x"))},
    needs_labels=True,
)
_transform_case(
    "weighting.hard_first",
    W.hard_first,
    {"temperature": 0.5, "method": "minmax", "chi2_cap": 0.5},
    {
        "temperature": positive(),
        "method": name(),
        "chi2_cap": positive(bad=(-1.0, float("nan"), "x"), optional=True),
    },
)
_transform_case(
    "weighting.easy_first",
    W.easy_first,
    {"temperature": 0.5, "form": "power"},
    {"temperature": positive(), "form": name()},
)
_transform_case(
    "weighting.inverse_margin",
    W.inverse_margin,
    {"delta": 0.1, "max_ratio": 4.0},
    {"delta": positive(), "max_ratio": positive(bad=(0.5, -1.0, float("nan"), "x"), optional=True)},
)
_transform_case(
    "weighting.chain",
    W.chain,
    {},
    {},
    _pos,
)
add(
    "weighting.chain[bad transforms]",
    W.chain,
    lambda: {"first": W.normalize("rank"), "second": W.mean_one()},
    {"first": obj(aliases=("transforms",)), "second": obj(aliases=("transforms",))},
    lambda res, kw: None,
    call=lambda first, second: W.chain(first, second),
)
add(
    "weighting.Transform",
    W.Transform,
    lambda: {"values": V(), "labels": Y()},
    {"values": array(1), "labels": labels(None, optional=True)},
    vec(N),
    call=lambda values, labels: W.Transform("neg", lambda v, ctx: -v)(values, labels=labels),
)
add(
    "weighting.get_weighting",
    W.get_weighting,
    lambda: {"name": "hard_first"},
    {"name": name(aliases=("weighting",))},
    lambda res, kw: None,
)
add(
    "weighting.list_weightings",
    W.list_weightings,
    lambda: {"kind": "static"},
    {"kind": name(bad=("nope", "", 3), optional=True)},
    lambda res, kw: None,
)


def _scheme_weights(scheme: Any, **kw: Any) -> Any:
    """A dynamic scheme's weights on one batch of valid tensors (as the trainer calls it)."""
    z = torch.as_tensor(Z(), dtype=torch.float32)
    y = torch.as_tensor(Y())
    losses = torch.nn.functional.cross_entropy(z, y, reduction="none")
    pos = torch.arange(N)
    for epoch in range(3):
        w = scheme.weights(
            losses, sample_ids=pos, positions=pos, labels=y, logits=z, epoch=epoch, epochs=3
        )
    return w


def _dynamic_case(cid: str, cls: Any, params: dict[str, Any], pargs: dict[str, Arg]) -> None:
    add(cid, cls, lambda: dict(params), pargs, vec(N), call=lambda **p: _scheme_weights(cls(**p)))


_dynamic_case(
    "weighting.ActiveBias",
    W.ActiveBias,
    {"eps": 0.05, "warmup_epochs": 1},
    {"eps": positive(), "warmup_epochs": integer(bad=(-1, 1.5, float("nan"), "2"))},
)
_dynamic_case(
    "weighting.SelfPaced",
    W.SelfPaced,
    {"kind": "linear", "start": 0.5, "end": 0.9, "ramp_epochs": 2},
    {
        "kind": name(),
        "start": fraction(bad=(0.0, -0.1, 1.5, float("nan"), "x")),
        "end": fraction(),
        "ramp_epochs": integer(optional=True),
    },
)
_dynamic_case(
    "weighting.SuperLoss",
    W.SuperLoss,
    {"tau": "ema", "lam": 1.0, "ema_decay": 0.9},
    {
        "tau": name(bad=("nope", float("nan"), float("inf"), None)),
        "lam": positive(),
        "ema_decay": fraction(),
    },
)
_dynamic_case(
    "weighting.TruncatedLoss",
    W.TruncatedLoss,
    {"eps_max": 0.3, "ramp_epochs": 2},
    {"eps_max": fraction(bad=(-0.1, 1.0, float("nan"), "x")), "ramp_epochs": integer()},
)
_dynamic_case(
    "weighting.OnlineWeighting",
    W.OnlineWeighting,
    {"transform": W.hard_first(0.5), "measure": "margin"},
    {"transform": obj(), "measure": name()},
)
add(
    "weighting.DynamicScheme",
    W.DynamicScheme,
    lambda: {},
    {},
    lambda res, kw: None,
    call=lambda: W.DynamicScheme().reset(),
)


def _focal(gamma: Any, alpha: Any, logits: Any, labels: Any) -> Any:
    return W.FocalLoss(gamma, alpha)(
        torch.as_tensor(logits, dtype=torch.float32), torch.as_tensor(labels)
    )


add(
    "weighting.FocalLoss",
    W.FocalLoss,
    lambda: {"gamma": 2.0, "alpha": np.ones(C), "logits": Z(), "labels": Y()},
    {
        "gamma": positive(bad=(-1.0, float("nan"), float("inf"), "x")),
        "alpha": Arg("array", ndims=(0, 1), group=None, optional=True, skip=frozenset({"empty"})),
        "logits": logits(skip=frozenset({"nonfinite", "dtype", "type"})),
        "labels": labels(C, skip=frozenset({"dtype", "type"})),
    },
    vec(N),
    call=_focal,
)
add(
    "weighting.focal_loss",
    W.focal_loss,
    lambda: {"gamma": 1.0, "alpha": 0.5},
    {
        "gamma": positive(bad=(-1.0, float("nan"), float("inf"), "x")),
        "alpha": positive(optional=True),
    },
    lambda res, kw: None,
)
add(
    "weighting.WeightRecorder",
    W.WeightRecorder,
    lambda: {},
    {},
    lambda res, kw: None,
    call=lambda: _expect_value_error(lambda: W.WeightRecorder().weights_),
)
add(
    "weighting.solve_for_chi2",
    W.solve_for_chi2,
    lambda: {"make_weights": lambda t: np.exp(V() / t), "cap": 0.2},
    {"make_weights": obj(bad=(None, "abc", 3)), "cap": positive(bad=(-1.0, float("nan"), "x"))},
    lambda res, kw: (scalar(res[0], kw), vec(N)(res[1], kw), scalar(res[2], kw)),
)

# ---- trust: pure functions -----------------------------------------------------------------------

add(
    "trust.trust_metrics",
    T.trust_metrics,
    lambda: {"correct": B(), "trust": V(), "pos_threshold": 0.1, "neg_threshold": 0.2},
    {
        **_OUTCOME,
        "pos_threshold": positive(bad=(float("nan"), float("inf"), "x")),
        "neg_threshold": positive(bad=(float("nan"), float("inf"), "x")),
    },
    each(scalar),
)
add(
    "trust.confusion_masks",
    T.confusion_masks,
    lambda: {"correct": B(), "trust": V(), "pos_threshold": 0.1, "neg_threshold": 0.2},
    {
        **_OUTCOME,
        "pos_threshold": positive(bad=(float("nan"), float("inf"), "x")),
        "neg_threshold": positive(bad=(float("nan"), float("inf"), "x")),
    },
    each(vec(N, dtype_kind="b")),
)
add(
    "trust.separability",
    T.separability,
    lambda: {"correct": B(), "trust": V()},
    dict(_OUTCOME),
    each(scalar),
)
_ROWS = [{"method": "a", "seed": s, "auroc": 0.5 + 0.1 * s} for s in range(3)]
add(
    "trust.summarize",
    T.summarize,
    lambda: {"rows": list(_ROWS), "keys": ["auroc"], "by": ["method"]},
    {
        "rows": obj(bad=(None, 3, [1, 2])),
        "keys": obj(bad=(None, 3, ["nope"])),
        "by": obj(bad=(None, 3, ["nope"])),
    },
    lambda res, kw: None,
)
add(
    "trust.format_table",
    T.format_table,
    lambda: {"summary": T.summarize(_ROWS, ["auroc"], ["method"]), "label": "method"},
    {"summary": obj(bad=(None, 3, [1, 2])), "label": name(bad=("nope", 3, None))},
    lambda res, kw: None,
)
add(
    "trust.trust_score",
    T.trust_score,
    lambda: {
        "train_features": F(),
        "train_labels": Y(),
        "test_features": F(8, seed=1),
        "predicted": Y(8),
        "num_classes": C,
        "k": 2,
        "alpha": 0.1,
    },
    {
        "train_features": array(2, group="train", fixed_trailing=True),
        "train_labels": labels(C, group="train"),
        "test_features": array(2, group="test", fixed_trailing=True),
        "predicted": labels(C, group="test"),
        "num_classes": integer(optional=True),
        "k": integer(),
        "alpha": fraction(bad=(-0.1, 1.0, float("nan"), "x")),
    },
    vec(8),
)
add(
    "trust.density_filter",
    T.density_filter,
    lambda: {"x": F(), "k": 2, "alpha": 0.2, "algorithm": "brute"},
    {
        "x": array(2),
        "k": integer(),
        "alpha": fraction(bad=(-0.1, 1.0, float("nan"), "x")),
        "algorithm": name(),
    },
    vec(N, dtype_kind="b"),
)
add(
    "trust.fit_class_trees",
    T.fit_class_trees,
    lambda: {"features": F(), "labels": Y(), "num_classes": C, "k": 2, "alpha": 0.1},
    {
        "features": array(2),
        "labels": labels(C),
        "num_classes": integer(),
        "k": integer(),
        "alpha": fraction(bad=(-0.1, 1.0, float("nan"), "x")),
    },
    lambda res, kw: None,
)
add(
    "trust.trust_score_ratio",
    T.trust_score_ratio,
    lambda: {
        "trees": T.fit_class_trees(F(), Y(), C, k=2),
        "features": F(8, seed=1),
        "predicted": Y(8),
    },
    {
        "trees": obj(bad=(None, 3, [])),
        "features": array(2, fixed_trailing=True),
        "predicted": labels(C),
    },
    vec(8),
)
add(
    "trust.make_head",
    T.make_head,
    lambda: {"kind": "hyperplane", "in_features": 4},
    {"kind": name(aliases=("head",)), "in_features": integer()},
    lambda res, kw: None,
)
add(
    "trust.HyperplaneHead",
    T.HyperplaneHead,
    lambda: {"in_features": 4, "eps": 1e-12},
    {"in_features": integer(), "eps": positive(bad=(-1.0, float("nan"), "x"))},
    lambda res, kw: None,
)
add(
    "trust.LinearHead",
    T.LinearHead,
    lambda: {"in_features": 4},
    {"in_features": integer()},
    lambda res, kw: None,
)
add(
    "trust.get_trust_loss",
    T.get_trust_loss,
    lambda: {"name": "ss"},
    {"name": name(aliases=("loss",))},
    lambda res, kw: None,
)
add(
    "trust.describe_trust_loss",
    T.describe_trust_loss,
    lambda: {"name": "ss"},
    {"name": name(aliases=("loss",))},
    lambda res, kw: None,
)


def _trust_loss(loss: Any, z: Any, o: Any) -> Any:
    return loss(
        torch.as_tensor(z, dtype=torch.float32), torch.as_tensor(o), torch.full(np.shape(z), 0.6)
    )


# per-batch loss kernels take tensors the trainer built: NaN propagates as in torch's own
# losses (no device sync to look for it); wrong shapes, lengths and ranges are checked
_TENSOR_SKIP = frozenset({"nonfinite", "dtype", "type", "empty"})
#: correctness targets o in [0, 1] (soft targets allowed)
_SOFT_O = binary(skip=_TENSOR_SKIP, bad=(2.0, -1.0, np.nan))
for _cls, _params, _pargs in (
    (T.CrossEntropyTrustLoss, {}, {}),
    (T.FocalTrustLoss, {"gamma": 2.0}, {"gamma": positive(bad=(-1.0, float("nan"), "x"))}),
    (T.TCPTrustLoss, {}, {}),
    (
        T.SteepSlopeLoss,
        {"alpha_pos": 1.0, "alpha_neg": 2.0, "beta_pos": 0.1},
        {
            "alpha_pos": positive(),
            "alpha_neg": positive(),
            "beta_pos": positive(bad=(float("nan"), float("inf"), "x")),
        },
    ),
):
    add(
        f"trust.{_cls.__name__}",
        _cls,
        (lambda p: lambda: {"z": V(), "o": B(), **p})(_params),
        {"z": array(1, skip=_TENSOR_SKIP), "o": _SOFT_O, **_pargs},
        vec(N),
        call=(lambda c: lambda z, o, **p: _trust_loss(c(**p), z, o))(_cls),
    )
add(
    "trust.steep_slope_loss",
    T.steep_slope_loss,
    lambda: {"z": torch.as_tensor(V()), "o": torch.as_tensor(B())},
    {"z": array(1, skip=_TENSOR_SKIP), "o": _SOFT_O},
    vec(N),
)

# ---- data ----------------------------------------------------------------------------------------

add(
    "data.from_arrays",
    Dt.from_arrays,
    lambda: {"x": F(), "y": Y(), "sample_id": np.arange(N) + 3, "num_classes": C},
    {
        "x": array((2, 3, 4, 5)),
        "y": labels(C),
        "sample_id": labels(None, optional=True),
        "num_classes": integer(optional=True),
    },
    lambda res, kw: None,
)
add(
    "data.DataSplit",
    Dt.DataSplit,
    lambda: {
        "x": F().astype(np.float32),
        "y": Y(),
        "sample_id": np.arange(N) + 3,
        "true_y": Y()[::-1].copy(),
    },
    {
        "x": array((2, 3, 4, 5)),
        "y": labels(None),
        "sample_id": labels(None),
        "true_y": labels(None, optional=True),
    },
    lambda res, kw: None,
)
add(
    "data.as_split",
    Dt.as_split,
    lambda: {"data": (F(), Y())},
    # an empty split is a valid split (the callers that need samples say so)
    {"data": data(None, skip=frozenset({"empty"}))},
    lambda res, kw: None,
)
add(
    "data.inject_label_noise",
    Dt.inject_label_noise,
    lambda: {"labels": Y(), "rate": 0.3, "kind": "symmetric", "num_classes": C, "seed": 0},
    {
        "labels": labels(C),
        "rate": fraction(),
        "kind": name(),
        "num_classes": integer(bad=(0, 1, -1, 1.5, float("nan"), "2"), optional=True),
        "seed": integer(bad=(-1, 1.5, float("nan"), "2")),
    },
    each(vec(N)),
)
add(
    "data.inject_label_noise[asymmetric]",
    Dt.inject_label_noise,
    lambda: {
        "labels": Y(n=24, c=10),
        "rate": 0.5,
        "kind": "asymmetric",
        "num_classes": 10,
        "mapping": "mnist",
    },
    {"labels": labels(10), "mapping": name(bad=("nope", 3, {1: 1}, {1: 11}, {"a": 1}))},
    each(vec(24)),
)
add(
    "data.transition_matrix",
    Dt.transition_matrix,
    lambda: {"kind": "symmetric", "rate": 0.2, "num_classes": C},
    {"kind": name(), "rate": fraction(), "num_classes": integer(bad=(0, 1, -1, 1.5, "2"))},
    shape(C, C),
)
add(
    "data.make_imbalanced",
    Dt.make_imbalanced,
    lambda: {"labels": Y(30), "ratio": 3.0, "profile": "exponential", "seed": 0, "num_classes": C},
    {
        "labels": labels(C),
        "ratio": positive(bad=(0.5, -1.0, float("nan"), float("inf"), "x")),
        "profile": name(),
        "seed": integer(bad=(-1, 1.5, float("nan"), "2")),
        "num_classes": integer(bad=(0, 1, -1, 1.5, "2"), optional=True),
    },
    lambda res, kw: None,
)
add(
    "data.imbalanced_counts",
    Dt.imbalanced_counts,
    lambda: {"n_max": 10, "num_classes": C, "ratio": 4.0, "profile": "step"},
    {
        "n_max": integer(),
        "num_classes": integer(bad=(0, -1, 1.5, "2")),
        "ratio": positive(bad=(0.5, -1.0, float("nan"), float("inf"), "x")),
        "profile": name(),
    },
    vec(C),
)
add(
    "data.load_dataset",
    Dt.load_dataset,
    lambda: {"name": "digits"},
    {"name": name(bad=("nope", "", 3, None, "mnist-x"))},
    lambda res, kw: None,
)
add(
    "data.dataset_file",
    Dt.dataset_file,
    lambda: {"name": "mnist", "root": "/tmp"},
    {"name": name(bad=("nope", "", 3, None)), "root": obj(bad=(3, {"a": 1}), optional=True)},
    lambda res, kw: None,
)
add(
    "data.data_dir",
    Dt.data_dir,
    lambda: {"root": "/tmp"},
    {"root": obj(bad=(3, {"a": 1}, 1.5), optional=True)},
    lambda res, kw: None,
)


class _ListDataset(torch.utils.data.Dataset):
    def __init__(self, items: list[Any]) -> None:
        self.items = items

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> Any:
        return self.items[i]


def _from_torch(x: Any, y: Any, id_offset: Any = 0) -> Any:
    return Dt.from_torch_dataset(_ListDataset(list(zip(x, y, strict=False))), id_offset=id_offset)


add(
    "data.from_torch_dataset",
    Dt.from_torch_dataset,
    lambda: {"x": F().astype(np.float32), "y": Y(), "id_offset": 5},
    # the items are zip(x, y): a shorter x or y is just a shorter dataset (no "length")
    {
        "x": array((2,), skip=frozenset({"ndim", "type", "length"}), aliases=("dataset",)),
        "y": labels(None, skip=frozenset({"ndim", "type", "length"}), aliases=("dataset",)),
        "id_offset": integer(bad=(-1, 1.5, float("nan"), "2")),
    },
    lambda res, kw: None,
    call=_from_torch,
)
add(
    "data.from_torch_dataset[not a dataset]",
    Dt.from_torch_dataset,
    lambda: {"dataset": _ListDataset([(np.zeros(3, np.float32), 0), (np.ones(3, np.float32), 1)])},
    {
        "dataset": obj(bad=(None, 3, "abc", _ListDataset([1, 2]), _ListDataset([]))),
    },
    lambda res, kw: None,
)
add(
    "data.Dataset",
    Dt.Dataset,
    lambda: {
        "name": "toy",
        "train": Dt.from_arrays(F(), Y()),
        "test": Dt.from_arrays(F(6, seed=1), Y(6)),
        "num_classes": C,
    },
    {
        "train": obj(bad=(None, 3, (1, 2))),
        "test": obj(bad=(None, 3, (1, 2))),
        "num_classes": integer(bad=(0, 1, -1, 1.5, "2")),
    },
    lambda res, kw: None,
)
add(
    "data.IndexedTorchDataset",
    Dt.IndexedTorchDataset,
    lambda: {"split": Dt.from_arrays(F(), Y())},
    {"split": obj(bad=(None, 3, (1, 2)))},
    lambda res, kw: None,
    call=lambda split: Dt.IndexedTorchDataset(split)[0],
)


def _user_csv() -> str:
    import pandas as pd

    p = f"{_TMP}/user.csv"
    pd.DataFrame({"a": V(), "b": V(seed=1), "label": Y()}).to_csv(p, index=False)
    return p


add(
    "data.read_data",
    Dt.read_data,
    lambda: {"source": _USER_CSV, "label": "label", "features": ["a", "b"]},
    {
        "source": obj(bad=("/nonexistent/x.csv", f"{_TMP}/t.txt", 3, None, "nope")),
        "label": name(bad=("nope", 3), optional=True),
        "features": obj(bad=(["nope"], "a", 3, []), optional=True),
    },
    lambda res, kw: None,
)

# ---- io -------------------------------------------------------------------------------------------

add(
    "io.ScoreTable.from_arrays",
    Io.ScoreTable,
    lambda: {
        "sample_id": np.arange(N) + 1,
        "label": Y(),
        "true_label": Y()[::-1].copy(),
        "is_noisy": B(),
        "loss": V(),
    },
    {
        "sample_id": labels(None),
        "label": labels(None),
        "true_label": labels(None, optional=True),
        "is_noisy": binary(optional=True),
        "loss": array(1),
    },
    lambda res, kw: None,
    call=lambda **kw: Io.ScoreTable.from_arrays(**kw),
)
add(
    "io.ScoreTable",
    Io.ScoreTable,
    lambda: {"df": Io.ScoreTable.from_arrays(np.arange(N), Y(), loss=V()).df},
    {"df": obj(bad=(None, 3, {"a": 1}, "abc"))},
    lambda res, kw: None,
)
add(
    "io.ScoreTable.add",
    Io.ScoreTable,
    lambda: {"name": "margin", "values": V(), "sample_id": np.arange(N)[::-1].copy()},
    {
        "name": name(bad=("label", "sample_id", 3, None)),
        "values": array(1),
        "sample_id": labels(None, optional=True),
    },
    lambda res, kw: None,
    call=lambda **kw: Io.ScoreTable.from_arrays(np.arange(N), Y(), loss=V()).add(**kw),
)
add(
    "io.ScoreTable.column",
    Io.ScoreTable,
    lambda: {"name": "loss"},
    {"name": name(bad=("nope", 3, None))},
    vec(N),
    call=lambda **kw: Io.ScoreTable.from_arrays(np.arange(N), Y(), loss=V()).column(**kw),
)
add(
    "io.ScoreTable.hardest",
    Io.ScoreTable,
    lambda: {"column": "loss", "k": 3},
    {"column": name(bad=("nope", 3, None)), "k": integer(bad=(-1, 1.5, float("nan"), "2"))},
    lambda res, kw: None,
    call=lambda **kw: Io.ScoreTable.from_arrays(np.arange(N), Y(), loss=V()).hardest(**kw),
)


def _save_table(suffix: str) -> Any:
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        t = Io.ScoreTable.from_arrays(np.arange(N), Y(), loss=V())
        return Io.ScoreTable.load(t.save(f"{d}/t{suffix}"))


add(
    "io.ScoreTable.save",
    Io.ScoreTable,
    lambda: {"suffix": ".csv"},
    {"suffix": name(bad=(".txt", "", ".parquet.x"), aliases=("path",))},
    lambda res, kw: None,
    call=_save_table,
)
_TABLE_CSV = str(Io.ScoreTable.from_arrays(np.arange(N), Y(), loss=V()).save(f"{_TMP}/t.csv"))
_USER_CSV = _user_csv()


def _bad_user_files() -> tuple[str, ...]:
    """Files and folders read_data must refuse (each with a ValueError naming source/label)."""
    import os

    import pandas as pd

    d = f"{_TMP}/bad_user"
    os.makedirs(d, exist_ok=True)
    out = []

    def csv(n: str, df: Any) -> None:
        df.to_csv(f"{d}/{n}.csv", index=False)
        out.append(f"{d}/{n}.csv")

    csv("nan", pd.DataFrame({"a": [1.0, np.nan, 2.0, 3.0], "label": [0, 1, 0, 1]}))
    csv("inf", pd.DataFrame({"a": [1.0, np.inf, 2.0, 3.0], "label": [0, 1, 0, 1]}))
    csv("one_class", pd.DataFrame({"a": [1.0, 2.0, 3.0], "label": [0, 0, 0]}))
    csv("no_label", pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [0, 1, 0]}))
    csv("no_features", pd.DataFrame({"label": [0, 1, 0]}))
    # (a text feature column is one-hot encoded by design: not a bad file)
    csv("nan_label", pd.DataFrame({"a": [1.0, 2.0, 3.0], "label": [0, None, 1]}))
    with open(f"{d}/empty.csv", "w") as fh:
        fh.write("")
    out.append(f"{d}/empty.csv")
    with open(f"{d}/header_only.csv", "w") as fh:
        fh.write("a,label\n")
    out.append(f"{d}/header_only.csv")
    with open(f"{d}/t.txt", "w") as fh:
        fh.write("a,label\n1,0\n2,1\n")
    out.append(f"{d}/t.txt")
    with open(f"{d}/garbage.parquet", "w") as fh:
        fh.write("not parquet")
    out.append(f"{d}/garbage.parquet")
    np.savez(f"{d}/no_labels.npz", x=F())
    np.savez(f"{d}/mismatch.npz", x=F(), y=Y(N - 1))
    np.savez(f"{d}/nan.npz", x=np.full((N, D), np.nan), y=Y())
    np.save(f"{d}/alone.npy", F())
    with open(f"{d}/garbage.npz", "w") as fh:
        fh.write("not npz")
    out += [
        f"{d}/{n}" for n in ("no_labels.npz", "mismatch.npz", "nan.npz", "alone.npy", "garbage.npz")
    ]
    os.makedirs(f"{d}/empty_folder", exist_ok=True)
    os.makedirs(f"{d}/one_class_folder/cat", exist_ok=True)
    _png(f"{d}/one_class_folder/cat/a.png")
    os.makedirs(f"{d}/not_images/a", exist_ok=True)
    os.makedirs(f"{d}/not_images/b", exist_ok=True)
    for c in "ab":
        with open(f"{d}/not_images/{c}/x.png", "w") as fh:
            fh.write("not a png")
    os.makedirs(f"{d}/empty_classes/a", exist_ok=True)
    os.makedirs(f"{d}/empty_classes/b", exist_ok=True)
    out += [f"{d}/{n}" for n in ("empty_folder", "one_class_folder", "not_images", "empty_classes")]
    return tuple(out)


def _png(path: str) -> None:
    from PIL import Image

    Image.fromarray(np.zeros((8, 8), dtype=np.uint8)).save(path)


add(
    "data.read_data[bad files]",
    Dt.read_data,
    lambda: {"source": _USER_CSV},
    # a bad file is refused naming label or features where the fix lies there
    {
        "source": obj(
            bad=(*_bad_user_files(), "", "/nonexistent/x.csv", 3, None),
            aliases=("label", "features"),
        )
    },
    lambda res, kw: assert_finite(res.split.x),
)
add(
    "data.read_data[label]",
    Dt.read_data,
    lambda: {"source": _USER_CSV, "label": "label"},
    {"label": name(bad=("nope", "", "a", 3))},  # "a": a float feature column, not labels
    lambda res, kw: assert_finite(res.split.x),
)
add(
    "io.ScoreTable.load",
    Io.ScoreTable,
    lambda: {"path": _TABLE_CSV},
    {"path": obj(bad=("/nonexistent/x.csv", __file__, 3, None))},
    lambda res, kw: None,
    call=lambda path: Io.ScoreTable.load(path),
)


# ---- models ------------------------------------------------------------------------------------

import samplescope.executors as Ex  # noqa: E402
import samplescope.models as Md  # noqa: E402
import samplescope.scoring as Sc  # noqa: E402
import samplescope.training as Tr  # noqa: E402

_NUM = integer(bad=(0, -1, 1.5, float("nan"), "2", None))
add(
    "models.mlp",
    Md.mlp,
    lambda: {"in_features": 8, "num_classes": C, "hidden": (4,), "dropout": 0.1},
    {
        "in_features": _NUM,
        "num_classes": integer(bad=(0, -1, 1.5, "2", None)),
        "hidden": obj(bad=((0,), (-2,), (1.5,), "abc", None)),
        "dropout": fraction(bad=(-0.1, 1.0, float("nan"), "x")),
    },
    lambda res, kw: None,
)
add(
    "models.small_cnn",
    Md.small_cnn,
    lambda: {"num_classes": C, "in_channels": 1, "image_size": 8, "dropout": 0.1},
    {
        "num_classes": integer(bad=(1, 0, -1, 1.5, "2", None)),
        "in_channels": _NUM,
        "image_size": integer(bad=(0, -1, 1.5, "8", None)),  # small maps skip the pools
        "dropout": fraction(bad=(-0.1, 1.0, float("nan"), "x")),
    },
    lambda res, kw: None,
)
add(
    "models.gal_cnn",
    Md.gal_cnn,
    lambda: {"num_classes": C, "in_channels": 1, "image_size": 12},
    {
        "num_classes": integer(bad=(1, 0, -1, 1.5, "2", None)),
        "in_channels": _NUM,
        "image_size": integer(bad=(0, -1, 3, 1.5, "8", None)),
    },
    lambda res, kw: None,
)
add(
    "models.resnet",
    Md.resnet,
    lambda: {"depth": 8, "num_classes": C, "in_channels": 1, "width": 4},
    {
        "depth": integer(bad=(0, -1, 7, 21.5, "8", None)),
        "num_classes": integer(bad=(1, 0, -1, 1.5, "2", None)),
        "in_channels": _NUM,
        "width": _NUM,
    },
    lambda res, kw: None,
)
add(
    "models.default_model",
    Md.default_model,
    lambda: {"input_shape": (8,), "num_classes": C, "kind": "mlp"},
    {
        "input_shape": obj(bad=((), (0,), (-1,), (1.5,), "abc", None)),
        "num_classes": integer(bad=(1, 0, -1, 1.5, "2", None)),
        "kind": name(bad=("nope", "", 3), optional=True),
    },
    lambda res, kw: None,
)

# ---- training ----------------------------------------------------------------------------------

DX = 8  # input features of the tiny models


def X(n: int = N, d: int = DX, seed: int = 0) -> np.ndarray:
    return _rng(seed).normal(size=(n, d)).astype(np.float32)


def net(d: int = DX, c: int = C, dropout: float = 0.0, seed: int = 0) -> nn.Module:
    """A tiny MLP ``(B, d) -> (B, c)``."""
    torch.manual_seed(seed)
    return Md.mlp(d, c, hidden=(8,), dropout=dropout)


def SPLIT(n: int = N, seed: int = 0) -> Any:
    return Dt.from_arrays(X(n, seed=seed), Y(n), np.arange(n) + 10 * seed)


_DATA = data(C, fixed_trailing=True)  # a split the tiny model (DX features, C classes) can read
_MODEL = model(aliases=("classifier",))
_EPOCHS = integer(bad=(0, -1, 1.5, float("nan"), "2", None))
_BATCH = integer(bad=(0, -1, 1.5, float("nan"), "2", None))

add(
    "training.fit",
    Tr.fit,
    lambda: {
        "model": net(),
        "data": SPLIT(),
        "epochs": 1,
        "batch_size": 4,
        "lr": 1e-2,
        "optimizer": "adam",
        "sample_weight": np.abs(V()) + 0.1,
        "progress": False,
    },
    {
        "model": _MODEL,
        "data": _DATA,
        "epochs": _EPOCHS,
        "batch_size": _BATCH,
        "lr": positive(),
        "optimizer": name(),
        "sample_weight": array(1, optional=True),
    },
    lambda res, kw: None,
    slow=True,
)
add(
    "training.evaluate",
    Tr.evaluate,
    lambda: {"model": net(), "data": SPLIT(), "batch_size": 5},
    {"model": _MODEL, "data": _DATA, "batch_size": _BATCH},
    lambda res, kw: (vec(N)(res.losses, kw), shape(N, C)(res.logits, kw)),
)
add(
    "training.predict_logits",
    Tr.predict_logits,
    lambda: {"model": net(), "data": X(), "batch_size": 5},
    {"model": _MODEL, "data": array((2, 3, 4, 5), fixed_trailing=True), "batch_size": _BATCH},
    shape(N, C),
)
add(
    "training.predict_logits[split]",
    Tr.predict_logits,
    lambda: {"model": net(), "data": SPLIT()},
    # predicting reads no labels: labels the model does not know are not an error here
    {"model": _MODEL, "data": data(C, fixed_trailing=True, skip=frozenset({"range"}))},
    shape(N, C),
)


def _model_fn() -> nn.Module:
    return net()


add(
    "training.fit_many",
    Tr.fit_many,
    lambda: {
        "model_fn": _model_fn,
        "data": SPLIT(),
        "index_sets": [np.arange(8), np.arange(4, 12)],
        "seeds": [0, 1],
        "epochs": 1,
        "batch_size": 4,
        "progress": False,
    },
    {
        "model_fn": obj(bad=(None, 3, "abc")),
        "data": _DATA,
        "index_sets": obj(bad=([np.arange(8), np.array([0, 99])], [np.array([0.5])], [], "abc", 3)),
        "seeds": obj(bad=([0], [0, -1], [0, 1.5], "abc")),
        "epochs": _EPOCHS,
        "batch_size": _BATCH,
    },
    lambda res, kw: None,
    slow=True,
)
_FOLD_CONFIG = lambda: Df.FoldConfig(C, epochs=1, batch_size=4, model_fn=lambda s: net(seed=s))  # noqa: E731
add(
    "training.crossfit",
    Tr.crossfit,
    lambda: {
        "data": SPLIT(),
        "config": _FOLD_CONFIG(),
        "folds": 2,
        "repeats": 1,
        "progress": False,
    },
    {
        "data": _DATA,
        "config": obj(bad=(None, 3, "abc", {"num_classes": C})),
        "folds": integer(bad=(1, 0, -1, 1.5, 13, "2")),
        "repeats": _EPOCHS,
    },
    lambda res, kw: shape(1, N, C)(res.oof_logits, kw),
    slow=True,
)
add(
    "difficulty.FoldConfig",
    Df.FoldConfig,
    lambda: {
        "num_classes": C,
        "epochs": 1,
        "batch_size": 4,
        "lr": 1e-3,
        "optimizer": "adam",
        "model_kind": "mlp",
    },
    {
        "num_classes": integer(bad=(1, 0, -1, 1.5, "2", None)),
        "epochs": _EPOCHS,
        "batch_size": _BATCH,
        "lr": positive(),
        "optimizer": name(),
        "model_kind": name(bad=("nope", "", 3), optional=True),
    },
    lambda res, kw: None,
)
add(
    "difficulty.fit_predict_fold",
    Df.fit_predict_fold,
    lambda: {"train": SPLIT(), "heldout": SPLIT(6, seed=1), "seed": 0, "config": _FOLD_CONFIG()},
    {
        "train": data(C, fixed_trailing=True, group="train"),
        "heldout": data(C, fixed_trailing=True, group="held", skip=frozenset({"range"})),
        "seed": integer(bad=(-1, 1.5, float("nan"), "2")),
        "config": obj(bad=(None, 3, "abc")),
    },
    shape(6, C),
    slow=True,
)
add(
    "difficulty.generalization_error",
    Df.generalization_error,
    lambda: {
        "data": SPLIT(),
        "num_classes": C,
        "folds": 2,
        "repeats": 2,
        "epochs": 1,
        "batch_size": 4,
        "model_fn": lambda s: net(seed=s),
        "progress": False,
    },
    {
        "data": _DATA,
        "num_classes": integer(bad=(1, 0, -1, 1.5, "2", None)),
        "folds": integer(bad=(1, 0, -1, 1.5, 13, "2")),
        "repeats": _EPOCHS,
        "epochs": _EPOCHS,
        "batch_size": _BATCH,
        "model_fn": obj(bad=(3, "abc"), optional=True),
    },
    lambda res, kw: None,
    slow=True,
)
add(
    "difficulty.compute_measures",
    Df.compute_measures,
    lambda: {
        "data": SPLIT(),
        "num_classes": C,
        "measures": ["loss", "class_proportion"],
        "epochs": 1,
        "batch_size": 4,
        "model_fn": lambda s: net(seed=s),
        "progress": False,
    },
    {
        "data": _DATA,
        "num_classes": integer(bad=(1, 0, -1, 1.5, "2", None)),
        "measures": obj(bad=(["nope"], [], "loss", None, [3])),
        "epochs": _EPOCHS,
        "batch_size": _BATCH,
    },
    lambda res, kw: None,
    slow=True,
)
add(
    "difficulty.per_sample_grad_norms",
    Df.per_sample_grad_norms,
    lambda: {"model": net(), "data": SPLIT(), "method": "ghost", "batch_size": 5},
    {"model": _MODEL, "data": _DATA, "method": name(), "batch_size": _BATCH},
    vec(N),
)
add(
    "difficulty.last_layer_grad_norm",
    Df.last_layer_grad_norm,
    lambda: {"model": net(), "data": SPLIT(), "batch_size": 5},
    {"model": _MODEL, "data": _DATA, "batch_size": _BATCH},
    vec(N),
)


def _with_recorder(recorder: Any, data: Any) -> Any:
    Tr.fit(net(), data, epochs=2, batch_size=4, callbacks=[recorder], progress=False)
    return recorder.scores()


for _cls in (Df.AUM, Df.Cartography, Df.ForgettingEvents, Df.TrainingDynamics):
    add(
        f"difficulty.{_cls.__name__}",
        _cls,
        lambda: {"source": "batches"},
        {"source": name()},
        lambda res, kw: None,
    )
add(
    "difficulty.ActionScore",
    Df.ActionScore,
    lambda: {"split": SPLIT(), "source": "eval", "include_initial": True},
    {"split": data(C, fixed_trailing=True, optional=True), "source": name()},
    lambda res, kw: None,
    call=lambda **kw: _with_recorder(Df.ActionScore(**kw), SPLIT()),
    slow=True,
)
add(
    "difficulty.DynamicsCallback",
    Df.DynamicsCallback,
    lambda: {"data": SPLIT()},
    {"data": _DATA},
    each(finite),
    call=lambda data: _with_recorder(Df.DynamicsCallback(), data),
    slow=True,
)


# ---- weighting: training ---------------------------------------------------------------------

add(
    "weighting.fit_weighted",
    W.fit_weighted,
    lambda: {
        "model": net(),
        "data": SPLIT(),
        "scheme": "hard_first",
        "difficulty": V(),
        "weight_mode": "sampler",
        "epochs": 1,
        "batch_size": 4,
        "progress": False,
    },
    {
        "model": _MODEL,
        "data": _DATA,
        "scheme": name(aliases=("weighting",)),
        "difficulty": array(1),
        "weight_mode": name(),
    },
    lambda res, kw: None,
    slow=True,
)
add(
    "weighting.resolve_weighting",
    W.resolve_weighting,
    lambda: {"scheme": "class_balanced", "split": SPLIT(), "num_classes": C},
    {
        "scheme": name(bad=("nope", "", 3, None, object()), aliases=("weighting",)),
        "split": obj(bad=(None, 3, "abc"), aliases=("data",)),
        "num_classes": integer(bad=(1, 0, -1, 1.5, "2"), optional=True),
    },
    lambda res, kw: vec(N)(res["sample_weight"], kw),
)

# ---- uncertainty: stochastic prediction, regression, heads, losses -----------------------------


def dnet(seed: int = 0) -> nn.Module:
    return net(dropout=0.3, seed=seed)


_XARR = array((2, 3, 4, 5), fixed_trailing=True)  # inputs (N, DX) of the tiny models
add(
    "uncertainty.predict_stochastic",
    U.predict_stochastic,
    lambda: {
        "model": dnet(),
        "data": X(),
        "method": "mc_dropout",
        "samples": 3,
        "batch_size": 5,
        "seed": 0,
        "offset": 2,
    },
    {
        "model": _MODEL,
        "data": _XARR,
        "method": name(),
        "samples": integer(),
        "batch_size": _BATCH,
        "seed": integer(bad=(-1, 1.5, float("nan"), "2")),
        "offset": integer(bad=(-1, 1.5, float("nan"), "2")),
    },
    shape(3, N, C),
)
add(
    "uncertainty.predict_stochastic[ensemble]",
    U.predict_stochastic,
    lambda: {
        "members": [net(seed=0), net(seed=1)],
        "data": SPLIT(),
        "method": "ensemble",
        "samples": None,
    },
    {
        "members": obj(bad=([], [None], ["abc"], None, 3)),
        "data": data(C, fixed_trailing=True, skip=frozenset({"range"})),
    },
    shape(2, N, C),
    call=lambda **kw: U.predict_stochastic(None, **kw),
)
add(
    "uncertainty.predict_stochastic[tta]",
    U.predict_stochastic,
    lambda: {
        "model": net(),
        "data": X(),
        "method": "tta",
        "transforms": [lambda x: x, lambda x: -x],
        "samples": None,
    },
    {"model": _MODEL, "data": _XARR, "transforms": obj(bad=([], [3], "abc", None))},
    shape(2, N, C),
)
add(
    "uncertainty.iter_stochastic",
    U.iter_stochastic,
    lambda: {"model": dnet(), "data": [X(5), X(7, seed=1)], "samples": 2, "batch_size": 4},
    {
        "model": _MODEL,
        "data": obj(
            bad=(
                [np.full((3, DX), np.nan)],
                [np.zeros((3, DX + 1))],
                [np.zeros(3)],
                [np.zeros((0, DX))],
                3,
                None,
            )
        ),
        "samples": integer(),
        "batch_size": _BATCH,
    },
    lambda res, kw: shape(2, N, C)(np.concatenate(res, axis=1), kw),
    call=lambda **kw: list(U.iter_stochastic(**kw)),
)
add(
    "uncertainty.train_ensemble",
    U.train_ensemble,
    lambda: {
        "model_fn": _model_fn,
        "data": SPLIT(),
        "members": 2,
        "epochs": 1,
        "batch_size": 4,
        "progress": False,
    },
    {"model_fn": obj(bad=(None, 3, "abc")), "data": _DATA, "members": integer(), "epochs": _EPOCHS},
    lambda res, kw: None,
    slow=True,
)


def _mvr() -> nn.Module:
    torch.manual_seed(0)
    return U.MeanVarianceRegressor(DX, 1, hidden=(8,), dropout=0.2)


add(
    "uncertainty.fit_regression",
    U.fit_regression,
    lambda: {
        "model": _mvr(),
        "x": X(),
        "y": V(),
        "loss": "gaussian_nll",
        "epochs": 1,
        "batch_size": 4,
        "lr": 1e-2,
    },
    {
        "model": _MODEL,
        "x": _XARR,
        "y": array((1, 2)),
        "loss": name(),
        "epochs": _EPOCHS,
        "batch_size": _BATCH,
        "lr": positive(),
    },
    each(finite),
    slow=True,
)
add(
    "uncertainty.predict_regression",
    U.predict_regression,
    lambda: {"model": _mvr(), "x": X(), "samples": 3, "seed": 0},
    {
        "model": _MODEL,
        "x": _XARR,
        "samples": integer(),
        "seed": integer(bad=(-1, 1.5, float("nan"), "2")),
    },
    each(finite),
)
add(
    "uncertainty.predict_log_variance",
    U.predict_log_variance,
    lambda: {"model": U.UncertaintyAwareClassifier(net()), "data": X(), "batch_size": 5},
    {"model": _MODEL, "data": _XARR, "batch_size": _BATCH},
    vec(N),
)
add(
    "uncertainty.MeanVarianceRegressor",
    U.MeanVarianceRegressor,
    lambda: {"in_features": DX, "out_features": 2, "hidden": (4,), "dropout": 0.1},
    {
        "in_features": _NUM,
        "out_features": _NUM,
        "hidden": obj(bad=((0,), (-2,), "abc", None)),
        "dropout": fraction(bad=(-0.1, 1.0, float("nan"), "x")),
    },
    lambda res, kw: None,
)
add(
    "uncertainty.UncertaintyAwareClassifier",
    U.UncertaintyAwareClassifier,
    lambda: {"model": net(), "s_init": 0.0},
    {"model": _MODEL, "s_init": positive(bad=(float("nan"), float("inf"), "x"))},
    lambda res, kw: None,
)


def _t(a: Any) -> Any:
    """A numeric array as the tensor the trainer would pass (floats as float32, ints as int64)."""
    if not isinstance(a, np.ndarray) or a.dtype.kind not in "fiub":
        return a
    return torch.as_tensor(a, dtype=torch.float32 if a.dtype.kind == "f" else None)


add(
    "uncertainty.gaussian_nll",
    U.gaussian_nll,
    lambda: {"mean": V(), "log_var": V(seed=1), "target": V(seed=2)},
    {
        "mean": array((1, 2), skip=_TENSOR_SKIP),
        "log_var": array((1, 2), skip=_TENSOR_SKIP),
        "target": array((1, 2), skip=_TENSOR_SKIP),
    },
    vec(N),
    call=lambda mean, log_var, target: U.gaussian_nll(_t(mean), _t(log_var), _t(target)),
)
add(
    "uncertainty.uanll",
    U.uanll,
    lambda: {"logits": Z(), "s": V(), "labels": Y(), "s_min": -3.0},
    {
        "logits": logits(skip=_TENSOR_SKIP),
        "s": array((1, 2), skip=_TENSOR_SKIP),
        "labels": labels(C, skip=_TENSOR_SKIP),
        "s_min": positive(bad=(float("nan"), "x"), optional=True),
    },
    vec(N),
    call=lambda logits, s, labels, s_min: U.uanll(_t(logits), _t(s), _t(labels), s_min=s_min),
)
add(
    "uncertainty.label_smoothing_cross_entropy",
    U.label_smoothing_cross_entropy,
    lambda: {"logits": Z(), "labels": Y(), "epsilon": 0.1, "mode": "others"},
    {
        "logits": logits(skip=_TENSOR_SKIP),
        "labels": labels(C, skip=_TENSOR_SKIP),
        "epsilon": fraction(),
        "mode": name(),
    },
    vec(N),
    call=lambda logits, labels, **kw: U.label_smoothing_cross_entropy(_t(logits), _t(labels), **kw),
)
add(
    "uncertainty.HeteroscedasticLoss",
    U.HeteroscedasticLoss,
    lambda: {"mean": V(), "log_var": V(seed=1), "target": V(seed=2)},
    {
        "mean": array((1, 2), skip=_TENSOR_SKIP),
        "log_var": array((1, 2), skip=_TENSOR_SKIP),
        "target": array((1, 2), skip=_TENSOR_SKIP),
    },
    vec(N),
    call=lambda mean, log_var, target: U.HeteroscedasticLoss()((_t(mean), _t(log_var)), _t(target)),
)
add(
    "uncertainty.UANLLLoss",
    U.UANLLLoss,
    lambda: {"logits": Z(), "s": V(), "labels": Y(), "s_min": -3.0},
    {
        "logits": logits(skip=_TENSOR_SKIP),
        "s": array((1, 2), skip=_TENSOR_SKIP),
        "labels": labels(C, skip=_TENSOR_SKIP),
        "s_min": positive(bad=(float("nan"), "x"), optional=True),
    },
    vec(N),
    call=lambda logits, s, labels, s_min: U.UANLLLoss(s_min)((_t(logits), _t(s)), _t(labels)),
)
add(
    "uncertainty.LabelSmoothingLoss",
    U.LabelSmoothingLoss,
    lambda: {"logits": Z(), "labels": Y(), "epsilon": 0.1, "mode": "uniform"},
    {
        "logits": logits(skip=_TENSOR_SKIP),
        "labels": labels(C, skip=_TENSOR_SKIP),
        "epsilon": fraction(),
        "mode": name(),
    },
    vec(N),
    call=lambda logits, labels, **kw: U.LabelSmoothingLoss(**kw)(_t(logits), _t(labels)),
)
add(
    "uncertainty.shift_views",
    U.shift_views,
    lambda: {"pixels": 2, "directions": [(0, 1), (1, 0)]},
    {"pixels": integer(), "directions": obj(bad=("abc", 3, [(1,)], [("a", "b")]), optional=True)},
    lambda res, kw: None,
)
add("uncertainty.flip_views", U.flip_views, dict, {}, lambda res, kw: None)

# ---- trust: model-based --------------------------------------------------------------------------

add(
    "trust.correctness_labels",
    T.correctness_labels,
    lambda: {"classifier": net(), "data": SPLIT(), "batch_size": 5},
    {"classifier": _MODEL, "data": _DATA, "batch_size": _BATCH},
    lambda res, kw: (vec(N)(res[0], kw), vec(N)(res[1], kw), shape(N, C)(res[2], kw)),
)
add(
    "trust.mc_dropout_probs",
    T.mc_dropout_probs,
    lambda: {"model": dnet(), "x": X(), "samples": 3, "seed": 0, "batch_size": 5},
    {
        "model": _MODEL,
        "x": _XARR,
        "samples": integer(),
        "seed": integer(bad=(-1, 1.5, float("nan"), "2")),
        "batch_size": _BATCH,
    },
    shape(3, N, C),
)


def _baseline(cls: Any, data: Any, test: Any, **params: Any) -> Any:
    b = cls(dnet(), **params).fit(data)
    return b.predict_trust(test)


for _cls, _params, _pargs in (
    (T.MCPTrust, {"batch_size_eval": 5}, {"batch_size_eval": _BATCH}),
    (
        T.MCDropoutTrust,
        {"samples": 3, "seed": 0},
        {"samples": integer(), "seed": integer(bad=(-1, 1.5, "2"))},
    ),
    (
        T.TrustScoreTrust,
        {"k": 2, "alpha": 0.1, "features": "penultimate", "algorithm": "brute"},
        {
            "k": integer(),
            "alpha": fraction(bad=(-0.1, 1.0, float("nan"), "x")),
            "features": name(),
            "algorithm": name(),
        },
    ),
):
    add(
        f"trust.{_cls.__name__}",
        _cls,
        (lambda p: lambda: {"data": SPLIT(), "test": X(6, seed=1), **p})(_params),
        {
            "data": _DATA,
            "test": array((2, 3, 4, 5), fixed_trailing=True, group=None, aliases=("data",)),
            **_pargs,
        },
        vec(6),
        call=(lambda c: lambda data, test, **p: _baseline(c, data, test, **p))(_cls),
    )
add(
    "trust.make_baseline",
    T.make_baseline,
    lambda: {"name": "mcp", "classifier": net()},
    {"name": name(aliases=("baseline",)), "classifier": _MODEL},
    lambda res, kw: None,
)


def _oracle(data: Any, test: Any, **kw: Any) -> Any:
    return T.TrustOracle(dnet(), **kw).fit(data).predict_trust(test)


add(
    "trust.TrustOracle",
    T.TrustOracle,
    lambda: {
        "data": SPLIT(),
        "test": X(6, seed=1),
        "loss": "ss",
        "head": "linear",
        "epochs": 1,
        "batch_size": 4,
        "lr": 1e-3,
        "freeze_layers": 1,
    },
    {
        "data": _DATA,
        "test": array((2, 3, 4, 5), fixed_trailing=True, group=None, aliases=("data",)),
        "loss": name(),
        "head": name(),
        "epochs": _EPOCHS,
        "batch_size": _BATCH,
        "lr": positive(),
        "freeze_layers": integer(bad=(-1, 9, 1.5, "1")),
    },
    vec(6),
    call=_oracle,
    slow=True,
)
add(
    "trust.TrustOracle[classifier]",
    T.TrustOracle,
    lambda: {"classifier": dnet()},
    {"classifier": obj(bad=(None, 3, "abc", nn.ReLU()))},  # any module with a Linear head works
    lambda res, kw: None,
    call=lambda classifier: T.TrustOracle(classifier, epochs=1).fit(SPLIT()),
    slow=True,
)
_TC = dict(
    losses=("ce",),
    baselines=("mcp",),
    classifier_kind="mlp",
    classifier_epochs=1,
    batch_size=4,
    oracle_epochs=1,
    mc_samples=2,
    trustscore_k=2,
)
add(
    "trust.TrustConfig",
    T.TrustConfig,
    lambda: dict(_TC),
    {
        "losses": obj(bad=(("nope",), "ce", None, 3)),
        "baselines": obj(bad=(("nope",), "mcp", 3)),
        "classifier_kind": name(bad=("nope", 3), optional=True),
        "classifier_epochs": _EPOCHS,
        "batch_size": _BATCH,
        "oracle_epochs": _EPOCHS,
        "mc_samples": integer(),
        "trustscore_k": integer(),
    },
    lambda res, kw: None,
    call=lambda **kw: T.TrustConfig(**kw).validate(),
)
add(
    "trust.train_classifier",
    T.train_classifier,
    lambda: {"train": SPLIT(), "num_classes": C, "kind": "mlp", "epochs": 1, "batch_size": 4},
    {
        "train": data(C),
        "num_classes": integer(bad=(1, 0, -1, 1.5, "2", None)),
        "kind": name(bad=("nope", 3), optional=True),
        "epochs": _EPOCHS,
        "batch_size": _BATCH,
    },
    lambda res, kw: None,
    slow=True,
)
add(
    "trust.evaluate_methods",
    T.evaluate_methods,
    lambda: {
        "classifier": dnet(),
        "train": SPLIT(),
        "tests": {"test": SPLIT(8, seed=1)},
        "config": T.TrustConfig(**_TC),
        "seed": 0,
    },
    {
        "classifier": _MODEL,
        "train": _DATA,
        "tests": obj(bad=(None, 3, {"t": None}, {"t": (np.zeros((4, DX)), np.zeros(3))}, {})),
        "config": obj(bad=(None, 3, {"losses": ("ce",)})),
    },
    lambda res, kw: None,
    slow=True,
)
add(
    "trust.run_seed",
    T.run_seed,
    lambda: {
        "train": SPLIT(),
        "tests": {"test": SPLIT(8, seed=1)},
        "num_classes": C,
        "config": T.TrustConfig(**_TC),
        "seed": 0,
    },
    {
        "train": _DATA,
        "tests": obj(bad=(None, 3, {})),
        "num_classes": integer(bad=(1, 0, -1, 1.5, "2", None)),
        "config": obj(bad=(None, 3)),
        "seed": integer(bad=(-1, 1.5, "2")),
    },
    lambda res, kw: None,
    slow=True,
)
add(
    "trust.run_trust_experiment",
    T.run_trust_experiment,
    lambda: {
        "train": SPLIT(),
        "tests": {"test": SPLIT(8, seed=1)},
        "num_classes": C,
        "config": T.TrustConfig(**_TC),
        "seeds": (0,),
    },
    {
        "train": _DATA,
        "tests": obj(bad=(None, 3, {})),
        "num_classes": integer(bad=(1, 0, -1, 1.5, "2", None)),
        "config": obj(bad=(None, 3)),
        "seeds": obj(bad=((), (-1,), (1.5,), "abc", None)),
    },
    lambda res, kw: None,
    slow=True,
)
add(
    "trust.alpha_neg_ablation",
    T.alpha_neg_ablation,
    lambda: {
        "classifier": dnet(),
        "train": SPLIT(),
        "test": SPLIT(8, seed=1),
        "alphas": [1.0, 2.0],
        "config": T.TrustConfig(**_TC),
        "alpha_pos": 1.0,
    },
    {
        "classifier": _MODEL,
        "train": _DATA,
        "test": data(C, fixed_trailing=True, group="test"),
        "alphas": obj(bad=([], [0.0], [float("nan")], ["x"], None)),
        "config": obj(bad=(None, 3)),
        "alpha_pos": positive(),
    },
    lambda res, kw: None,
    slow=True,
)


def _plot(fn: Callable[..., Any], **kw: Any) -> Any:
    import matplotlib

    matplotlib.use("Agg")
    return fn(**kw, path=f"{_TMP}/{fn.__name__}.png")


add(
    "trust.plot_alpha_ablation",
    T.plot_alpha_ablation,
    lambda: {
        "alphas": [1.0, 2.0, 3.0],
        "loss": [0.5, 0.4, 0.3],
        "tpr": [0.9, 0.8, 0.7],
        "tnr": [0.2, 0.3, 0.4],
    },
    {"alphas": array(1), "loss": array(1), "tpr": array(1), "tnr": array(1)},
    lambda res, kw: None,
    call=lambda **kw: _plot(T.plot_alpha_ablation, **kw),
)
add(
    "trust.plot_risk_coverage",
    T.plot_risk_coverage,
    lambda: {"correct": B(), "trust": V()},
    dict(_OUTCOME),
    lambda res, kw: None,
    call=lambda correct, trust: _plot(T.plot_risk_coverage, results={"m": (correct, trust)}),
)
add(
    "trust.plot_trust_histograms",
    T.plot_trust_histograms,
    lambda: {"correct": B(), "trust": 1 / (1 + np.exp(-V())), "bins": 5},
    {**_OUTCOME, "bins": integer()},
    lambda res, kw: None,
    call=lambda correct, trust, bins: _plot(
        T.plot_trust_histograms, results={"m": (correct, trust, 0.5)}, bins=bins
    ),
)

# ---- active: pool, oracles, learners, loop ----------------------------------------------------------


def _pool_call(method: str) -> Callable[..., Any]:
    def call(**kw: Any) -> Any:
        pool = A.Pool(np.arange(N) + 100)
        pool.acquire([100, 101], [0, 1], 0)
        out = getattr(pool, method)(**kw)
        return pool if out is None else out

    return call


add(
    "active.Pool",
    A.Pool,
    lambda: {"sample_ids": np.arange(N) + 100},
    {"sample_ids": labels(None)},
    lambda res, kw: None,
)
add(
    "active.Pool.acquire",
    A.Pool,
    lambda: {"ids": np.array([102, 105]), "labels": np.array([2, 0]), "step": 1},
    # acquiring nothing is valid (a step rejects no label): no "empty" for ids alone, whose
    # emptying is a length mismatch with labels (family "length")
    {
        "ids": labels(None, skip=frozenset({"empty"})),
        "labels": labels(None),
        "step": integer(bad=(-2, 1.5, float("nan"), "2")),
    },  # -1: the initial labelled set
    lambda res, kw: None,
    call=_pool_call("acquire"),
)
add(
    "active.Pool.undo",
    A.Pool,
    lambda: {"ids": np.array([100])},
    {"ids": labels(None, group=None, skip=frozenset({"empty"}))},  # no ids: nothing to do
    lambda res, kw: None,
    call=_pool_call("undo"),
)
add(
    "active.Pool.label_of",
    A.Pool,
    lambda: {"ids": np.array([100, 103])},
    {"ids": labels(None, group=None, skip=frozenset({"empty"}))},  # no ids: nothing to do
    vec(2),
    call=_pool_call("label_of"),
)
add(
    "active.Pool.from_state_dict",
    A.Pool,
    lambda: {"state": A.Pool(np.arange(N)).state_dict()},
    {"state": obj(bad=(None, 3, {}, {"universe": np.arange(3)}, "abc"))},
    lambda res, kw: None,
    call=lambda state: A.Pool.from_state_dict(state),
)
add(
    "active.GroundTruthOracle",
    A.GroundTruthOracle,
    lambda: {"split": SPLIT(), "sample_ids": np.array([3, 5, 7])},
    {
        "split": obj(bad=(None, 3, "abc")),
        "sample_ids": labels(None, group=None, skip=frozenset({"empty"})),
    },
    vec(3),
    call=lambda split, sample_ids: A.GroundTruthOracle(split)(sample_ids),
)
add(
    "active.NoisyOracle",
    A.NoisyOracle,
    lambda: {
        "split": SPLIT(),
        "rate": 0.3,
        "num_classes": C,
        "seed": 0,
        "sample_ids": np.array([3, 5, 7]),
    },
    {
        "split": obj(bad=(None, 3, "abc")),
        "rate": fraction(),
        "num_classes": integer(bad=(1, 0, -1, 1.5, "2", None)),
        "seed": integer(bad=(-1, 1.5, float("nan"), "2")),
        "sample_ids": labels(None, group=None, skip=frozenset({"empty"})),
    },
    vec(3),
    call=lambda sample_ids, **kw: A.NoisyOracle(**kw)(sample_ids),
)


def _bll(
    method: str, features: Any, targets: Any, test: Any, num_classes: Any = C, **kw: Any
) -> Any:
    b = A.BayesianLastLayer(method, **kw).fit(features, targets, num_classes)
    mean, var = b.predict(test)
    return mean, var, b.predictive_trace(test)


add(
    "active.BayesianLastLayer",
    A.BayesianLastLayer,
    lambda: {
        "method": "analytic",
        "features": F(),
        "targets": Y(),
        "test": F(5, seed=1),
        "num_classes": C,
        "noise_var": 0.1,
        "prior_var": 1.0,
    },
    {
        "method": name(),
        "features": array(2, fixed_trailing=True),
        # (N, K) targets are valid too: no "ndim" for the labels
        "targets": labels(C, skip=frozenset({"ndim"})),
        "test": array(2, group=None, fixed_trailing=True, aliases=("features",)),
        "num_classes": integer(bad=(1, 0, -1, 1.5, "2"), optional=True),
        "noise_var": positive(),
        "prior_var": positive(),
    },
    each(finite),
    call=_bll,
)
add(
    "active.BayesianLastLayer[mfvi]",
    A.BayesianLastLayer,
    lambda: {
        "method": "mfvi",
        "features": F(),
        "targets": np.eye(C)[Y()],
        "test": F(5, seed=1),
        "num_classes": None,
    },
    # (N, K) regression targets: any K
    {
        "features": array(2, fixed_trailing=True),
        "targets": array(2),
        "test": array(2, group=None, fixed_trailing=True, aliases=("features",)),
    },
    each(finite),
    call=_bll,
)


# inputs scored by a learner (labels made up here: no "length"; no samples: no "empty")
_LEARNER_X = array(
    (2, 3, 4, 5),
    fixed_trailing=True,
    group=None,
    aliases=("data", "split"),
    skip=frozenset({"empty"}),
)


def _learner_probs(cls: Any, fit_data: Any, x: Any, **kw: Any) -> Any:
    ln = cls(dnet, **kw)
    ln.fit(Dt.as_split(fit_data), 0)
    y = np.zeros(np.shape(x)[0] if np.ndim(x) else 1, dtype=np.int64)
    return ln.probs(Dt.as_split((x, y)), 0)


add(
    "active.MCDropoutLearner",
    A.MCDropoutLearner,
    lambda: {
        "fit_data": SPLIT(),
        "x": X(6, seed=1),
        "updates": 2,
        "batch_size": 4,
        "mc_samples": 2,
        "lr": 1e-3,
    },
    {
        "fit_data": _DATA,
        "x": _LEARNER_X,
        "updates": integer(),
        "batch_size": _BATCH,
        "mc_samples": integer(),
        "lr": positive(),
    },
    shape(2, 6, C),
    call=lambda **kw: _learner_probs(A.MCDropoutLearner, **kw),
    slow=True,
)
add(
    "active.LastLayerLearner",
    A.LastLayerLearner,
    lambda: {
        "fit_data": SPLIT(),
        "x": X(6, seed=1),
        "method": "analytic",
        "noise_var": 0.1,
        "num_classes": C,
        "updates": 2,
        "batch_size": 4,
    },
    {
        "fit_data": _DATA,
        "x": _LEARNER_X,
        "method": name(),
        "noise_var": positive(),
        "num_classes": integer(bad=(1, 0, -1, 1.5, "2")),
    },
    lambda res, kw: None,
    call=lambda **kw: _learner_probs(A.LastLayerLearner, **kw),
    slow=True,
)


def _loop(**kw: Any) -> Any:
    learner = A.MCDropoutLearner(dnet, updates=2, batch_size=4, mc_samples=2)
    params = dict(acquisition="bald", initial=3, per_step=2, steps=1, pool_subset=None)
    params.update(kw)
    pool, test = params.pop("pool_split", SPLIT(18)), params.pop("test", SPLIT(6, seed=1))
    return A.ActiveLoop(learner, pool, test, **params).run()


add(
    "active.ActiveLoop",
    A.ActiveLoop,
    lambda: {
        "pool_split": SPLIT(18),
        "test": SPLIT(6, seed=1),
        "acquisition": "bald",
        "initial": 3,
        "per_step": 2,
        "steps": 1,
        "batch_mode": "topk",
    },
    {
        "pool_split": obj(bad=(None, 3, "abc")),
        "test": obj(bad=(None, 3, "abc")),
        "acquisition": name(),
        "initial": integer(bad=(0, -1, 1.5, "3", 100)),
        "per_step": integer(),
        "steps": integer(bad=(-1, 1.5, "1")),
        "batch_mode": name(),
    },
    lambda res, kw: None,
    call=_loop,
    slow=True,
)
add(
    "active.RunSpec",
    A.RunSpec,
    lambda: {"label": "bald", "acquisition": "bald", "repeat": 0, "loop_kwargs": {"steps": 1}},
    {
        "acquisition": name(aliases=("acquisition",)),
        "repeat": integer(bad=(-1, 1.5, "1")),
        "loop_kwargs": obj(bad=(None, 3, "abc", {"nope": 1})),
    },
    lambda res, kw: None,
)
add(
    "active.run_grid",
    A.run_grid,
    lambda: {
        "specs": [
            A.RunSpec(
                "bald", "bald", loop_kwargs=dict(initial=3, per_step=2, steps=1, pool_subset=None)
            )
        ],
        "learner_factory": lambda: A.MCDropoutLearner(dnet, updates=2, batch_size=4, mc_samples=2),
        "pool_split": SPLIT(18),
        "test": SPLIT(6, seed=1),
        "progress": False,
        "log": None,
    },
    {
        "specs": obj(bad=([], None, 3, [3], "abc")),
        "learner_factory": obj(bad=(None, 3)),
        "pool_split": _DATA,
        "test": data(C, fixed_trailing=True, group="test"),
    },
    lambda res, kw: None,
    call=lambda **kw: A.run_grid(out=tempfile.mkdtemp(dir=_TMP), **kw),
    slow=True,
)


def _curves() -> Any:
    import pandas as pd

    return pd.DataFrame(
        {
            "label": ["a"] * 4 + ["b"] * 4,
            "repeat": [0, 0, 1, 1] * 2,
            "n_acquired": [10, 20] * 4,
            "accuracy": [0.5, 0.8, 0.6, 0.9, 0.4, 0.5, 0.45, 0.55],
        }
    )


add(
    "active.labels_to_reach",
    A.labels_to_reach,
    lambda: {"curves": _curves(), "error": 0.3, "by": "label", "x": "n_acquired"},
    {
        "curves": obj(bad=(None, 3, "abc")),
        "error": fraction(),
        "by": name(bad=("nope", 3, None)),
        "x": name(bad=("nope", 3, None)),
    },
    lambda res, kw: None,
)
add(
    "active.plot_curves",
    A.plot_curves,
    lambda: {"curves": _curves(), "by": "label", "x": "n_acquired", "y": "accuracy"},
    {
        "curves": obj(bad=(None, 3, "abc")),
        "by": name(bad=("nope", 3, None)),
        "x": name(bad=("nope", 3, None)),
        "y": name(bad=("nope", 3, None)),
    },
    lambda res, kw: None,
    call=lambda **kw: _plot(A.plot_curves, **kw),
)
add(
    "active.load_curves",
    A.load_curves,
    lambda: {"out": _TMP},
    {"out": obj(bad=("/nonexistent/dir", 3, None))},
    lambda res, kw: None,
)
add(
    "active.mc_probs",
    A.mc_probs,
    lambda: {"model": dnet(), "x": X(), "samples": 3, "batch_size": 5, "seed": 0},
    {
        "model": _MODEL,
        "x": _XARR,
        "samples": integer(),
        "batch_size": _BATCH,
        "seed": integer(bad=(-1, 1.5, float("nan"), "2")),
    },
    shape(3, N, C),
)
add(
    "active.deterministic_probs",
    A.deterministic_probs,
    lambda: {"model": net(), "x": X(), "batch_size": 5},
    {"model": _MODEL, "x": _XARR, "batch_size": _BATCH},
    shape(1, N, C),
)

# ---- scoring, executors ---------------------------------------------------------------------------


def _score_rows(x: np.ndarray, y: Any, start: int) -> dict[str, np.ndarray]:
    return {
        "pred": np.zeros(len(x), dtype=np.int64),
        "norm": np.linalg.norm(x.reshape(len(x), -1), axis=1),
    }


add(
    "scoring.stream_scores",
    Sc.stream_scores,
    lambda: {"scorer": _score_rows, "source": X(), "chunk_size": 5, "progress": False},
    {"scorer": obj(bad=(None, 3, "abc")), "source": array((2, 3, 4, 5)), "chunk_size": integer()},
    lambda res, kw: None,
    call=lambda **kw: Sc.stream_scores(out=f"{_TMP}/s.parquet", **kw),
)
add(
    "scoring.stream_scores[out]",
    Sc.stream_scores,
    lambda: {"out": f"{_TMP}/s2.parquet"},
    {"out": obj(bad=(f"{_TMP}/s.txt", 3, None, f"{_TABLE_CSV}/s.parquet"))},  # parent: a file
    lambda res, kw: None,
    call=lambda out: Sc.stream_scores(_score_rows, X(), out, progress=False),
)


def _square(v: int) -> int:
    return v * v


add(
    "executors.run_tasks",
    Ex.run_tasks,
    lambda: {"fn": _square, "tasks": [(1,), (2,), (3,)], "executor": "inprocess"},
    {
        "fn": obj(bad=(None, 3, "abc")),
        "tasks": obj(bad=(None, 3, [1, 2], "abc")),
        "executor": name(bad=("nope", "", 3)),
    },
    lambda res, kw: None,
)


def _exec_ctx(**kw: Any) -> Any:
    with Ex.executor_context(**kw) as ex:
        return ex


add(
    "executors.executor_context",
    Ex.executor_context,
    lambda: {"executor": "inprocess", "workers": 2},
    {
        "executor": name(bad=("nope", "", 3)),
        "workers": integer(bad=(0, -1, 1.5, "2"), optional=True),
    },
    lambda res, kw: None,
    call=_exec_ctx,
)

# ---- registries: register_* (the registry is restored after each call) ---------------------------

import samplescope.active.acquisitions as _acq_reg  # noqa: E402
import samplescope.difficulty.registry as _measure_reg  # noqa: E402
import samplescope.trust.losses as _trust_reg  # noqa: E402
import samplescope.weighting.registry as _weight_reg  # noqa: E402


def _restoring(registries: list[dict[str, Any]], fn: Callable[[], Any]) -> Any:
    saved = [dict(r) for r in registries]
    try:
        return fn()
    finally:
        for r, old in zip(registries, saved, strict=True):
            r.clear()
            r.update(old)


def _reg_measure(name: Any, kind: Any, description: Any = "") -> Any:
    return _restoring(
        [_measure_reg._MEASURES, _measure_reg._ALIASES],
        lambda: Df.register_measure(name, kind, description)(lambda z, y: z[:, 0]),
    )


def _reg_alias(alias: Any, name: Any) -> Any:
    return _restoring(
        [_measure_reg._MEASURES, _measure_reg._ALIASES],
        lambda: Df.register_measure_alias(alias, name),
    )


def _reg_weighting(name: Any, kind: Any, description: Any = "") -> Any:
    return _restoring(
        [_weight_reg._SCHEMES], lambda: W.register_weighting(name, kind, description)(W.identity)
    )


def _reg_acquisition(name: Any, aliases: Any = ()) -> Any:
    return _restoring(
        [_acq_reg._REGISTRY, _acq_reg._ALIASES],
        lambda: A.register_acquisition(name, aliases=aliases)(lambda p, r: p[0, :, 0]),
    )


def _reg_trust_loss(name: Any, description: Any = "") -> Any:
    return _restoring(
        [_trust_reg._LOSSES],
        lambda: T.register_trust_loss(name, description)(T.CrossEntropyTrustLoss),
    )


_NEW = name(bad=("", 3, None, "loss", ["x"]))  # empty, not a string, already registered
add(
    "difficulty.register_measure",
    Df.register_measure,
    lambda: {"name": "fuzz_measure", "kind": "logits", "description": "x"},
    {"name": _NEW, "kind": name(), "description": obj(bad=(None, 3))},
    lambda res, kw: None,
    call=_reg_measure,
)
add(
    "difficulty.register_measure_alias",
    Df.register_measure_alias,
    lambda: {"alias": "fuzz_alias", "name": "loss"},
    {"alias": name(bad=("", 3, None, "loss", "bald")), "name": name()},
    lambda res, kw: None,
    call=_reg_alias,
)
add(
    "weighting.register_weighting",
    W.register_weighting,
    lambda: {"name": "fuzz_scheme", "kind": "static", "description": "x"},
    {
        "name": name(bad=("", 3, None, "hard_first")),
        "kind": name(),
        "description": obj(bad=(None, 3)),
    },
    lambda res, kw: None,
    call=_reg_weighting,
)
add(
    "active.register_acquisition",
    A.register_acquisition,
    lambda: {"name": "fuzz_acq", "aliases": ("fuzz_acq2",)},
    {
        "name": name(bad=("", 3, None, "bald", "random")),
        "aliases": obj(bad=(3, ("bald",), (None,), "ab")),
    },
    lambda res, kw: None,
    call=_reg_acquisition,
)
add(
    "trust.register_trust_loss",
    T.register_trust_loss,
    lambda: {"name": "fuzz_loss", "description": "x"},
    {"name": name(bad=("", 3, None, "ss")), "description": obj(bad=(None, 3))},
    lambda res, kw: None,
    call=_reg_trust_loss,
)

# ---- the functional core: valid inputs only -----------------------------------------------------
# samplescope.functional does NOT validate (DESIGN.md "Validate once, at the public boundary";
# functional/__init__.py: "These functions do not validate their inputs (cleanlab's _compute_*
# style)"): it is the trusted core that every validated wrapper calls once its inputs are
# checked. Its validated counterparts are fuzzed above (uncertainty.entropy/decompose/...,
# difficulty.*_score, active.bald/..., metrics.nll). Here each core function only gets its
# baseline: finite results of the right shape on valid inputs (no corruption families).

for _f, _kw, _check in (
    (Fn.softmax, lambda: {"logits": Z()}, shape(N, C)),
    (Fn.log_softmax, lambda: {"logits": Z()}, shape(N, C)),
    (Fn.entropy, lambda: {"p": P()}, vec(N)),
    (Fn.max_prob, lambda: {"p": P()}, vec(N)),
    (Fn.least_confidence, lambda: {"p": P()}, vec(N)),
    (Fn.prob_margin, lambda: {"p": P()}, vec(N)),
    (Fn.logit_margin, lambda: {"logits": Z(), "labels": Y()}, vec(N)),
    (Fn.label_nll, lambda: {"p": P(), "labels": Y()}, vec(N)),
    (Fn.predictive_entropy, lambda: {"probs": SP()}, vec(N)),
    (Fn.expected_entropy, lambda: {"probs": SP()}, vec(N)),
    (Fn.mutual_information, lambda: {"probs": SP()}, vec(N)),
    (Fn.decompose, lambda: {"probs": SP()}, each(vec(N))),
    (Fn.variation_ratio, lambda: {"probs": SP()}, vec(N)),
    (Fn.mean_std, lambda: {"probs": SP()}, vec(N)),
    (Fn.predictive_variance, lambda: {"probs": SP()}, vec(N)),
):
    add(f"functional.{_f.__name__}", _f, _kw, {}, _check)


# ---- calibration (owned by the calibration work; what this battery found there was fixed there) --

_CAL_ARGS = {"logits": logits(), "labels": labels(C)}


def _ts() -> Any:
    """A cheap temperature scaler (10 L-BFGS iterations: the battery tests inputs, not fits)."""
    return U.TemperatureScaling(max_iter=10)


@functools.cache
def _fitted_ts() -> Any:
    return _ts().fit(Z(), Y())


_FITTED: dict[str, Any] = {}


def _calibrate(name: str, **params: Any) -> Callable[..., Any]:
    def call(logits: Any, labels: Any, test: Any) -> Any:
        c = np.shape(test)[-1] if np.ndim(test) else C
        baseline = (
            isinstance(logits, np.ndarray)
            and isinstance(labels, np.ndarray)
            and logits.shape == (N, 2 if name == "platt" else C)
            and np.array_equal(logits, Z(c=logits.shape[1]))
            and np.array_equal(labels, Y(c=logits.shape[1]))
        )
        if baseline and name in _FITTED:  # corrupted test inputs: fit once, predict many times
            cal = _FITTED[name]
        else:
            cal = U.get_calibrator(name, **params).fit(logits=logits, labels=labels)
            if baseline:
                _FITTED[name] = cal
        del c
        return cal.predict_proba(logits=test)

    return call


for _name, _cls, _params, _c in (
    ("identity", U.IdentityCalibrator, {}, C),
    ("ts", U.TemperatureScaling, {"max_iter": 20}, C),
    ("vector", U.VectorScaling, {"max_iter": 20}, C),
    ("matrix", U.MatrixScaling, {"max_iter": 20}, C),
    ("dirichlet", U.DirichletCalibration, {"max_iter": 20}, C),
    ("ets", U.EnsembleTemperatureScaling, {"max_iter": 20}, C),
    ("platt", U.PlattScaling, {"max_iter": 20}, 2),  # binary only
    ("histogram", U.HistogramBinning, {"n_bins": 4}, C),
    ("isotonic", U.IsotonicCalibration, {}, C),
):
    add(
        f"uncertainty.{_cls.__name__}",
        _cls,
        (lambda c: lambda: {"logits": Z(c=c), "labels": Y(c=c), "test": Z(6, c=c, seed=4)})(_c),
        {"logits": logits(), "labels": labels(_c), "test": logits(group=None, aliases=("logits",))},
        shape(6, _c),
        call=_calibrate(_name, **_params),
    )
for _cls, _params in (
    (
        U.CrossValidatedCalibrator,
        {"candidates": ("identity", U.TemperatureScaling(max_iter=10)), "cv": 2},
    ),
    (U.DirichletCV, {"grid": (0.1,), "cv": 2}),
):
    add(
        f"uncertainty.{_cls.__name__}",
        _cls,
        (lambda p: lambda: {"logits": Z(), "labels": Y(), **p})(_params),
        {**_CAL_ARGS, "cv": integer(bad=(1, 0, -1, 1.5, "2"))},
        shape(N, C),
        call=(
            lambda c: (
                lambda logits, labels, **p: (
                    c(**p).fit(logits=logits, labels=labels).predict_proba(logits=logits)
                )
            )
        )(_cls),
        slow=True,
    )
add(
    "uncertainty.Calibrator",
    U.Calibrator,
    lambda: {},
    {},
    lambda res, kw: None,
    call=lambda: _expect_value_error(lambda: U.IdentityCalibrator().predict_proba(logits=Z())),
)
add(
    "uncertainty.CalibratedModel",
    U.CalibratedModel,
    lambda: {"model": net(), "scaler": copy.deepcopy(_fitted_ts())},
    {"model": _MODEL, "scaler": obj(bad=(None, 3, "ts", U.TemperatureScaling()))},
    lambda res, kw: None,
    call=lambda model, scaler: U.CalibratedModel(model, scaler)(torch.as_tensor(X())),
)
add(
    "uncertainty.get_calibrator",
    U.get_calibrator,
    lambda: {"name": "ts"},
    {"name": name(aliases=("calibrator",))},
    lambda res, kw: None,
)
import samplescope.labels as Lb  # noqa: E402

add(
    "labels.find_label_issues",
    Lb.find_label_issues,
    lambda: {"labels": Y(), "probs": P()},
    # (N, C) or (R, N, C) probabilities (averaged over R) are both valid
    {"labels": labels(C), "probs": Arg("array", ndims=(2, 3), classes=True, simplex=True)},
    lambda res, kw: None,
)
add(
    "uncertainty.fit_calibrator",
    U.fit_calibrator,
    lambda: {"calibrator": _ts(), "logits": Z(), "labels": Y(), "cv": 2},
    {"calibrator": name(), **_CAL_ARGS, "cv": integer(bad=(1, 0, -1, 1.5, "2"), optional=True)},
    lambda res, kw: None,
)
add(
    "uncertainty.cross_val_predict_proba",
    U.cross_val_predict_proba,
    lambda: {"calibrator": _ts(), "logits": Z(), "labels": Y(), "cv": 2},
    {"calibrator": name(), **_CAL_ARGS, "cv": integer(bad=(1, 0, -1, 1.5, "2", 13))},
    shape(N, C),
)
add(
    "uncertainty.cross_val_nll",
    U.cross_val_nll,
    lambda: {"calibrator": _ts(), "logits": Z(), "labels": Y(), "cv": 2},
    {"calibrator": name(), **_CAL_ARGS, "cv": integer(bad=(1, 0, -1, 1.5, "2", 13))},
    lambda res, kw: None,
)
add(
    "uncertainty.select_calibrator",
    U.select_calibrator,
    lambda: {"calibrators": ["identity", _ts()], "logits": Z(), "labels": Y(), "cv": 2},
    {
        "calibrators": obj(bad=([], ["nope"], None, 3, "ts")),
        **_CAL_ARGS,
        "cv": integer(bad=(1, 0, -1, 1.5, "2")),
    },
    lambda res, kw: None,
)
add(
    "uncertainty.compare_calibrators",
    U.compare_calibrators,
    lambda: {
        "methods": ["identity", _ts()],
        "val_logits": Z(),
        "val_labels": Y(),
        "test_logits": Z(10, seed=5),
        "test_labels": Y(10),
        "n_boot": 5,
    },
    {
        "methods": obj(bad=([], ["nope"], None, 3)),
        "val_logits": logits(group="val"),
        "val_labels": labels(C, group="val"),
        "test_logits": logits(group="test"),
        "test_labels": labels(C, group="test"),
        "n_boot": integer(),
    },
    lambda res, kw: None,
)
add(
    "uncertainty.format_calibration_table",
    U.format_calibration_table,
    lambda: {
        "rows": U.compare_calibrators(
            ["identity"],
            val_logits=Z(),
            val_labels=Y(),
            test_logits=Z(10, seed=5),
            test_labels=Y(10),
            n_boot=5,
        )
    },
    {"rows": obj(bad=(None, 3, [1, 2], [{"nope": 1}]))},
    lambda res, kw: None,
)
add(
    "uncertainty.register_calibrator",
    U.register_calibrator,
    lambda: {"name": "fuzz_cal"},
    {"name": name(bad=("", 3, None, "ts"))},
    lambda res, kw: None,
    call=lambda name: _restoring(
        _cal_registries(), lambda: U.register_calibrator(name, U.IdentityCalibrator)
    ),
)


def _cal_registries() -> list[dict[str, Any]]:
    import samplescope.uncertainty.calibrators.registry as r

    return [v for v in vars(r).values() if isinstance(v, dict) and v is not r.__dict__]


add(
    "metrics.smooth_ece",
    M.smooth_ece,
    lambda: {"probs": P(), "labels": Y(), "sigma": 0.1},
    {"probs": probs(), "labels": labels(C), "sigma": positive(optional=True)},
    scalar,
)
add(
    "metrics.smooth_ece_binary",
    M.smooth_ece_binary,
    lambda: {"scores": _rng(1).uniform(size=N), "outcomes": B(), "sigma": 0.1},
    {"scores": array(1), "outcomes": binary(), "sigma": positive(optional=True)},
    scalar,
)
add(
    "metrics.smooth_reliability_curve",
    M.smooth_reliability_curve,
    lambda: {"probs": P(), "labels": Y(), "n_points": 11, "n_boot": 5},
    # n_boot=0: no band (documented)
    {
        "probs": probs(),
        "labels": labels(C),
        "n_points": integer(),
        "n_boot": integer(bad=(-1, 1.5, float("nan"), "2")),
    },
    lambda res, kw: None,
)
add(
    "metrics.bootstrap_ci",
    M.bootstrap_ci,
    lambda: {"metric_fn": M.brier, "probs": P(), "labels": Y(), "n_boot": 5},
    {
        "metric_fn": obj(bad=(None, 3, "brier")),
        "probs": probs(),
        "labels": labels(C),
        "n_boot": integer(),
        "ci": fraction(bad=(0.0, 1.0, -0.1, float("nan"), "x")),
    },
    lambda res, kw: None,
)
add(
    "metrics.calibration_report",
    M.calibration_report,
    lambda: {"probs": P(), "labels": Y(), "n_boot": 5, "n_bins": 4, "measures": ["brier", "ece"]},
    {
        "probs": probs(),
        "labels": labels(C),
        "n_boot": integer(),
        "n_bins": integer(),
        "measures": obj(bad=(["nope"], "ece", 3), optional=True),
    },
    lambda res, kw: None,
)


# ---- labels: the count estimators, LabelIssues, training-based entry points -------------------

_LP = {"labels": labels(C), "probs": probs()}
_NC = integer(bad=(1, 0, -1, 1.5, "3"), optional=True)

add(
    "labels.noise_transition",
    Lb.noise_transition,
    lambda: {"probs": P()},
    {"probs": probs()},
    shape(C, C),
)
add(
    "labels.error_posterior",
    Lb.error_posterior,
    lambda: {"labels": Y(), "probs": P(), "T": Lb.noise_transition(P(seed=1))},
    {
        **_LP,
        # T is (C, C), not per sample: no "length"
        "T": Arg("array", ndims=(2,), classes=True, simplex=True, group=None, optional=True),
    },
    vec(N),
)
add(
    "labels.count_posterior",
    Lb.count_posterior,
    lambda: {"labels": Y(), "probs": P(), "num_classes": C},
    {**_LP, "num_classes": _NC},
    vec(C),
)
add(
    "labels.confident_joint",
    Lb.confident_joint,
    lambda: {"labels": Y(), "probs": P()},
    _LP,
    shape(C, C),
)
add(
    "labels.count_confident_joint",
    Lb.count_confident_joint,
    lambda: {"labels": Y(), "probs": P(), "num_classes": C},
    {**_LP, "num_classes": _NC},
    vec(C),
)
for _f, _chk in ((Lb.mixture_posterior, vec(30)), (Lb.count_mixture, vec(C))):
    add(
        f"labels.{_f.__name__}",
        _f,
        lambda: {"labels": Y(30), "scores": V(30), "num_classes": C},
        {
            "labels": labels(C),
            "scores": array(1),
            "num_classes": integer(bad=(1, 0, -1, 1.5, "3", None)),
        },
        _chk,
    )


def _issues() -> Any:
    return Lb.find_label_issues(Y(), probs=P())


add(
    "labels.LabelIssues.to_table",
    Lb.LabelIssues,
    lambda: {
        "sample_id": np.arange(N) + 3,
        "true_labels": Y()[::-1].copy(),
        "class_names": ["a", "b", "c"],
    },
    {
        # the table's length is the result's (N): a shorter column is a mismatch
        "sample_id": labels(None, optional=True),
        "true_labels": labels(None, optional=True, aliases=("true_label",)),
        "class_names": obj(bad=(["a"], 3, ["a", "b", "c", "d"])),
    },
    lambda res, kw: None,
    call=lambda **kw: _issues().to_table(**kw),
)
add(
    "labels.LabelIssues.summary",
    Lb.LabelIssues,
    lambda: {"class_names": ["a", "b", "c"]},
    {"class_names": obj(bad=(["a"], 3, ["a", "b", "c", "d"]), optional=True)},
    lambda res, kw: None,
    call=lambda **kw: _issues().summary(**kw),
)
add(
    "labels.LabelIssues.ranked",
    Lb.LabelIssues,
    lambda: {},
    {},
    lambda res, kw: None,
    call=lambda: _issues().ranked(),
)

_LDATA = data(C)  # the default model is built from the data's shape: no fixed trailing axis
_LTRAIN = {
    "data": _LDATA,
    "num_classes": integer(bad=(2, 1, 0, 1.5, "3"), optional=True),
    "count": name(),
    "epochs": _EPOCHS,
    "batch_size": _BATCH,
    "lr": positive(),
}
add(
    "labels.label_issues_from_data",
    Lb.label_issues_from_data,
    lambda: {
        "data": SPLIT(),
        "num_classes": C,
        "folds": 2,
        "repeats": 1,
        "epochs": 1,
        "batch_size": 6,
        "lr": 1e-2,
        "count": "auto",
        "rank_by": "auto",
        "model_kind": "mlp",
    },
    {
        **_LTRAIN,
        "folds": integer(bad=(1, 0, -1, 1.5, "2", 13)),
        "repeats": integer(),
        "rank_by": name(),
        "model_kind": name(optional=True, aliases=("model",)),
    },
    lambda res, kw: (
        shape(N, C)(res.issues.probs, kw),
        shape(1, N, C)(res.oof_logits, kw),
        vec(N)(res.issues.label_quality, kw),
    ),
    slow=True,
)
add(
    "labels.label_issues_one_run",
    Lb.label_issues_one_run,
    lambda: {
        "data": SPLIT(),
        "num_classes": C,
        "epochs": 1,
        "batch_size": 6,
        "lr": 1e-2,
        "count": "auto",
        "rank_by": "margin",
    },
    {**_LTRAIN, "rank_by": name(bad=("nope", "", 3, None, "gen_error"))},
    lambda res, kw: vec(N)(res.label_quality, kw),
    slow=True,
)

# ---- models: specs, saving and loading, surgery ------------------------------------------------

add(
    "models.resolve_kind",
    Md.resolve_kind,
    lambda: {"kind": "auto", "input_shape": (1, 8, 8)},
    {
        "kind": name(bad=("nope", "", 3, "MLP"), optional=True, aliases=("model",)),
        "input_shape": obj(bad=((), (0,), (-1,), (1.5,), "abc", None, 3)),
    },
    lambda res, kw: None,
)
add(
    "models.model_spec",
    Md.model_spec,
    lambda: {"kind": "mlp", "input_shape": (1, 8, 8), "num_classes": C, "options": {"hidden": [4]}},
    {
        "kind": name(bad=("nope", "", 3), optional=True, aliases=("model",)),
        "input_shape": obj(bad=((), (0,), (-1,), (1.5,), "abc", None, 3)),
        "num_classes": integer(bad=(1, 0, -1, 1.5, 2.5, "2", None)),
        "options": obj(
            bad=(
                {"nope": 1},
                {"depth": 8},
                {"hidden": "abc"},
                {"hidden": [0]},
                {"hidden": [1.5]},
                {"dropout": 1.0},
                {"dropout": float("nan")},
                {"dropout": "x"},
            )
        ),
    },
    lambda res, kw: None,
    call=lambda options, **kw: Md.model_spec(**kw, **options),
)


def _spec(**over: Any) -> dict[str, Any]:
    s = {"kind": "mlp", "input_shape": [DX], "num_classes": C, "options": {"hidden": [8]}}
    s.update(over)
    return s


_BAD_SPECS = (
    None,
    3,
    "abc",
    {},
    {"kind": "mlp"},
    _spec(kind="nope"),
    _spec(kind=3),
    _spec(kind="cnn"),  # a conv net on 1-D inputs
    _spec(input_shape="abc"),
    _spec(input_shape=[0]),
    _spec(input_shape=3),
    _spec(num_classes=1),
    _spec(num_classes=1.5),
    _spec(num_classes="3"),
    _spec(options=3),
    _spec(options={"nope": 1}),
    _spec(options={"hidden": "abc"}),
    _spec(kind="resnet", input_shape=[3, 8, 8], options={"depth": 9}),
)
add(
    "models.build_model",
    Md.build_model,
    lambda: {"spec": _spec()},
    {"spec": obj(bad=_BAD_SPECS)},
    lambda res, kw: assert_finite(res(torch.zeros(2, DX))),
)


def _model_files() -> tuple[str, ...]:
    """Files load_model must refuse: text, a bare state dict, wrong / broken payloads."""
    d = f"{_TMP}/models"
    import os

    os.makedirs(d, exist_ok=True)
    with open(f"{d}/text.pt", "w") as fh:
        fh.write("not a torch file\n")
    torch.save(net().state_dict(), f"{d}/bare.pt")
    torch.save([1, 2, 3], f"{d}/list.pt")
    torch.save({"format": Md.MODEL_FORMAT}, f"{d}/nospec.pt")
    torch.save({"format": Md.MODEL_FORMAT, "spec": "{not json", "state_dict": {}}, f"{d}/json.pt")
    torch.save({"format": Md.MODEL_FORMAT, "spec": "[1, 2]", "state_dict": {}}, f"{d}/list_spec.pt")
    import json

    good = json.dumps(_spec())
    torch.save({"format": Md.MODEL_FORMAT, "spec": good, "state_dict": 3}, f"{d}/sd3.pt")
    torch.save(
        {"format": Md.MODEL_FORMAT, "spec": good, "state_dict": net(c=C + 1).state_dict()},
        f"{d}/mismatch.pt",
    )
    Md.save_model(net(), f"{d}/good.pt", _spec())
    names = ("text", "bare", "list", "nospec", "json", "list_spec", "sd3", "mismatch")
    return tuple(f"{d}/{n}.pt" for n in names) + (f"{d}/missing.pt", d)


_MODEL_FILES = _model_files()
add(
    "models.load_model",
    Md.load_model,
    lambda: {"path": f"{_TMP}/models/good.pt"},
    {"path": obj(bad=(*_MODEL_FILES, 3, None), aliases=("model_path",))},
    lambda res, kw: assert_finite(res[0](torch.zeros(2, DX))),
)
add(
    "models.save_model",
    Md.save_model,
    lambda: {"model": net(), "path": f"{_TMP}/models/saved.pt", "spec": _spec()},
    {
        "model": obj(bad=(None, 3, "abc", net(c=C + 1), nn.Linear(DX, C))),
        "path": obj(bad=(f"{_TMP}/no/such/folder/m.pt", 3, None)),
        "spec": obj(bad=_BAD_SPECS + (_spec(options={"hidden": [16]}),)),
    },
    lambda res, kw: None,
)
for _f, _bad in (
    (Md.split_head, (nn.Sequential(), nn.Linear(2, 2), nn.Sequential(nn.Linear(2, 2), nn.ReLU()))),
    (Md.split_at_first_dropout, (nn.Sequential(), nn.Linear(2, 2), net())),
    (Md.has_dropout, ()),  # any module, even an empty Sequential, has an answer
):
    add(
        f"models.{_f.__name__}",
        _f,
        lambda: {"model": net(dropout=0.5)},
        {"model": obj(bad=(None, 3, "abc", *_bad))},
        lambda res, kw: None,
    )

# ---- auditing --------------------------------------------------------------------------------

import samplescope.auditing as Au  # noqa: E402

add(
    "auditing.load_audit_data",
    Au.load_audit_data,
    lambda: {"data": "digits", "noise": 0.1, "train_subset": 50, "noise_kind": "symmetric"},
    {
        "data": obj(bad=("nope", "", 3, None, "/nonexistent/x.csv", f"{_TMP}/models/text.pt")),
        "noise": fraction(bad=(-0.1, 1.0, 1.5, float("nan"), "x")),
        "train_subset": integer(bad=(0, -1, 1.5, "2"), optional=True),
        "noise_kind": name(bad=("nope", "", 3, None)),
    },
    lambda res, kw: assert_finite(res.split.x),
)
add(
    "auditing.load_audit_data[file]",
    Au.load_audit_data,
    lambda: {"data": _USER_CSV, "label": "label", "noise": 0.0},
    # noise / subsets are for the built-in data sets only
    {
        "label": name(bad=("nope", 3), optional=True),
        "noise": fraction(bad=(0.1, -0.1, 1.5, float("nan"), "x")),
        "train_subset": integer(bad=(5, 0, -1, 1.5, "2"), optional=True),
    },
    lambda res, kw: assert_finite(res.split.x),
)

add(
    "auditing.load_audit_data[split]",
    Au.load_audit_data,
    lambda: {"data": SPLIT(), "noise": 0.0},
    {
        "noise": fraction(bad=(0.1, -0.1, 1.5, float("nan"), "x")),
        "train_subset": integer(bad=(5, 0, -1, 1.5, "2"), optional=True),
    },
    lambda res, kw: assert_finite(res.split.x),
)
add(
    "auditing.audit",
    Au.audit,
    # a tiny split and one epoch (~3 s); every corruption must be refused before any training
    lambda: {"data": SPLIT(24), "epochs": 1, "progress": False},
    {
        "data": obj(bad=(None, 3, "nope", "/nonexistent/x.csv"), aliases=("source",)),
        "model": name(bad=("nope", "", 3, f"{_TMP}/models/text.pt", f"{_TMP}/models/missing.pt")),
        "gen_error": name(),
        "uncertainty": name(),
        "samples": integer(bad=(0, -1, 1.5, float("nan"), "2", None)),
        "epochs": integer(bad=(0, -1, 1.5, float("nan"), "2"), optional=True),
        "noise": fraction(bad=(0.1, -0.1, 1.5, float("nan"), "x")),
        "noise_kind": name(),
    },
    lambda res, kw: None,
    slow=True,
)


# =============================================================================================
# The battery
# =============================================================================================

#: public names the battery does not call, with the reason: no input to corrupt
SKIP: dict[str, str] = {
    # sub-packages re-exported at the top level: fuzzed through their own __all__
    "samplescope.metrics": "module; samplescope.metrics.__all__ is fuzzed name by name",
    "samplescope.list_calibrators": "lists registry names; takes only a boolean",
    # registries listing names (no input, or only a boolean/kind filter fuzzed elsewhere)
    "samplescope.list_acquisitions": "lists registry names; takes only booleans",
    "samplescope.active.list_acquisitions": "lists registry names; takes only booleans",
    "samplescope.list_trust_losses": "lists registry names; no arguments",
    "samplescope.trust.list_trust_losses": "lists registry names; no arguments",
    "samplescope.difficulty.measure_aliases": "returns the alias table; no arguments",
    "samplescope.active.acquisition_aliases": "returns the alias table; no arguments",
    # constants
    "samplescope.difficulty.DYNAMICS_COLUMNS": "constant tuple of column names",
    "samplescope.difficulty.GEN_ERROR_COLUMNS": "constant tuple of column names",
    "samplescope.difficulty.GRAD_NORM_METHODS": "constant tuple of method names",
    "samplescope.difficulty.MEASURE_KINDS": "constant tuple of kind names",
    "samplescope.weighting.WEIGHTING_KINDS": "constant tuple of kind names",
    "samplescope.trust.BASELINES": "constant tuple of baseline names",
    "samplescope.trust.HEADS": "constant tuple of head names",
    "samplescope.trust.METRIC_COLUMNS": "constant table layout",
    "samplescope.uncertainty.METHODS": "constant tuple of method names",
    "samplescope.uncertainty.COMPARE_MEASURES": "constant tuple of measure names",
    "samplescope.metrics.REPORT_MEASURES": "constant tuple of measure names",
    "samplescope.uncertainty.list_calibrators": "lists registry names; takes only a boolean",
    "samplescope.data.ASYMMETRIC_MAPS": "constant dict of noise maps",
    "samplescope.data.DATA_ENV": "constant: the environment variable name",
    "samplescope.data.NOISE_KINDS": "constant tuple of kind names",
    "samplescope.io.RESERVED_COLUMNS": "constant tuple of column names",
    "samplescope.labels.COUNT_METHODS": "constant tuple of estimator names",
    "samplescope.labels.LABEL_ISSUE_COLUMNS": "constant tuple of column names",
    "samplescope.labels.RANK_BY": "constant tuple of ranking names",
    "samplescope.models.MODEL_FORMAT": "constant: the model file format tag",
    "samplescope.models.MODEL_KINDS": "constant tuple of architecture names",
    "samplescope.auditing.AUDIT_MEASURES": "constant tuple of measure names",
    # base classes / protocols with no behaviour of their own to fuzz
    "samplescope.Callback": "base class of no-op training hooks; callbacks are fuzzed via fit",
    "samplescope.active.LabelOracle": "typing Protocol (no implementation)",
    "samplescope.trust.TrustLoss": "abstract base (its __call__ raises NotImplementedError)",
    # result records built by the library from validated inputs (dataclasses, no checks to fuzz)
    "samplescope.difficulty.DifficultyResult": "result record returned by compute_measures",
    "samplescope.difficulty.GenErrorResult": "result record returned by generalization_error",
    "samplescope.difficulty.Measure": "registry record; built by register_measure (fuzzed)",
    "samplescope.weighting.WeightingSpec": "registry record; built by register_weighting (fuzzed)",
    "samplescope.weighting.HardFirstWeights": "result record of hard_first_weights (fuzzed)",
    "samplescope.weighting.WeightContext": "context handed to custom transform functions, built "
    "by Transform.__call__ from validated inputs",
    "samplescope.trust.MethodResult": "result record of evaluate_methods (fuzzed)",
    "samplescope.data.DatasetInfo": "metadata record returned by list_datasets",
    "samplescope.labels.CrossFitLabelIssues": "result record returned by "
    "label_issues_from_data (fuzzed); its .issues is a LabelIssues (methods fuzzed)",
    "samplescope.auditing.AuditData": "result record returned by load_audit_data (fuzzed)",
    "samplescope.auditing.AuditResult": "result record returned by audit",
    "samplescope.data.UserData": "result record returned by read_data (fuzzed)",
    "samplescope.data.USER_DATA_KINDS": "constant tuple of kind names",
    "samplescope.data.list_datasets": "lists the built-in data sets; no arguments",
    # atomic file helpers: paths and objects, no arrays (covered by the io tests)
    "samplescope.io.atomic_path": "context manager over a path; no array input",
    "samplescope.io.atomic_torch_save": "writes any object to a path; no array input",
    "samplescope.io.atomic_write_json": "writes any JSON object to a path; no array input",
    "samplescope.io.atomic_write_text": "writes a string to a path; no array input",
}

#: per-area case files (``tests/fuzz/cases_<area>.py``): each imports ``add`` and the valid
#: inputs from this module, registers its cases on import and may define its own ``SKIP``
for _path in sorted(__import__("pathlib").Path(__file__).parent.glob("cases_*.py")):
    _mod = importlib.import_module(f"{__package__}.{_path.stem}")
    SKIP.update(getattr(_mod, "SKIP", {}))

_PROFILE = settings.default.max_examples  # 15 (default profile) or 200 (slow)
#: examples per case, each one corruption per family: half the profile's count (7 by default,
#: 100 under slow), i.e. 7 corruptions of every family of every case on every run
_FAST_EXAMPLES = max(5, _PROFILE // 2)
#: training-based cases (slow=True): fewer examples (3 by default, 40 under slow)
_TRAIN_EXAMPLES = max(2, _PROFILE // 5)
_HEALTH = [HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large]


def _params(slow: bool) -> list[Any]:
    """One test per case; every example of it draws one corruption of every family."""
    return [
        pytest.param(cid, id=cid)
        for cid, case in CASES.items()
        if case.slow == slow and case.families()
    ]


def _named(msg: str, names: tuple[str, ...]) -> bool:
    return any(re.search(rf"(?<![A-Za-z0-9_]){re.escape(n)}(?![A-Za-z0-9_])", msg) for n in names)


def _run(case: Case, kwargs: dict[str, Any]) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return case.call(**kwargs)


def _check_all_families(cid: str, draw: Any) -> None:
    for family in CASES[cid].families():
        _check_rejected(cid, family, draw)


def _check_rejected(cid: str, family: str, draw: Any) -> None:
    case = CASES[cid]
    c = draw(corruption(case, family), label=family)
    EXAMPLES[cid] += 1
    try:
        res = _run(case, c.kwargs)
    except ValueError as exc:
        assert _named(str(exc), c.names), (
            f"{cid}: {c!r} raised a ValueError that names none of {c.names}: {exc}"
        )
    except TypeError as exc:
        assert family in TYPE_FAMILIES, f"{cid}: {c!r} raised TypeError: {exc}"
    else:
        pytest.fail(f"{cid}: accepted {c!r} and returned {type(res).__name__}: {res!r:.300}")


@pytest.mark.parametrize("cid", list(CASES))
def test_baseline_call_is_valid(cid: str) -> None:
    case = CASES[cid]
    kw = case.make()
    EXAMPLES[cid] += 1
    res = _run(case, kw)
    case.check(res, kw)


@pytest.mark.parametrize("cid", _params(slow=False))
@settings(deadline=None, suppress_health_check=_HEALTH, max_examples=_FAST_EXAMPLES)
@given(st.data())
def test_corrupted_input_is_rejected(cid: str, data: st.DataObject) -> None:
    """Each example corrupts the baseline once per family (nonfinite, ndim, ...): every
    family of every case runs every time, with its own drawn argument, position and value."""
    _check_all_families(cid, data.draw)


@pytest.mark.parametrize("cid", _params(slow=True))
@settings(deadline=None, suppress_health_check=_HEALTH, max_examples=_TRAIN_EXAMPLES)
@given(st.data())
def test_corrupted_input_is_rejected_training(cid: str, data: st.DataObject) -> None:
    """The training-based cases: fewer examples (the full count under ``-m slow`` below)."""
    _check_all_families(cid, data.draw)


@pytest.mark.slow
@pytest.mark.parametrize("cid", _params(slow=True))
@settings(deadline=None, suppress_health_check=_HEALTH, max_examples=_FAST_EXAMPLES)
@given(st.data())
def test_corrupted_input_is_rejected_training_full(cid: str, data: st.DataObject) -> None:
    """The training-based cases with as many examples as the fast ones (``-m slow``)."""
    _check_all_families(cid, data.draw)


def test_every_public_name_is_covered() -> None:
    covered = {id(t) for t in TARGETS.values()}
    missing = []
    for modname in PUBLIC_MODULES:
        mod = importlib.import_module(modname)
        for n in mod.__all__:
            q = f"{modname}.{n}"
            if q in SKIP or id(getattr(mod, n)) in covered:
                continue
            missing.append(q)
    assert not missing, f"public names without a fuzz case or a SKIP entry: {missing}"
