"""Trust baselines with the oracle's convention: ``fit(data)`` → self, ``predict_trust(data)``
→ ``(N,)`` in [0, 1], **higher = more trustworthy**; the classifier is used frozen, in eval mode.

- :class:`MCPTrust` — maximum class probability ``max_c softmax(f(x))_c`` (Hendrycks & Gimpel 2017).
- :class:`MCDropoutTrust` — negative predictive entropy of the MC-dropout mean
  ``p̄ = mean_s p_s`` over ``S`` stochastic passes (Gal & Ghahramani 2016), mapped to [0, 1]
  as ``1 - H[p̄]/log C``.
- :class:`TrustScoreTrust` — Jiang et al. 2018 (:mod:`samplescope.trust.trustscore`) on the
  classifier's features at ``layer`` (default: the input of the last ``nn.Linear``, by a forward
  hook, so any ``nn.Module`` works) or the raw inputs, mapped as ``ratio/(1 + ratio)``.

The logit-based baselines (max logit, MaxLogit-pNorm, energy, DOCTOR, Rel-U, ensembles) are in
:mod:`samplescope.trust.posthoc`; the registry of all of them in :mod:`samplescope.trust.registry`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from .._validation import check_array, check_choice, check_fraction, check_integer, check_positive
from ..data.split import as_split
from ..functional import entropy
from ..models import has_dropout, layer_features, resolve_layer, split_at_first_dropout
from ..training.checks import probe_classes, renamed_argument
from .oracle import _batched, _require_module, inputs_of
from .trustscore import ALGORITHMS, fit_class_trees, trust_score_ratio

__all__ = [
    "MCPTrust",
    "MCDropoutTrust",
    "TrustScoreTrust",
    "mc_dropout_probs",
]


class _Baseline:
    """Shared plumbing: a frozen classifier, the fitted check and batched inference."""

    classifier: nn.Module
    device: str = "cpu"
    batch_size_eval: int = 1024

    def _check_fitted(self) -> None:
        if not hasattr(self, "num_classes_"):
            raise ValueError(
                f"{type(self).__name__}: this instance is not fitted yet; call fit(data) first"
            )

    def _logits(self, x: np.ndarray) -> torch.Tensor:
        clf = self.classifier
        was = clf.training
        clf.eval()
        try:
            return _batched(clf, x, self.batch_size_eval, torch.device(self.device)).double()
        finally:
            clf.train(was)

    def _fit_classes(self, data: Any) -> np.ndarray:
        _require_module(self.classifier)
        check_integer(self.batch_size_eval, "batch_size_eval")
        if isinstance(data, (np.ndarray, torch.Tensor)):
            x, y_max = inputs_of(data), None
        else:
            split = as_split(data)
            x, y_max = inputs_of(split), (int(split.y.max()) if len(split) else None)
        self.num_classes_ = probe_classes(self.classifier, x, y_max, device=self.device)
        self.neg_threshold_ = 0.5
        return x

    def predict(self, data: Any) -> np.ndarray:
        """Predicted correctness ``(N,)`` int64: 1 where trust > 0.5."""
        return (self.predict_trust(data) > 0.5).astype(np.int64)

    def predict_trust(self, data: Any) -> np.ndarray:  # pragma: no cover - overridden
        raise NotImplementedError


class _LogitBaseline(_Baseline):
    """A baseline computed from the frozen classifier's logits; ``fit`` records ``num_classes_``.

    Subclasses give ``_from_logits(logits (N, C)) -> score (N,)``; ``predict_trust`` is the
    score itself (bounded scores; the unbounded ones override it with ``posthoc.squash``).
    """

    def __init__(
        self, classifier: nn.Module, *, device: str = "cpu", batch_size_eval: int = 1024
    ) -> None:
        self.classifier = classifier
        self.device = device
        self.batch_size_eval = batch_size_eval

    def fit(self, data: Any) -> Any:
        """Record the number of classes (nothing is learned). Returns self."""
        self._fit_classes(data)
        return self

    def _from_logits(self, logits: torch.Tensor) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def score(self, data: Any) -> np.ndarray:
        """The raw score ``(N,)`` (higher = more trustworthy)."""
        self._check_fitted()
        return self._from_logits(self._logits(inputs_of(data)))

    def predict_trust(self, data: Any) -> np.ndarray:
        """Trust ``(N,)`` in [0, 1]: the score."""
        return self.score(data)


class MCPTrust(_LogitBaseline):
    """Maximum class probability ``max_c p_c`` ``(N,)`` ∈ [1/C, 1] of the frozen classifier."""

    def _from_logits(self, logits: torch.Tensor) -> np.ndarray:
        return logits.softmax(1).max(1).values.numpy()


def mc_dropout_probs(
    model: nn.Module,
    x: np.ndarray,
    samples: int,
    *,
    seed: int = 0,
    batch_size: int = 1024,
    device: str = "cpu",
) -> np.ndarray:
    """MC-dropout probabilities ``(S, N, C)``.

    Uses :func:`samplescope.uncertainty.predict_stochastic` when that module provides it,
    else runs the deterministic prefix (up to the first dropout) once and the stochastic rest
    ``S`` times with dropout active (BatchNorm stays in eval mode).
    """
    x = check_array(x, "x", ndim=tuple(range(2, 6)), dtype=np.float32)
    _require_module(model)
    samples = check_integer(samples, "samples")
    seed = check_integer(seed, "seed", minimum=0)
    try:
        from ..uncertainty import predict_stochastic  # type: ignore[attr-defined]
    except ImportError:
        predict_stochastic = None
    if predict_stochastic is not None:
        with renamed_argument("data", "x"):
            out = predict_stochastic(
                model,
                x,
                method="mc_dropout",
                samples=samples,
                seed=seed,
                batch_size=batch_size,
                device=device,
            )
        return np.asarray(out, dtype=np.float64)
    prefix, rest = split_at_first_dropout(model)
    dev = torch.device(device)
    was = model.training
    model.eval()
    gen_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        feats = _batched(prefix, x, batch_size, dev)
        for m in rest.modules():
            if isinstance(m, nn.modules.dropout._DropoutNd):
                m.train()
        probs = torch.stack(
            [_batched(rest, feats, batch_size, dev).softmax(-1) for _ in range(samples)]
        )
    finally:
        model.train(was)
        torch.random.set_rng_state(gen_state)
    return probs.double().numpy()


class MCDropoutTrust(_Baseline):
    """``1 - H[mean_s p_s] / log C`` over ``samples`` MC-dropout passes (needs a dropout layer)."""

    def __init__(
        self,
        classifier: nn.Module,
        *,
        samples: int = 20,
        seed: int = 0,
        device: str = "cpu",
        batch_size_eval: int = 1024,
    ) -> None:
        self.classifier = classifier
        self.samples = samples
        self.seed = seed
        self.device = device
        self.batch_size_eval = batch_size_eval

    def fit(self, data: Any) -> MCDropoutTrust:
        """Check the classifier has dropout and record the number of classes. Returns self."""
        check_integer(self.samples, "samples")
        check_integer(self.seed, "seed", minimum=0)
        if not has_dropout(_require_module(self.classifier)):
            raise ValueError(
                "classifier: MC dropout needs a dropout layer, found none in "
                f"{type(self.classifier).__name__}"
            )
        self._fit_classes(data)
        return self

    def predict_trust(self, data: Any) -> np.ndarray:
        """Negative predictive entropy mapped to [0, 1] ``(N,)``."""
        self._check_fitted()
        with renamed_argument("x", "data"):
            p = mc_dropout_probs(
                self.classifier,
                inputs_of(data),
                self.samples,
                seed=self.seed,
                batch_size=self.batch_size_eval,
                device=self.device,
            ).mean(0)
        return np.clip(1.0 - entropy(p, axis=1) / np.log(p.shape[1]), 0.0, 1.0)


class TrustScoreTrust(_Baseline):
    """TrustScore (Jiang 2018) on classifier features, mapped to [0, 1] as ``r / (1 + r)``.

    Args:
        classifier: frozen classifier (any ``nn.Module``; its features at ``layer``).
        k, alpha: density filtering (α = fraction of least dense points dropped per class).
        features: ``"penultimate"`` (features at ``layer``) or ``"input"`` (flattened inputs).
        layer: the sub-module whose output is the feature (default: the input of the last
            ``nn.Linear``, :func:`samplescope.models.resolve_layer`).
        min_dist: added to the denominator of the ratio.
        algorithm: per-class index, ``"auto"`` (KD-tree up to 20 dimensions, else exact brute
            force), ``"kd_tree"`` or ``"brute"``.

    Fitted attributes: ``trees_`` (one cKDTree per class), ``num_classes_``, ``n_kept_``.
    """

    def __init__(
        self,
        classifier: nn.Module,
        *,
        k: int = 10,
        alpha: float = 0.1,
        features: str = "penultimate",
        min_dist: float = 1e-12,
        algorithm: str = "auto",
        layer: str | None = None,
        device: str = "cpu",
        batch_size_eval: int = 1024,
    ) -> None:
        self.classifier = classifier
        self.algorithm = algorithm
        self.layer = layer
        self.k = k
        self.alpha = alpha
        self.features = features
        self.min_dist = min_dist
        self.device = device
        self.batch_size_eval = batch_size_eval

    def _features(self, x: np.ndarray) -> np.ndarray:
        if self.features == "input":
            return x.reshape(len(x), -1).astype(np.float64)
        f = layer_features(
            self.classifier,
            x,
            layer=self.layer,
            batch_size=int(self.batch_size_eval),
            device=self.device,
        )
        return f.reshape(len(x), -1).double().numpy()

    def fit(self, data: Any) -> TrustScoreTrust:
        """Build the per-class KD-trees on the training split's features. Returns self."""
        check_choice(self.features, "features", ("penultimate", "input"))
        check_choice(self.algorithm, "algorithm", ALGORITHMS)
        check_integer(self.k, "k")
        check_integer(self.batch_size_eval, "batch_size_eval")
        check_fraction(self.alpha, "alpha", inclusive_high=False)
        check_positive(self.min_dist, "min_dist", strict=False)
        with renamed_argument("model", "classifier"):
            resolve_layer(_require_module(self.classifier), self.layer)
        split = as_split(data)
        if len(split) == 0:
            raise ValueError("data: expected at least one sample, got 0")
        num_classes = probe_classes(
            self.classifier, split.x, int(split.y.max()), device=self.device
        )
        feats = self._features(split.x)
        self.trees_ = fit_class_trees(
            feats,
            split.y,
            num_classes,
            k=int(self.k),
            alpha=float(self.alpha),
            algorithm=self.algorithm,
        )
        self.n_kept_ = [0 if t is None else int(t.n) for t in self.trees_]
        self.num_classes_ = num_classes
        self.neg_threshold_ = 0.5
        return self

    def predict_ratio(self, data: Any) -> np.ndarray:
        """Raw ratio ``(N,)`` ∈ [0, ∞] for the classifier's predicted classes."""
        self._check_fitted()
        x = inputs_of(data)
        pred = self._logits(x).argmax(1).numpy()
        return trust_score_ratio(self.trees_, self._features(x), pred, self.min_dist)

    def predict_trust(self, data: Any) -> np.ndarray:
        """``r / (1 + r)`` ``(N,)`` ∈ [0, 1] (1 where r = ∞)."""
        r = self.predict_ratio(data)
        with np.errstate(invalid="ignore"):
            return np.where(np.isinf(r), 1.0, r / (1.0 + r))
