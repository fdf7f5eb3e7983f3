"""Universal difficulty: per-sample generalization error by repeated stratified K-fold.

Zhou et al. (2022), eq. 2: ``err_i = E_T[ℓ(f(x_i | T), y_i)]``, the expected loss of sample
``i`` under models trained on random training sets ``T`` that do not contain it. We estimate
it with the cross-fitting engine (:func:`samplescope.training.crossfit`): K-fold repeated
``R`` times with different splits and seeds, so every sample is held out exactly ``R`` times.

With held-out log-probabilities ``log p_r`` ``(R, N, C)`` and labels ``y``:

- ``gen_error_i = mean_r -log p_r[i, y_i]`` (mean held-out cross-entropy);
- Yang et al. (ICML 2020) cross-entropy decomposition: ``p̄ ∝ exp(mean_r log p_r)``
  (normalised geometric mean), ``gen_bias_i = -log p̄[y_i]``,
  ``gen_variance_i = mean_r KL(p̄ ‖ p_r) = -log Σ_c exp(mean_r log p_r[c]) ≥ 0``; exactly
  ``gen_error = gen_bias + gen_variance`` (with one repeat ``gen_variance`` is exactly 0);
- ``margin_mean`` / ``margin_var``: mean and variance over repeats of the *negative* logit
  margin ``max_{j≠y} z_j - z_y`` (so higher = harder, like the ``margin`` measure); Zhou's
  true margin is ``μ_i = -margin_mean`` and ``σ_i² = margin_var``;
- ``gen_error_eq6 = exp(-μ_i + σ_i²/2) = exp(margin_mean + margin_var/2)`` (Zhou eq. 6,
  Gaussian margins under the exponential loss);
- ``oof_loss``: the held-out cross-entropy of the first repeat only (one plain K-fold run,
  the baseline that the repeats and the decomposition improve on).

Every column is higher = harder. Folds, seeds, learners, executors and checkpoints are the
engine's (:mod:`samplescope.training.cross_fitting`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.special import logsumexp

from .._validation import check_array, check_integer, check_labels, check_positive
from ..data.split import as_split
from ..functional import log_softmax, logit_margin, softmax
from ..io.scores import ScoreTable
from ..training.cross_fitting import crossfit
from ..training.folds import FoldConfig, FoldFn, fit_predict_fold, fold_assignments
from .registry import register_measure

__all__ = [
    "FoldConfig",
    "GenErrorResult",
    "fit_predict_fold",
    "generalization_error",
    "decompose_cross_entropy",
    "stratified_fold_ids",
    "GEN_ERROR_COLUMNS",
]

GEN_ERROR_COLUMNS = (
    "gen_error",
    "gen_bias",
    "gen_variance",
    "margin_mean",
    "margin_var",
    "gen_error_eq6",
    "oof_loss",
)

stratified_fold_ids = fold_assignments  # the engine's fold assignment, under its old name


@dataclass
class GenErrorResult:
    """Result of :func:`generalization_error`.

    Attributes:
        table: ScoreTable with :data:`GEN_ERROR_COLUMNS` (higher = harder), keyed by sample id.
        oof_logits: held-out logits ``(R, N, C)`` (log-probabilities for sklearn estimators),
            rows in the order of the input split.
        fold_ids: ``(R, N)`` int, the fold each sample was held out in, per repeat.
        models: ``models[r][k]`` when ``return_models=True``, else None.
    """

    table: ScoreTable
    oof_logits: np.ndarray
    fold_ids: np.ndarray
    config: FoldConfig = field(repr=False)
    models: list[list[Any]] | None = field(default=None, repr=False)

    @property
    def oof_probs(self) -> np.ndarray:
        """Held-out probabilities ``(R, N, C)``."""
        return softmax(self.oof_logits, axis=2)

    @property
    def mean_probs(self) -> np.ndarray:
        """Held-out probabilities averaged over repeats ``(N, C)`` (arithmetic mean)."""
        return self.oof_probs.mean(axis=0)


def decompose_cross_entropy(
    log_probs: np.ndarray | None = None,
    labels: np.ndarray | None = None,
    *,
    logits: np.ndarray | None = None,
    atol: float = 1e-4,
) -> dict[str, np.ndarray]:
    """Yang et al. (2020) bias-variance decomposition of the cross-entropy over ``R`` models.

    Args:
        log_probs: ``(R, N, C)`` normalised log-probabilities of ``R`` models
            (``logsumexp`` over classes within ``atol`` of 0 for every row; else ValueError).
        labels: ``(N,)`` ints in ``[0, C)``.
        logits: instead of ``log_probs``, raw logits ``(R, N, C)`` (log-softmaxed here).

    Returns:
        ``{"gen_error", "gen_bias", "gen_variance"}`` each ``(N,)``, with
        ``gen_error = mean_r -log p_r[y] = gen_bias + gen_variance``; ``gen_variance`` is
        exactly 0 (and ``gen_bias == gen_error``) when ``R == 1``.
    """
    if (log_probs is None) == (logits is None):
        raise ValueError(
            "log_probs: expected exactly one of log_probs= or logits=, got "
            f"{'both' if log_probs is not None else 'neither'}"
        )
    if labels is None:
        raise ValueError("labels: expected an (N,) integer array, got None")
    name = "log_probs" if logits is None else "logits"
    # log 0 = -inf is a valid log-probability; NaN and +inf are checked below
    a = check_array(log_probs if logits is None else logits, name, ndim=3, finite=False)
    ok = np.isfinite(a) | (a == -np.inf) if logits is None else np.isfinite(a)
    if not ok.all():
        raise ValueError(f"{name}: expected finite values, got NaN or inf")
    if a.shape[2] < 2:
        raise ValueError(f"{name}: expected (R, N, C) with C >= 2 classes, got shape {a.shape}")
    labels = check_labels(labels, "labels", num_classes=a.shape[2], n=a.shape[1])
    if logits is not None:
        a = log_softmax(a, axis=2)
    else:
        worst = float(np.abs(logsumexp(a, axis=2)).max()) if a.size else 0.0
        if worst > atol:
            raise ValueError(
                "log_probs: expected normalised log-probabilities (logsumexp over classes = 0), "
                f"got rows off by up to {worst:.3g}; pass logits= for raw logits"
            )
    rows = np.arange(a.shape[1])
    m = a.mean(axis=0)  # (N, C) mean log-probabilities
    err = -m[rows, labels]
    if a.shape[0] == 1:  # one model: no variance, exactly (not float noise ~1e-16)
        return {"gen_error": err, "gen_bias": err.copy(), "gen_variance": np.zeros_like(err)}
    z = logsumexp(m, axis=1)  # log normaliser of the geometric mean, <= 0
    return {
        "gen_error": err,
        "gen_bias": -(m[rows, labels] - z),
        "gen_variance": np.maximum(-z, 0.0),
    }


def _aggregate(logits: np.ndarray, labels: np.ndarray) -> dict[str, np.ndarray]:
    cols = decompose_cross_entropy(logits=logits, labels=labels)
    nm = logit_margin(logits, labels)  # (R, N) negative margins max_{j≠y} z_j - z_y
    R = logits.shape[0]
    cols["margin_mean"] = nm.mean(axis=0)
    cols["margin_var"] = nm.var(axis=0, ddof=1) if R > 1 else np.zeros(logits.shape[1])
    cols["gen_error_eq6"] = np.exp(np.minimum(cols["margin_mean"] + cols["margin_var"] / 2, 700.0))
    cols["oof_loss"] = -log_softmax(logits[0], axis=1)[np.arange(logits.shape[1]), labels]
    return cols


def generalization_error(
    data: Any,
    num_classes: int,
    *,
    folds: int = 5,
    repeats: int = 3,
    model_fn: Callable[[int], Any] | None = None,
    estimator: Any = None,
    model_kind: str | None = None,
    epochs: int = 10,
    batch_size: int = 128,
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    optimizer: str = "adam",
    seed: int = 0,
    device: str = "cpu",
    fold_fn: FoldFn | None = None,
    checkpoint_dir: str | os.PathLike | None = None,
    progress: bool = True,
    **engine: Any,
) -> GenErrorResult:
    """Per-sample generalization error by ``repeats`` × stratified ``folds``-fold cross-fitting.

    Args:
        data: a :class:`DataSplit`, ``(x, y)`` arrays or a torch Dataset; ``N`` samples.
        num_classes: ``C``.
        folds: ``K >= 2`` (Zhou uses 5). repeats: ``R >= 1`` held-out predictions per sample.
        model_fn: ``seed -> nn.Module`` (picklable for process/dask executors); or
        estimator: any scikit-learn classifier with ``fit``/``predict_proba``; or
        model_kind: the :func:`samplescope.models.default_model` kind (neither given).
        epochs, batch_size, lr, weight_decay, optimizer, device: training of each torch fit.
        seed: the engine's seed scheme (folds ``seed + r``; fit ``(r, k)``
            ``seed·10007 + r·K + k``, :func:`samplescope.training.folds.fit_seed`).
        fold_fn: replaces :func:`fit_predict_fold` (same signature, top-level for pickling).
        checkpoint_dir: finished fits are saved there; a rerun with the same inputs resumes.
        progress: a progress bar over the fits.
        engine: the rest of :func:`samplescope.training.crossfit` — ``vectorize``,
            ``precision`` (``"bf16"``: mixed precision, stacked only), ``exact``,
            ``executor``, ``workers``, ``address``, ``group_size``, ``return_models``.

    Returns:
        :class:`GenErrorResult` (``.table`` with :data:`GEN_ERROR_COLUMNS`, ``.oof_logits``
        ``(R, N, C)``, ``.oof_probs``, ``.fold_ids``, ``.models``).
    """
    s = as_split(data)
    if model_fn is not None and estimator is not None:
        raise ValueError("estimator: expected either model_fn or estimator, got both")
    if estimator is not None and not (
        hasattr(estimator, "fit") and hasattr(estimator, "predict_proba")
    ):
        raise ValueError(
            f"estimator: expected a classifier with fit and predict_proba, got {type(estimator).__name__}"
        )
    if model_fn is not None and not callable(model_fn):
        raise ValueError(
            f"model_fn: expected a callable seed -> nn.Module, got {type(model_fn).__name__}"
        )
    if not isinstance(num_classes, (int, np.integer)) or num_classes < 2:
        raise ValueError(f"num_classes: expected an integer >= 2, got {num_classes!r}")
    if estimator is None:
        epochs, batch_size = (
            check_integer(epochs, "epochs"),
            check_integer(batch_size, "batch_size"),
        )
        check_positive(lr, "lr")
    config = FoldConfig(
        int(num_classes),
        epochs,
        batch_size,
        lr,
        weight_decay,
        optimizer,
        model_fn,
        model_kind,
        estimator,
        device,
    )
    res = crossfit(
        s,
        config,
        folds=folds,
        repeats=repeats,
        seed=seed,
        fold_fn=fold_fn,
        checkpoint_dir=checkpoint_dir,
        progress=progress,
        **engine,
    )
    table = ScoreTable.from_arrays(
        s.sample_id, s.y, true_label=s.true_y, **_aggregate(res.oof_logits, s.y)
    )
    return GenErrorResult(table, res.oof_logits, res.fold_ids, config, res.models)


def column_measure(estimator: Callable[..., Any], column: str) -> Callable[..., np.ndarray]:
    """A registry measure ``(data, num_classes, **kw) -> (N,)``: one column of ``estimator``'s
    result table (:func:`generalization_error`, :func:`fast_generalization_error`)."""

    def fn(data: Any, num_classes: int, **kwargs: Any) -> np.ndarray:
        return estimator(data, num_classes, **kwargs).table.column(column)

    fn.__name__ = f"{column}_score"
    fn.__doc__ = f"``{column}`` column of :func:`{estimator.__name__}` (higher = harder)."
    return fn


_DESCRIPTIONS = {
    "gen_error": "Zhou eq. 2: mean held-out cross-entropy over R repeats of stratified K-fold",
    "gen_bias": "Yang 2020 CE bias -log p_bar[y], p_bar = normalised geometric mean of held-out probs",
    "gen_variance": "Yang 2020 CE variance mean_r KL(p_bar || p_r) of held-out predictions",
    "margin_mean": "mean over repeats of the held-out negative logit margin max_{j!=y} z_j - z_y",
    "margin_var": "variance over repeats of the held-out logit margin (Zhou sigma^2)",
    "gen_error_eq6": "Zhou eq. 6: exp(-mu + sigma^2/2) from the held-out margin mean/variance",
    "oof_loss": "held-out cross-entropy of one K-fold run (the first repeat): the plain out-of-fold loss",
}
for _col in GEN_ERROR_COLUMNS:
    register_measure(_col, "kfold", _DESCRIPTIONS[_col])(column_measure(generalization_error, _col))
