"""Selective prediction: the risk–coverage curve, AURC and E-AURC (Geifman et al. 2019), AUGRC
(Traub et al. 2024) and the selective risk at a fixed coverage.

``correct`` ``(N,)`` is 1 where the prediction is right (risk counts the errors) and
``trust`` is **higher = more trustworthy**: samples are accepted in order of decreasing
trust. AURC and E-AURC are **lower = better**.

Ties: samples with equal trust are accepted together, so the curve inside a tie group is
the expectation over random orders of the group (errors accumulate linearly across it);
AURC therefore does not depend on the order of the input.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_fraction
from ._common import check_binary, check_outcome_and_score

__all__ = ["risk_coverage_curve", "aurc", "eaurc", "optimal_aurc", "augrc", "risk_at_coverage"]


def _cumulative_errors(c: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Expected number of errors among the k most trusted samples, k = 1..N (ties averaged)."""
    order = np.argsort(-s, kind="mergesort")
    ss, err = s[order], (~c[order]).astype(np.float64)
    n = len(ss)
    ends = np.r_[np.flatnonzero(np.diff(ss)), n - 1]  # last position of each tie group
    starts = np.r_[0, ends[:-1] + 1]
    cum_end = np.cumsum(err)[ends]
    cum_before = np.r_[0.0, cum_end[:-1]]
    sizes = ends - starts + 1
    group = np.repeat(np.arange(len(ends)), sizes)
    offset = np.arange(n) - starts[group] + 1  # 1..size within the group
    rate = (cum_end - cum_before) / sizes
    return cum_before[group] + offset * rate[group]


def _aurc_core(c: np.ndarray, s: np.ndarray) -> float:
    k = np.arange(1, len(c) + 1)
    return float(np.mean(_cumulative_errors(c, s) / k))


def _optimal_aurc(c: np.ndarray, exact: bool) -> float:
    n = len(c)
    n_err = float((~c).sum())
    if exact:  # all correct predictions accepted first
        k = np.arange(1, n + 1)
        return float(np.mean(np.maximum(0.0, k - (n - n_err)) / k))
    r = n_err / n
    return float(r + (1 - r) * np.log1p(-r)) if r < 1 else 1.0


def risk_coverage_curve(correct: Any, trust: Any) -> tuple[np.ndarray, np.ndarray]:
    """Risk–coverage curve accepting samples by decreasing ``trust``.

    Args:
        correct: ``(N,)`` 1/True for correct predictions.
        trust: ``(N,)`` higher = more trustworthy (accepted first).

    Returns:
        ``(coverage, risk)``, each ``(N,)``: ``coverage[k-1] = k/N`` and ``risk[k-1]`` the
        error rate among the ``k`` most trusted samples.
    """
    c, s = check_outcome_and_score(correct, trust, "correct", "trust")
    k = np.arange(1, len(c) + 1)
    return k / len(c), _cumulative_errors(c, s) / k


def aurc(correct: Any, trust: Any) -> float:
    """Area under the risk–coverage curve ``mean_k risk_k`` (lower = better).

    ``correct``: 1 = correct prediction; ``trust``: higher = more trustworthy.
    """
    c, s = check_outcome_and_score(correct, trust, "correct", "trust")
    return _aurc_core(c, s)


def optimal_aurc(correct: Any, *, exact: bool = False) -> float:
    """AURC of a perfect ranking (every correct prediction before every error).

    ``exact=False`` gives the continuous approximation ``r + (1 − r) ln(1 − r)`` with
    ``r`` the error rate, used by Geifman et al. and in E-AURC (REFERENCE §4);
    ``exact=True`` the discrete value ``mean_k max(0, k − N_correct)/k`` that a perfect
    ranking attains on these ``N`` samples (the two differ by O(log N / N)).
    """
    c = check_binary(correct, "correct")
    return _optimal_aurc(c, exact)


def eaurc(correct: Any, trust: Any, *, exact: bool = False) -> float:
    """Excess AURC: ``AURC − optimal AURC`` (lower = better; 0 for a perfect ranking).

    ``correct``: 1 = correct prediction; ``trust``: higher = more trustworthy. By default
    the optimum is ``r + (1 − r) ln(1 − r)`` (Geifman et al.), so a perfect ranking gives a
    small positive value O(log N / N); ``exact=True`` uses the discrete optimum.
    """
    c, s = check_outcome_and_score(correct, trust, "correct", "trust")
    return _aurc_core(c, s) - _optimal_aurc(c, exact)


def _augrc_core(c: np.ndarray, s: np.ndarray) -> float:
    return float(np.mean(_cumulative_errors(c, s)) / len(c))


def augrc(correct: Any, trust: Any) -> float:
    """Area under the *generalized* risk–coverage curve (Traub et al. 2024), lower = better.

    The generalized risk at coverage ``k/N`` is the joint probability of an error *and* its
    acceptance, ``E_k / N`` (``E_k`` = errors among the ``k`` most trusted samples, ties
    averaged), instead of the selective risk ``E_k / k``; AUGRC is its mean over the ``N``
    coverages ``k/N``::

        AUGRC = (1/N) Σ_k E_k / N = (1/N²) Σ_{errors i} (N − rank_i + 1)

    (``rank_i`` = 1-based position of error ``i`` in decreasing trust), i.e. the average risk
    of silent failure over all rejection thresholds. ``correct``: 1 = correct prediction;
    ``trust``: higher = more trustworthy. In [0, error rate]; a random ranking gives about
    ``r/2`` with ``r`` the error rate, a perfect one ``≈ r²/2``.
    """
    c, s = check_outcome_and_score(correct, trust, "correct", "trust")
    return _augrc_core(c, s)


def _risk_at(c: np.ndarray, s: np.ndarray, coverage: float) -> float:
    k = max(1, int(np.ceil(coverage * len(c) - 1e-9)))
    return float(_cumulative_errors(c, s)[k - 1] / k)


def risk_at_coverage(correct: Any, trust: Any, coverage: float = 0.9) -> float:
    """Selective risk (error rate) of the ``⌈coverage · N⌉`` most trusted samples, lower = better.

    ``correct``: 1 = correct prediction; ``trust``: higher = more trustworthy (accepted
    first; ties accepted together, their errors averaged as in :func:`risk_coverage_curve`).
    ``coverage`` in (0, 1]; ``coverage = 1`` gives the overall error rate.
    """
    c, s = check_outcome_and_score(correct, trust, "correct", "trust")
    coverage = check_fraction(coverage, "coverage")
    if coverage <= 0:
        raise ValueError(f"coverage: expected a number in (0, 1], got {coverage!r}")
    return _risk_at(c, s, coverage)
