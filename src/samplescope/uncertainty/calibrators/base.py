"""The calibrator contract, input resolution, the identity calibrator and the shared optimiser.

Every calibrator follows the scikit-learn estimator contract (DESIGN.md): hyper-parameters in
``__init__``, ``fit(*, logits=None, probs=None, labels) -> self``, fitted attributes end in
``_`` (``n_classes_`` is always set), ``predict_proba(*, logits=None, probs=None) -> (N, C)``
rows on the simplex, ``predict`` its argmax, and predicting before ``fit`` raises
``NotFittedError`` (a ``ValueError``). Exactly one of ``logits=`` ``(N, C)`` and ``probs=``
``(N, C)`` is passed, by keyword; the calibrator converts it to the space it works in
(:attr:`Calibrator.space`):

- ``"logits"``: logits as given; probabilities become ``log max(p, 1e-12)`` (valid logits of
  ``p``: softmax of them is ``p`` up to the clipping);
- ``"log_probs"``: ``log_softmax(z)`` of logits, ``log max(p, 1e-12)`` of probabilities;
- ``"probs"``: ``softmax(z)`` of logits, probabilities as given.

:attr:`Calibrator.accuracy_preserving` says whether the argmax of the output always equals
the argmax of the input, and :attr:`Calibrator.argmax_effect` says how it can change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError

from ..._validation import check_labels, check_logits, check_probs
from ...functional import log_softmax, softmax

__all__ = ["Calibrator", "IdentityCalibrator", "resolve_input", "to_space", "SPACES"]

SPACES = ("logits", "log_probs", "probs")
LOG_EPS = 1e-12


def resolve_input(
    logits: Any = None, probs: Any = None, *, num_classes: int | None = None
) -> tuple[str, np.ndarray]:
    """Validate exactly one of ``logits`` / ``probs`` ``(N, C)``; return ``(kind, float64 array)``."""
    if (logits is None) == (probs is None):
        got = "both" if logits is not None else "neither"
        raise ValueError(
            f"logits: expected exactly one of logits= (N, C) or probs= (N, C), got {got}"
        )
    if logits is not None:
        return "logits", check_logits(logits, num_classes=num_classes)
    p = check_probs(probs)
    if num_classes is not None and p.shape[1] != num_classes:
        raise ValueError(f"probs: expected {num_classes} columns, got shape {p.shape}")
    return "probs", p


def to_space(kind: str, a: np.ndarray, space: str) -> np.ndarray:
    """Convert validated ``logits``/``probs`` ``(N, C)`` to ``space`` (see the module doc)."""
    if space == "probs":
        return softmax(a, axis=1) if kind == "logits" else a
    if kind == "probs":
        return np.log(np.clip(a, LOG_EPS, 1.0))
    return log_softmax(a, axis=1) if space == "log_probs" else a


def lbfgs(params: list[torch.Tensor], loss_fn: Callable[[], torch.Tensor], max_iter: int) -> float:
    """Minimise ``loss_fn()`` over ``params`` with L-BFGS (strong Wolfe); return the final loss."""
    opt = torch.optim.LBFGS(
        params,
        lr=1.0,
        max_iter=max_iter,
        line_search_fn="strong_wolfe",
        tolerance_grad=1e-10,
        tolerance_change=1e-12,
    )

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        return float(loss_fn())


def renormalise(q: np.ndarray) -> np.ndarray:
    """Rows of one-vs-rest scores ``q`` ``(N, C)`` divided by their sum; all-zero rows → ``1/C``.

    (scikit-learn's ``CalibratedClassifierCV`` does the same for its one-vs-rest calibrators.)
    """
    s = q.sum(axis=1, keepdims=True)
    out = np.full_like(q, 1.0 / q.shape[1])
    np.divide(q, s, out=out, where=s > 0)
    return out


def check_int(value: Any, name: str, low: int = 1) -> int:
    """``value`` as an int ``>= low`` (bools and non-integers rejected)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name}: expected an integer >= {low}, got {value!r}")
    return int(value)


