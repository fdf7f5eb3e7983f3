"""Post-hoc trust baselines from a frozen classifier's logits, same convention as the oracle:
``fit(data)`` → self, ``predict_trust(data)`` → ``(N,)`` in [0, 1], **higher = more
trustworthy**; ``score(data)`` gives the raw score (same ranking).

With logits ``l`` ``(C,)`` and ``p = softmax(l)``:

- :class:`MaxLogitTrust` — ``max_c l_c`` (Hendrycks et al. 2022);
- :class:`MaxLogitPNormTrust` — ``max_c l_c / ‖l‖_p`` (Cattelan & Silva 2023; ``p = 2`` or
  ``"auto"``: the ``p ∈ {1..10}`` of lowest AURC on the fit split, a validation split);
- :class:`EnergyTrust` — negative energy ``T · logsumexp(l / T)`` (Liu et al. 2020);
- :class:`DoctorTrust` — DOCTOR (Granese et al. 2021) with ``α = 2``: the Gini impurity
  ``g = 1 − Σ_c p_c²`` is the uncertainty, so trust = ``Σ_c p_c²`` (temperature ``T``, no input
  perturbation);
- :class:`RelativeUncertaintyTrust` — Rel-U (Dadalto et al. 2024): uncertainty ``pᵀ D p`` with
  ``D = ReLU(λ E_err[p pᵀ] − (1 − λ) E_ok[p pᵀ])``, zero diagonal, ``‖D‖_F = 1`` (Gini's
  all-ones off-diagonal when that is all zero), fitted on a **validation split** (the
  classifier's own training split has almost no errors) or on given ``probs``/``correct``
  (e.g. cross-fitted ones); trust = ``1 − pᵀ D p`` ∈ [0, 1];
- :class:`EnsembleTrust` — deep-ensemble confidence ``max_c mean_m p^{(m)}_c`` over the
  classifier and ``members`` (Lakshminarayanan et al. 2017).

Unbounded raw scores (max logit, energy) map to [0, 1] by ``½ + arctan(s)/π`` (strictly
increasing, no saturation in float64), so rankings and every ranking metric are those of
the raw score; TPR/TNR at 0.5 then mean ``s > 0`` and carry no meaning for those two.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from .._validation import (
    check_binary,
    check_fraction,
    check_positive,
    check_probs,
    check_same_length,
)
from ..data.split import as_split
from ..metrics.selective import _aurc_core
from .baselines import _Baseline, _LogitBaseline
from .oracle import _batched, inputs_of

__all__ = [
    "MaxLogitTrust",
    "MaxLogitPNormTrust",
    "EnergyTrust",
    "DoctorTrust",
    "RelativeUncertaintyTrust",
    "EnsembleTrust",
    "squash",
    "relative_uncertainty_matrix",
]


def squash(score: Any) -> np.ndarray:
    """``½ + arctan(s)/π`` ``(N,)``: a strictly increasing map of ℝ onto (0, 1)."""
    return 0.5 + np.arctan(np.asarray(score, dtype=np.float64)) / np.pi


class _UnboundedLogitBaseline(_LogitBaseline):
    """A logit score on ℝ; trust = ``squash`` of it (rank-preserving, no float saturation)."""

    def predict_trust(self, data: Any) -> np.ndarray:
        """Trust ``(N,)`` in (0, 1): ``squash`` of the raw score."""
        return squash(self.score(data))


class _TemperedLogitBaseline(_LogitBaseline):
    """A logit baseline with a temperature ``T > 0`` (checked at ``fit``)."""

    def __init__(
        self,
        classifier: nn.Module,
        *,
        temperature: float = 1.0,
        device: str = "cpu",
        batch_size_eval: int = 1024,
    ) -> None:
        super().__init__(classifier, device=device, batch_size_eval=batch_size_eval)
        self.temperature = temperature

    def fit(self, data: Any) -> Any:
        """Check the temperature and record the number of classes. Returns self."""
        check_positive(self.temperature, "temperature")
        return super().fit(data)


class MaxLogitTrust(_UnboundedLogitBaseline):
    """Maximum logit ``max_c l_c`` (Hendrycks et al. 2022); trust = ``squash`` of it."""

    def _from_logits(self, logits: torch.Tensor) -> np.ndarray:
        return logits.max(1).values.numpy()


class EnergyTrust(_TemperedLogitBaseline, _UnboundedLogitBaseline):
    """Negative energy ``T · logsumexp(l / T)`` (Liu et al. 2020); trust = ``squash`` of it."""

    def _from_logits(self, logits: torch.Tensor) -> np.ndarray:
        t = float(self.temperature)
        return (t * torch.logsumexp(logits / t, 1)).numpy()


class DoctorTrust(_TemperedLogitBaseline):
    """DOCTOR (Granese et al. 2021), α = 2: trust = ``Σ_c softmax(l/T)_c²`` = 1 − Gini ∈ [1/C, 1]."""

    def _from_logits(self, logits: torch.Tensor) -> np.ndarray:
        p = (logits / float(self.temperature)).softmax(1)
        return (p**2).sum(1).numpy()


def _pnorm_score(logits: torch.Tensor, p: float) -> np.ndarray:
    norm = logits.norm(p=p, dim=1).clamp_min(1e-12)
    return (logits.max(1).values / norm).numpy()


class MaxLogitPNormTrust(_LogitBaseline):
    """MaxLogit-pNorm (Cattelan & Silva 2023): ``max_c l_c / ‖l‖_p`` ∈ [−1, 1]; trust = ``(s+1)/2``.

    ``p``: a number ≥ 1, or ``"auto"``: the ``p ∈ {1, …, 10}`` with the lowest AURC of the
    classifier's correctness on the fit split (a validation split; ``p_`` after fitting).
    """

    def __init__(
        self,
        classifier: nn.Module,
        *,
        p: float | str = 2.0,
        device: str = "cpu",
        batch_size_eval: int = 1024,
    ) -> None:
        super().__init__(classifier, device=device, batch_size_eval=batch_size_eval)
        self.p = p

    def fit(self, data: Any) -> MaxLogitPNormTrust:
        """Choose ``p`` (``"auto"``) and record the number of classes. Returns self."""
        if self.p != "auto":
            self.p_ = check_positive(self.p, "p")
            if self.p_ < 1:
                raise ValueError(f"p: expected a number >= 1 or 'auto', got {self.p!r}")
            return super().fit(data)
        split = as_split(data)
        super().fit(split)
        logits = self._logits(split.x)
        correct = (logits.argmax(1).numpy() == split.y).astype(bool)
        grid = [float(q) for q in range(1, 11)]
        if correct.all() or not correct.any():
            self.p_ = 2.0
        else:
            risks = [_aurc_core(correct, _pnorm_score(logits, q)) for q in grid]
            self.p_ = grid[int(np.argmin(risks))]
        return self

    def _from_logits(self, logits: torch.Tensor) -> np.ndarray:
        return _pnorm_score(logits, float(self.p_))

    def predict_trust(self, data: Any) -> np.ndarray:
        """``(s + 1)/2`` ``(N,)`` ∈ [0, 1]."""
        return (self.score(data) + 1.0) / 2.0


def relative_uncertainty_matrix(probs: Any, correct: Any, lam: float = 0.5) -> np.ndarray:
    """Rel-U's ``D`` ``(C, C)`` (Dadalto et al. 2024, closed form of their reference code).

    ``D = ReLU(λ mean_err p pᵀ − (1 − λ) mean_ok p pᵀ)`` off the diagonal, 0 on it, scaled to
    ``‖D‖_F = 1``; all-ones off the diagonal (Gini) when that is all zero. ``probs`` ``(N, C)``,
    ``correct`` ``(N,)`` 1 = correct prediction; a class with no samples contributes zero.
    """
    p = check_probs(probs, "probs")
    c = check_binary(correct, "correct")
    check_same_length(probs=p, correct=c)
    lam = check_fraction(lam, "lam")
    c_dim = p.shape[1]

    def outer(rows: np.ndarray) -> np.ndarray:
        return rows.T @ rows / len(rows) if len(rows) else np.zeros((c_dim, c_dim))

    d = lam * outer(p[~c]) - (1 - lam) * outer(p[c])
    d = np.maximum(d, 0.0)
    np.fill_diagonal(d, 0.0)
    if not (d > 0).any():
        d = np.ones((c_dim, c_dim)) - np.eye(c_dim)
    return d / np.linalg.norm(d)


class RelativeUncertaintyTrust(_Baseline):
    """Rel-U (Dadalto et al. 2024): trust = ``1 − pᵀ D p`` ∈ [0, 1], ``D`` fitted on a validation split.

    Args:
        classifier: frozen classifier returning logits.
        lam: ``λ`` ∈ [0, 1], weight of the errors (0.5 = the paper's default).
        temperature: softmax temperature ``T``.

    ``fit(data, probs=None, correct=None)``: ``data`` is a labelled split the classifier did
    not train on; or pass ``probs`` ``(N, C)`` and ``correct`` ``(N,)`` directly (e.g. the
    out-of-fold probabilities and correctness of cross-fitting). Fitted: ``matrix_`` ``(C, C)``.
    """

    def __init__(
        self,
        classifier: nn.Module,
        *,
        lam: float = 0.5,
        temperature: float = 1.0,
        device: str = "cpu",
        batch_size_eval: int = 1024,
    ) -> None:
        self.classifier = classifier
        self.lam = lam
        self.temperature = temperature
        self.device = device
        self.batch_size_eval = batch_size_eval

    def fit(self, data: Any, *, probs: Any = None, correct: Any = None) -> RelativeUncertaintyTrust:
        """Fit ``D`` on a validation split (or on given ``probs``/``correct``). Returns self."""
        check_fraction(self.lam, "lam")
        check_positive(self.temperature, "temperature")
        split = as_split(data)
        self._fit_classes(split)
        if (probs is None) != (correct is None):
            raise ValueError("probs/correct: expected both or neither, got one")
        if probs is None:
            logits = self._logits(split.x)
            probs = (logits / float(self.temperature)).softmax(1).numpy()
            correct = logits.argmax(1).numpy() == split.y
        probs = np.asarray(probs, dtype=np.float64)
        if probs.ndim != 2 or probs.shape[1] != self.num_classes_:
            raise ValueError(f"probs: expected (N, {self.num_classes_}), got {probs.shape}")
        self.matrix_ = relative_uncertainty_matrix(probs, correct, float(self.lam))
        return self

    def predict_trust(self, data: Any) -> np.ndarray:
        """``1 − pᵀ D p`` ``(N,)`` ∈ [0, 1]."""
        self._check_fitted()
        p = (self._logits(inputs_of(data)) / float(self.temperature)).softmax(1).numpy()
        u = np.einsum("ni,ij,nj->n", p, self.matrix_, p)
        return np.clip(1.0 - u, 0.0, 1.0)


class EnsembleTrust(_Baseline):
    """Deep-ensemble confidence ``max_c mean_m softmax(f_m(x))_c`` over the classifier and
    ``members`` (other models of the same task, e.g. independently trained or out-of-fold)."""

    def __init__(
        self,
        classifier: nn.Module,
        *,
        members: Sequence[nn.Module] = (),
        device: str = "cpu",
        batch_size_eval: int = 1024,
    ) -> None:
        self.classifier = classifier
        self.members = members
        self.device = device
        self.batch_size_eval = batch_size_eval

    def fit(self, data: Any) -> EnsembleTrust:
        """Check the members and record the number of classes. Returns self."""
        bad = isinstance(self.members, (str, bytes, nn.Module)) or not isinstance(
            self.members, Sequence
        )
        if bad or not all(isinstance(m, nn.Module) for m in self.members):
            raise ValueError(
                f"members: expected a sequence of nn.Modules, got {self.members!r:.80}"
            )
        self._fit_classes(data)
        return self

    def predict_trust(self, data: Any) -> np.ndarray:
        """``max_c p̄_c`` ``(N,)`` ∈ [1/C, 1]."""
        self._check_fitted()
        x = inputs_of(data)
        total = self._logits(x).softmax(1)
        dev = torch.device(self.device)
        for m in self.members:
            was = m.training
            m.eval()
            try:
                lg = _batched(m, x, self.batch_size_eval, dev).double()
            finally:
                m.train(was)
            if lg.shape != total.shape:
                raise ValueError(
                    f"members: expected logits of shape {tuple(total.shape)}, got {tuple(lg.shape)}"
                )
            total = total + lg.softmax(1)
        return (total / (1 + len(self.members))).max(1).values.numpy()
