"""Cross-validated fitting and selection of calibrators for small validation sets.

A calibrator fitted on a few hundred validation samples can do worse than doing nothing (the
free baseline, DESIGN.md). Here the validation set itself is split into ``cv`` folds
(stratified by label when every present class has at least ``cv`` samples, otherwise plain
shuffled folds); the calibrator is fitted on ``cv − 1`` folds and predicts the held-out one,
and the pooled out-of-fold NLL ``−(1/N) Σ_i log q^{(−fold(i))}_{i, y_i}`` is compared with the
NLL of the identity on the same samples:

- :func:`fit_calibrator` fits on all samples when the calibrator's CV NLL is lower than the
  identity's by more than ``min_improvement``, and otherwise warns (``UserWarning``, with both
  numbers) and returns a fitted :class:`IdentityCalibrator`;
- :func:`select_calibrator` fits the candidate (the identity always among them) with the
  lowest CV NLL, every candidate scored on the same folds.

The returned calibrator carries ``cv_report_`` (a dict with the numbers).
:class:`CrossValidatedCalibrator` wraps the selection as a calibrator, and
:class:`DirichletCV` (registered as ``dirichlet_cv``) chooses Dirichlet calibration's ODIR
strength that way. NLL is the
selection criterion because it is a proper scoring rule; ECE is not (a constant prediction of
the base rate has ECE 0).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from sklearn.model_selection import KFold, StratifiedKFold

from ..._validation import check_labels
from ...functional import label_nll
from .base import Calibrator, IdentityCalibrator, resolve_input
from .linear import DirichletCalibration
from .registry import calibrator_name, make_calibrator, register_calibrator

__all__ = [
    "cv_folds",
    "cross_val_predict_proba",
    "cross_val_nll",
    "fit_calibrator",
    "select_calibrator",
    "CrossValidatedCalibrator",
    "DirichletCV",
]

_EPS = 1e-12


def _check_cv(cv: Any, n: int) -> int:
    if isinstance(cv, bool) or not isinstance(cv, (int, np.integer)) or not 2 <= cv <= n:
        raise ValueError(f"cv: expected an integer number of folds in [2, N={n}], got {cv!r}")
    return int(cv)


def cv_folds(
    labels: np.ndarray, cv: int, seed: int
) -> tuple[list[tuple[np.ndarray, np.ndarray]], bool]:
    """``(folds, stratified)``: ``cv`` (train, test) index pairs, stratified where possible."""
    counts = np.bincount(labels)
    stratified = bool(counts[counts > 0].min() >= cv)
    splitter = (StratifiedKFold if stratified else KFold)(cv, shuffle=True, random_state=seed)
    folds = list(splitter.split(np.zeros((len(labels), 1)), labels))
    return folds, stratified


def _inputs(logits: Any, probs: Any, labels: Any) -> tuple[str, np.ndarray, np.ndarray]:
    kind, a = resolve_input(logits, probs)
    y = check_labels(labels, num_classes=a.shape[1], n=a.shape[0])
    return kind, a, y


def _oof(
    cal: Calibrator,
    kind: str,
    a: np.ndarray,
    y: np.ndarray,
    folds: list[tuple[np.ndarray, np.ndarray]],
) -> np.ndarray:
    out = np.empty_like(a)
    for train, test in folds:
        fitted = make_calibrator(cal).fit(**{kind: a[train]}, labels=y[train])
        out[test] = fitted.predict_proba(**{kind: a[test]})
    return out


def _nll(q: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(label_nll(q, y, _EPS)))


def cross_val_predict_proba(
    calibrator: str | Calibrator,
    *,
    logits: Any = None,
    probs: Any = None,
    labels: Any,
    cv: int = 5,
    seed: int = 0,
) -> np.ndarray:
    """Out-of-fold calibrated probabilities ``(N, C)`` (each row from a fit without its fold)."""
    cal = make_calibrator(calibrator)
    kind, a, y = _inputs(logits, probs, labels)
    folds, _ = cv_folds(y, _check_cv(cv, len(y)), seed)
    return _oof(cal, kind, a, y, folds)


def cross_val_nll(
    calibrator: str | Calibrator,
    *,
    logits: Any = None,
    probs: Any = None,
    labels: Any,
    cv: int = 5,
    seed: int = 0,
) -> dict[str, Any]:
    """Pooled out-of-fold NLL of a calibrator and of the identity on the same samples.

    Returns:
        dict with ``calibrator`` (name), ``cv_nll``, ``identity_cv_nll`` (NLL of the input
        probabilities), ``cv``, ``stratified``, ``n``.
    """
    cal = make_calibrator(calibrator)
    kind, a, y = _inputs(logits, probs, labels)
    folds, stratified = cv_folds(y, _check_cv(cv, len(y)), seed)
    identity = IdentityCalibrator().fit(**{kind: a}, labels=y).predict_proba(**{kind: a})
    return {
        "calibrator": calibrator_name(cal),
        "cv_nll": _nll(_oof(cal, kind, a, y, folds), y),
        "identity_cv_nll": _nll(identity, y),
        "cv": len(folds),
        "stratified": stratified,
        "n": len(y),
    }


def fit_calibrator(
    calibrator: str | Calibrator,
    *,
    logits: Any = None,
    probs: Any = None,
    labels: Any,
    cv: int | None = 5,
    seed: int = 0,
    min_improvement: float = 0.0,
) -> Calibrator:
    """Fit ``calibrator`` if it beats the identity in cross-validated NLL; else the identity.

    Args:
        calibrator: a registered name (``"ts"``, ``"dirichlet"``, ...) or an unfitted
            :class:`Calibrator` (cloned).
        logits / probs: held-out ``(N, C)`` (exactly one); labels: ``(N,)``.
        cv: folds (``None``: fit without the check, ``cv_report_`` is then ``None``).
        seed: seed of the fold split.
        min_improvement: how much lower (nats) the CV NLL must be than the identity's.

    Returns:
        The fitted calibrator, or a fitted :class:`IdentityCalibrator` after a ``UserWarning``
        naming both CV NLLs; ``cv_report_`` holds :func:`cross_val_nll`'s dict plus
        ``fell_back``.
    """
    cal = make_calibrator(calibrator)
    kind, a, y = _inputs(logits, probs, labels)
    if cv is None:
        fitted = cal.fit(**{kind: a}, labels=y)
        fitted.cv_report_ = None
        return fitted
    gain = float(min_improvement)
    if not np.isfinite(gain) or gain < 0:
        raise ValueError(
            f"min_improvement: expected a non-negative number, got {min_improvement!r}"
        )
    report = cross_val_nll(cal, **{kind: a}, labels=y, cv=cv, seed=seed)
    fell_back = not report["cv_nll"] < report["identity_cv_nll"] - gain
    report["fell_back"] = fell_back
    if fell_back and not isinstance(cal, IdentityCalibrator):
        warnings.warn(
            f"fit_calibrator: {report['calibrator']} does not improve the {report['cv']}-fold "
            f"cross-validated NLL on these {report['n']} samples ({report['cv_nll']:.4f} vs "
            f"{report['identity_cv_nll']:.4f} for the identity); returning the identity "
            "calibrator",
            UserWarning,
            stacklevel=2,
        )
        cal = IdentityCalibrator()
    fitted = cal.fit(**{kind: a}, labels=y)
    fitted.cv_report_ = report
    return fitted


def select_calibrator(
    calibrators: Sequence[str | Calibrator],
    *,
    logits: Any = None,
    probs: Any = None,
    labels: Any,
    cv: int = 5,
    seed: int = 0,
) -> Calibrator:
    """The candidate with the lowest cross-validated NLL, fitted on all samples.

    Every candidate (and the identity, added first when missing, so a tie keeps the identity)
    is scored on the same ``cv`` folds. ``cv_report_`` of the result: ``scores`` (candidate →
    CV NLL, candidates keyed by name, or by ``repr`` for an instance), ``chosen``, ``cv``,
    ``stratified``, ``n``.
    """
    if isinstance(calibrators, (str, Calibrator)) or len(calibrators) == 0:
        raise ValueError(
            f"calibrators: expected a non-empty list of names/Calibrators, got {calibrators!r}"
        )
    kind, a, y = _inputs(logits, probs, labels)
    folds, stratified = cv_folds(y, _check_cv(cv, len(y)), seed)
    cands: dict[str, Calibrator] = {}
    for i, spec in enumerate(["identity", *calibrators]):
        cal = make_calibrator(spec, f"calibrators[{i - 1}]")
        key = spec if isinstance(spec, str) else repr(spec)
        cands.setdefault(key, cal)
    scores = {k: _nll(_oof(c, kind, a, y, folds), y) for k, c in cands.items()}
    chosen = min(scores, key=lambda k: scores[k])  # first minimum: the identity wins ties
    fitted = make_calibrator(cands[chosen]).fit(**{kind: a}, labels=y)
    fitted.cv_report_ = {
        "scores": scores,
        "chosen": chosen,
        "cv": len(folds),
        "stratified": stratified,
        "n": len(y),
    }
    return fitted


class CrossValidatedCalibrator(Calibrator):
    """A calibrator that picks among ``candidates`` by CV NLL when fitted (:func:`select_calibrator`).

    ``fit`` scores every candidate and the identity on the same ``cv`` folds of the data it is
    given and refits the best one on all of it; ``predict_proba`` is that of the chosen one.

    Args:
        candidates: names or unfitted calibrators.
        cv: folds; seed: seed of the fold split.

    Attributes:
        selected_: the fitted chosen calibrator; chosen_: its key; cv_scores_: key → CV NLL;
        n_classes_.
    """

    argmax_effect: ClassVar[str] = "that of the chosen candidate"

    def __init__(
        self, candidates: Sequence[str | Calibrator] = ("ts",), cv: int = 5, seed: int = 0
    ) -> None:
        self.candidates = candidates
        self.cv = cv
        self.seed = seed

    def _candidates(self) -> list[str | Calibrator]:
        return list(self.candidates)

    def fit(
        self, *, logits: Any = None, probs: Any = None, labels: Any
    ) -> CrossValidatedCalibrator:
        """Select on held-out ``logits=`` / ``probs=`` ``(N, C)`` and ``labels`` ``(N,)``; refit."""
        sel = select_calibrator(
            self._candidates(),
            logits=logits,
            probs=probs,
            labels=labels,
            cv=self.cv,
            seed=self.seed,
        )
        self.selected_ = sel
        self.chosen_ = sel.cv_report_["chosen"]
        self.cv_scores_ = sel.cv_report_["scores"]
        self.n_classes_ = sel.n_classes_
        return self

    def predict_proba(self, *, logits: Any = None, probs: Any = None) -> np.ndarray:
        """Calibrated probabilities ``(N, C)`` of the chosen calibrator."""
        self._require_fitted()
        return self.selected_.predict_proba(logits=logits, probs=probs)


class DirichletCV(CrossValidatedCalibrator):
    """Dirichlet calibration with ODIR strength chosen by CV NLL (the protocol of Kull et al.).

    Candidates: :class:`DirichletCalibration` with ``λ = μ = g`` for ``g`` in ``grid`` (Kull et
    al. 2019 tune λ and μ by cross-validation; here they are tied to keep the grid small), plus
    the identity. May change the argmax (as Dirichlet calibration does).

    Args:
        grid: ODIR strengths ``λ = μ``; cv: folds; seed: seed of the fold split.
    """

    def __init__(
        self, grid: Sequence[float] = (1e-3, 1e-2, 1e-1, 1.0, 10.0), cv: int = 5, seed: int = 0
    ) -> None:
        self.grid = grid
        self.cv = cv
        self.seed = seed

    def _candidates(self) -> list[str | Calibrator]:
        if len(self.grid) == 0:
            raise ValueError(f"grid: expected a non-empty sequence of strengths, got {self.grid!r}")
        return [DirichletCalibration(lam=float(g), mu=float(g)) for g in self.grid]


register_calibrator("dirichlet_cv", DirichletCV)