def check_nonneg(value: Any, name: str) -> float:
    """``value`` as a finite float ``>= 0``."""
    try:
        v = float(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: expected a non-negative number, got {value!r}") from exc
    if not np.isfinite(v) or v < 0:
        raise ValueError(f"{name}: expected a non-negative number, got {value!r}")
    return v


class Calibrator(BaseEstimator):
    """Base class: validation, input conversion and the fitted check.

    Subclasses set :attr:`space`, :attr:`accuracy_preserving`, :attr:`argmax_effect` and
    implement ``_fit(x, y)`` and ``_predict_proba(x)`` on validated arrays in that space
    (``x`` ``(N, C)`` float64, ``y`` ``(N,)`` int64), and may check hyper-parameters in
    ``_check_params()``.
    """

    space: ClassVar[str] = "logits"
    accuracy_preserving: ClassVar[bool] = False
    argmax_effect: ClassVar[str] = "may change the predicted class"
    min_classes: ClassVar[int] = 2
    max_classes: ClassVar[int | None] = None

    # -- the public contract ------------------------------------------------------------
    def fit(self, *, logits: Any = None, probs: Any = None, labels: Any) -> Calibrator:
        """Fit on held-out ``logits=`` or ``probs=`` ``(N, C)`` and ``labels`` ``(N,)``."""
        return self._fit_validated(logits, probs, labels)

    def predict_proba(self, *, logits: Any = None, probs: Any = None) -> np.ndarray:
        """Calibrated probabilities ``(N, C)`` of ``logits=`` or ``probs=`` ``(N, C)``."""
        return self._predict_proba(self._input(logits, probs))

    def predict(self, *, logits: Any = None, probs: Any = None) -> np.ndarray:
        """Predicted classes ``(N,)``: the argmax of :meth:`predict_proba`."""
        return self.predict_proba(logits=logits, probs=probs).argmax(1)

    # -- helpers for subclasses ---------------------------------------------------------
    def _fit_validated(self, logits: Any, probs: Any, labels: Any) -> Calibrator:
        kind, a = resolve_input(logits, probs)
        c = a.shape[1]
        if c < self.min_classes or (self.max_classes is not None and c > self.max_classes):
            want = f"exactly {self.max_classes}" if self.max_classes == self.min_classes else ""
            name = "logits" if kind == "logits" else "probs"
            raise ValueError(
                f"{name}: {type(self).__name__} needs {want or f'at least {self.min_classes}'} "
                f"classes (columns), got shape {a.shape}"
            )
        y = check_labels(labels, num_classes=c, n=a.shape[0])
        self._check_params()
        self._fit(to_space(kind, a, self.space), y)
        self.n_classes_ = c
        return self

    def _input(self, logits: Any, probs: Any) -> np.ndarray:
        self._require_fitted()
        kind, a = resolve_input(logits, probs, num_classes=self.n_classes_)
        return to_space(kind, a, self.space)

    def _require_fitted(self) -> None:
        if not hasattr(self, "n_classes_"):
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet: call "
                "fit(logits=..., labels=...) first"
            )

    def _check_params(self) -> None:
        """Validate hyper-parameters (at fit time, as scikit-learn does)."""

    def _fit(self, x: np.ndarray, y: np.ndarray) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _predict_proba(self, x: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError


class IdentityCalibrator(Calibrator):
    """The free baseline: ``q = p`` (``softmax(z)`` of logits); nothing is learned.

    Accuracy-preserving (the output is the input). Every comparison of calibrators includes it
    (DESIGN.md: the identity is the baseline of calibration).
    """

    space: ClassVar[str] = "probs"
    accuracy_preserving: ClassVar[bool] = True
    argmax_effect: ClassVar[str] = "keeps the argmax (the output is the input)"

    def _fit(self, x: np.ndarray, y: np.ndarray) -> None:
        pass

    def _predict_proba(self, x: np.ndarray) -> np.ndarray:
        return x.copy()
