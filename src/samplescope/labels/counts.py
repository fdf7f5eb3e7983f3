"""How many labels of each class are wrong: three count estimators (the ``count=`` choices).

All take the given labels ``ỹ`` ``(N,)`` in ``[0, C)``; ``probs`` are ``(N, C)`` (out-of-fold
or in-sample) probabilities of a model trained on those labels, i.e. estimates of the
*noisy* posterior ``p̃(ỹ = j | x)``. They return per-class estimated issue counts ``(C,)``
(floats: expected counts; :func:`samplescope.labels.find_label_issues` rounds them).

- ``"posterior"`` (:func:`count_posterior`, the default, chosen by measurement on the digits
  set, ``benchmarks/label_issues.py``): the class-conditional noise transition
  ``T[i, j] = P(ỹ = j | y* = i)`` is estimated from the model itself — row ``i`` is the mean
  noisy posterior of the samples the model assigns to class ``i`` (an anchor-point estimate
  in the sense of Patrini et al. 2017, averaged over the whole predicted class instead of its
  most extreme points, which are over-confident); the clean posterior is recovered as
  ``p* = T^{-T} p̃`` (projected onto the simplex); and Bayes' rule gives, per sample, the
  probability that its given label is wrong,
  ``q_n = 1 - p*_{ỹ}(x_n) T[ỹ, ỹ] / Σ_i p*_i(x_n) T[i, ỹ]`` (:func:`error_posterior`).
  The count of class ``c`` is ``Σ_{n: ỹ_n = c} q_n``.
- ``"confident_joint"`` (:func:`confident_joint`, Northcutt, Jiang & Chuang, JAIR 2021,
  eq. 1-2): per-class thresholds ``t_j = mean_{n: ỹ_n = j} p̃_j(x_n)`` (mean self-confidence);
  a sample counts into ``C[ỹ, j]`` for ``j = argmax`` over its confident classes
  ``{j: p̃_j ≥ t_j}`` (none: not counted); the joint is calibrated so that row ``c`` sums to the
  given count ``n_c`` and the whole to ``N``; the count of class ``c`` is ``n_c - C[c, c]``.
- ``"mixture"`` (:func:`count_mixture`): per class, a two-component 1-D Gaussian mixture on a
  per-class score (any difficulty measure, higher = more likely wrong), kept only when BIC
  prefers two components to one; the count is the summed responsibility of the high
  component. The only estimator that needs no probabilities.

Measured (``benchmarks/results/label_issues.json``): the posterior count is within 10% of
the true number of flipped labels where the model separates the classes well (MNIST) and
over-counts where the classes themselves overlap (Fashion-MNIST shirts / T-shirts / coats:
clean but ambiguous samples look like label errors to every estimator); the confident joint
over-counts more and the mixture much more (the clean-score distribution has a heavy tail).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import (
    check_array,
    check_labels,
    check_num_classes,
    check_probs,
    check_scores,
    check_simplex,
)

__all__ = [
    "COUNT_METHODS",
    "confident_joint",
    "count_confident_joint",
    "count_mixture",
    "count_posterior",
    "error_posterior",
    "mixture_posterior",
    "noise_transition",
]

COUNT_METHODS = ("posterior", "confident_joint", "mixture")


# --------------------------------------------------------------------------------------------
# Transition matrix and per-sample error posterior
# --------------------------------------------------------------------------------------------


def _noise_transition(probs: np.ndarray) -> np.ndarray:
    """Estimated noise transition ``T`` ``(C, C)``, ``T[i, j] ≈ P(ỹ = j | y* = i)``.

    Row ``i`` is the mean of ``probs`` over the samples whose argmax is ``i`` (an
    anchor-point estimate over the whole predicted class); a class the model never predicts
    gets the identity row. Rows sum to 1. Inputs are trusted (validated by the caller).
    """
    C = probs.shape[1]
    pred = probs.argmax(axis=1)
    T = np.eye(C)
    for i in range(C):
        m = pred == i
        if m.any():
            T[i] = probs[m].mean(axis=0)
    return T / T.sum(axis=1, keepdims=True)


def _clean_posterior(probs: np.ndarray, T: np.ndarray) -> np.ndarray:
    """``p* = T^{-T} p̃`` per row (least squares), clipped at 0 and renormalised ``(N, C)``."""
    P = np.linalg.lstsq(T.T, probs.T, rcond=None)[0].T
    P = np.clip(P, 0.0, None)
    s = P.sum(axis=1, keepdims=True)
    return np.where(s > 0, P / np.where(s > 0, s, 1.0), probs)


def _error_posterior(
    labels: np.ndarray, probs: np.ndarray, T: np.ndarray | None = None
) -> np.ndarray:
    """Per-sample probability that the given label is wrong ``(N,)`` in [0, 1].

    ``q_n = 1 - p*_{ỹ}(x_n) T[ỹ_n, ỹ_n] / Σ_i p*_i(x_n) T[i, ỹ_n]`` with ``p*`` from
    :func:`clean_posterior` and ``T`` from :func:`noise_transition` unless given.
    """
    if T is None:
        T = _noise_transition(probs)
    P = _clean_posterior(probs, T)
    num = P * T[:, labels].T  # (N, C): p*_i(x_n) T[i, ỹ_n]
    den = num.sum(axis=1)
    rows = np.arange(len(labels))
    keep = np.where(den > 0, num[rows, labels] / np.where(den > 0, den, 1.0), 1.0)
    return np.clip(1.0 - keep, 0.0, 1.0)


def _count_posterior(labels: np.ndarray, probs: np.ndarray, num_classes: int) -> np.ndarray:
    """Expected issues per class ``(C,)``: the summed :func:`error_posterior` of each class."""
    return np.bincount(labels, weights=_error_posterior(labels, probs), minlength=num_classes)


# --------------------------------------------------------------------------------------------
# Confident joint (Northcutt et al. 2021)
# --------------------------------------------------------------------------------------------


def _confident_joint(
    labels: np.ndarray, probs: np.ndarray, *, calibrate: bool = True
) -> np.ndarray:
    """The confident joint ``C[ỹ, y*]`` ``(C, C)`` of Northcutt et al. (2021), eq. 1-2.

    Thresholds ``t_j`` = mean ``p̃_j`` over the samples labelled ``j`` (a class without
    samples gets ``t_j = 2``: nothing counts into it). A sample counts into row ``ỹ``, column
    ``argmax_{j: p̃_j ≥ t_j} p̃_j`` (the paper's rule; cleanlab takes the overall argmax when
    two or more classes pass). The diagonal is at least 1 (as cleanlab). With ``calibrate``,
    rows are rescaled to the given class counts and the whole to ``N`` (eq. 2).
    """
    C = probs.shape[1]
    n = np.bincount(labels, minlength=C).astype(np.float64)
    sums = np.bincount(labels, weights=probs[np.arange(len(labels)), labels], minlength=C)
    t = np.where(n > 0, sums / np.maximum(n, 1), 2.0)
    confident = probs >= t - 1e-6
    counted = confident.any(axis=1)
    guess = np.where(confident, probs, -1.0).argmax(axis=1)
    J = np.zeros((C, C))
    np.add.at(J, (labels[counted], guess[counted]), 1.0)
    np.fill_diagonal(J, np.maximum(J.diagonal(), 1.0))
    if not calibrate:
        return J
    J = J / J.sum(axis=1, keepdims=True) * n[:, None]
    return J / max(J.sum(), 1e-12) * n.sum()


def _count_confident_joint(labels: np.ndarray, probs: np.ndarray, num_classes: int) -> np.ndarray:
    """Issues per class ``(C,)``: ``n_c - C[c, c]`` of the calibrated :func:`confident_joint`."""
    J = _confident_joint(labels, probs)
    n = np.bincount(labels, minlength=num_classes).astype(np.float64)
    return np.clip(n - J.diagonal(), 0.0, None)


# --------------------------------------------------------------------------------------------
# Two-component mixture on a per-class score
# --------------------------------------------------------------------------------------------


def _gauss_loglik(s: np.ndarray, mu: float, var: float) -> np.ndarray:
    return -0.5 * ((s - mu) ** 2 / var + np.log(2 * np.pi * var))


def _em_two(s: np.ndarray, iters: int = 200, tol: float = 1e-8) -> tuple[np.ndarray, float]:
    """EM for a 1-D two-Gaussian mixture; ``(responsibility of the higher-mean component, BIC gain)``.

    Deterministic initialisation (the lower and upper quartile split). ``BIC gain`` =
    ``BIC(1 component) - BIC(2 components)`` (> 0: two components fit better).
    """
    n = len(s)
    v0 = max(float(s.var()), 1e-12)
    ll1 = float(_gauss_loglik(s, float(s.mean()), v0).sum())
    lo, hi = np.quantile(s, [0.25, 0.9])
    if hi - lo <= 1e-12 * max(1.0, abs(hi)):
        return np.zeros(n), -np.inf
    mu = np.array([lo, hi], dtype=np.float64)
    var = np.full(2, v0 / 4 + 1e-12)
    w = np.array([0.8, 0.2])
    floor = 1e-6 * v0 + 1e-12
    prev = -np.inf
    for _ in range(iters):
        a = np.log(w[0]) + _gauss_loglik(s, mu[0], var[0])
        b = np.log(w[1]) + _gauss_loglik(s, mu[1], var[1])
        m = np.maximum(a, b)
        tot = m + np.log(np.exp(a - m) + np.exp(b - m))
        r = np.exp(b - tot)
        ll = float(tot.sum())
        nk = np.array([n - r.sum(), r.sum()])
        if nk.min() < 1e-6:
            return np.zeros(n), -np.inf
        w = nk / n
        mu = np.array([((1 - r) * s).sum() / nk[0], (r * s).sum() / nk[1]])
        var = np.array(
            [((1 - r) * (s - mu[0]) ** 2).sum() / nk[0], (r * (s - mu[1]) ** 2).sum() / nk[1]]
        )
        var = np.maximum(var, floor)
        if abs(ll - prev) < tol * max(1.0, abs(ll)):
            break
        prev = ll
    if mu[1] < mu[0]:
        r = 1.0 - r
    bic1 = 2 * np.log(n) - 2 * ll1  # BIC = k log n - 2 log-likelihood
    bic2 = 5 * np.log(n) - 2 * ll
    return r, float(bic1 - bic2)


def _mixture_posterior(labels: np.ndarray, scores: np.ndarray, num_classes: int) -> np.ndarray:
    """Per-sample responsibility of the high-score component ``(N,)`` in [0, 1], per class.

    A class keeps zeros unless it has at least 10 samples and BIC prefers two components to
    one. The high component is the label-issue one and may not hold more than half of its
    class (label noise above 50% in a class is not identifiable). Within a class the result
    is made non-decreasing in the score (a wider high component can otherwise claim the far
    low tail).
    """
    out = np.zeros(len(labels))
    for c in range(num_classes):
        idx = np.flatnonzero(labels == c)
        if len(idx) < 10:
            continue
        s = scores[idx]
        r, gain = _em_two(s)
        if gain <= 0 or r.sum() > 0.5 * len(idx):
            continue
        order = np.argsort(s, kind="stable")
        r[order] = np.maximum.accumulate(r[order])
        out[idx] = r
    return out


def _count_mixture(labels: np.ndarray, scores: np.ndarray, num_classes: int) -> np.ndarray:
    """Issues per class ``(C,)``: the summed :func:`mixture_posterior` of each class."""
    return np.bincount(
        labels, weights=_mixture_posterior(labels, scores, num_classes), minlength=num_classes
    )


# --------------------------------------------------------------------------------------------
# Public entry points: validate once, then call the trusting helpers above
# --------------------------------------------------------------------------------------------


def _labels_probs(
    labels: Any, probs: Any, num_classes: Any = None
) -> tuple[np.ndarray, np.ndarray, int]:
    P = check_probs(probs, "probs")
    C = P.shape[1]
    if num_classes is not None:
        C = check_num_classes(num_classes)
        if P.shape[1] != C:
            raise ValueError(f"probs: expected {C} columns (num_classes), got shape {P.shape}")
    y = check_labels(labels, "labels", num_classes=C, n=len(P))
    return y, P, C


def noise_transition(probs: Any) -> np.ndarray:
    """Estimated noise transition ``T`` ``(C, C)``, ``T[i, j] ≈ P(ỹ = j | y* = i)``.

    Row ``i`` is the mean of ``probs`` ``(N, C)`` over the samples whose argmax is ``i`` (an
    anchor-point estimate over the whole predicted class); a class the model never predicts
    gets the identity row. Rows sum to 1. Raises ``ValueError`` naming ``probs``.
    """
    return _noise_transition(check_probs(probs, "probs"))


def error_posterior(labels: Any, probs: Any, T: Any = None) -> np.ndarray:
    """Per-sample probability that the given label is wrong ``(N,)`` in [0, 1].

    ``q_n = 1 - p*_{ỹ}(x_n) T[ỹ_n, ỹ_n] / Σ_i p*_i(x_n) T[i, ỹ_n]`` with ``p* = T^{-T} p̃``
    (clipped, renormalised) and ``T`` ``(C, C)`` (rows on the simplex) from
    :func:`noise_transition` unless given.
    """
    y, P, C = _labels_probs(labels, probs)
    if T is not None:
        T = check_array(T, "T", ndim=2)
        if T.shape != (C, C):
            raise ValueError(f"T: expected shape ({C}, {C}) (C x C), got {T.shape}")
        check_simplex(T, "T")
    return _error_posterior(y, P, T)


def count_posterior(labels: Any, probs: Any, num_classes: Any = None) -> np.ndarray:
    """Expected issues per class ``(C,)``: the summed :func:`error_posterior` of each class."""
    y, P, C = _labels_probs(labels, probs, num_classes)
    return _count_posterior(y, P, C)


def confident_joint(labels: Any, probs: Any, *, calibrate: bool = True) -> np.ndarray:
    """The confident joint ``C[ỹ, y*]`` ``(C, C)`` of Northcutt et al. (2021), eq. 1-2.

    Thresholds ``t_j`` = mean ``p̃_j`` over the samples labelled ``j`` (a class without
    samples gets ``t_j = 2``: nothing counts into it). A sample counts into row ``ỹ``, column
    ``argmax_{j: p̃_j ≥ t_j} p̃_j`` (the paper's rule; cleanlab takes the overall argmax when
    two or more classes pass). The diagonal is at least 1 (as cleanlab). With ``calibrate``,
    rows are rescaled to the given class counts and the whole to ``N`` (eq. 2).
    """
    y, P, _ = _labels_probs(labels, probs)
    return _confident_joint(y, P, calibrate=bool(calibrate))


def count_confident_joint(labels: Any, probs: Any, num_classes: Any = None) -> np.ndarray:
    """Issues per class ``(C,)``: ``n_c - C[c, c]`` of the calibrated :func:`confident_joint`."""
    y, P, C = _labels_probs(labels, probs, num_classes)
    return _count_confident_joint(y, P, C)


def _labels_scores(
    labels: Any, scores: Any, num_classes: Any
) -> tuple[np.ndarray, np.ndarray, int]:
    C = check_num_classes(num_classes)
    s = check_scores(scores, "scores")
    y = check_labels(labels, "labels", num_classes=C, n=len(s))
    return y, s, C


def mixture_posterior(labels: Any, scores: Any, num_classes: Any) -> np.ndarray:
    """Per-sample responsibility of the high-score component ``(N,)`` in [0, 1], per class.

    ``scores`` ``(N,)``: higher = more likely wrong. A class keeps zeros unless it has at
    least 10 samples and BIC prefers two components to one. The high component is the
    label-issue one and may not hold more than half of its class (label noise above 50% in a
    class is not identifiable). Within a class the result is made non-decreasing in the score.
    """
    return _mixture_posterior(*_labels_scores(labels, scores, num_classes))


def count_mixture(labels: Any, scores: Any, num_classes: Any) -> np.ndarray:
    """Issues per class ``(C,)``: the summed :func:`mixture_posterior` of each class."""
    return _count_mixture(*_labels_scores(labels, scores, num_classes))
