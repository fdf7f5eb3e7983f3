"""Universal difficulty: per-sample generalization error by repeated stratified K-fold.

Zhou et al. (2022), eq. 2: ``err_i = E_T[ℓ(f(x_i | T), y_i)]``, the expected loss of sample
``i`` under models trained on random training sets ``T`` that do not contain it. We estimate
it by K-fold cross-validation repeated ``R`` times with different splits and seeds, so every
sample is held out exactly ``R`` times (one held-out prediction per repeat).

With held-out log-probabilities ``log p_r`` ``(R, N, C)`` and labels ``y``:

- ``gen_error_i = mean_r -log p_r[i, y_i]`` (mean held-out cross-entropy);
- Yang et al. (ICML 2020) cross-entropy decomposition: ``p̄ ∝ exp(mean_r log p_r)``
  (normalised geometric mean), ``gen_bias_i = -log p̄[y_i]``,
  ``gen_variance_i = mean_r KL(p̄ ‖ p_r) = -log Σ_c exp(mean_r log p_r[c]) ≥ 0``; exactly
  ``gen_error = gen_bias + gen_variance``;
- ``margin_mean`` / ``margin_var``: mean and variance over repeats of the *negative* logit
  margin ``max_{j≠y} z_j - z_y`` (so higher = harder, like the ``margin`` measure); Zhou's
  true margin is ``μ_i = -margin_mean`` and ``σ_i² = margin_var``;
- ``gen_error_eq6 = exp(-μ_i + σ_i²/2) = exp(margin_mean + margin_var/2)`` (Zhou eq. 6,
  Gaussian margins under the exponential loss);
- ``oof_loss``: the held-out cross-entropy of the first repeat only (one plain K-fold run,
  the baseline that the repeats and the decomposition improve on).

Every column is higher = harder. Folds are stratified (``StratifiedKFold(shuffle=True,
random_state=seed + r)`` for repeat ``r``, so repeat 0 uses exactly cleanlab's folds for
``estimate_cv_predicted_probabilities(..., seed=seed)``).

Each fold × repeat fit is one call of the top-level function
``fold_fn(train_split, heldout_split, seed, config) -> heldout logits (N_h, C)``
(default :func:`fit_predict_fold`), fanned out with :func:`samplescope.parallel.run_tasks`
and checkpointed to ``checkpoint_dir`` so a killed run resumes.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import log_softmax, logsumexp

from .._validation import check_choice, check_labels, check_positive
from ..data.split import DataSplit, as_split
from ..io.atomic import atomic_path, atomic_write_json
from ..io.scores import ScoreTable
from ..parallel import run_tasks
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

FoldFn = Callable[[DataSplit, DataSplit, int, "FoldConfig"], np.ndarray]


@dataclass(frozen=True)
class FoldConfig:
    """Everything one fold fit needs besides the data and the seed (picklable).

    Exactly one of ``model_fn`` (``seed -> nn.Module`` returning logits) and ``estimator``
    (an unfitted scikit-learn classifier with ``fit``/``predict_proba``, cloned per fit) is
    used; with neither, :func:`samplescope.models.default_model` of ``model_kind``.
    """

    num_classes: int
    epochs: int = 10
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 0.0
    optimizer: str = "adam"
    model_fn: Callable[[int], Any] | None = None
    model_kind: str | None = None
    estimator: Any = None
    device: str = "cpu"


@dataclass
class GenErrorResult:
    """Result of :func:`generalization_error`.

    Attributes:
        table: ScoreTable with :data:`GEN_ERROR_COLUMNS` (higher = harder), keyed by sample id.
        oof_logits: held-out logits ``(R, N, C)`` (log-probabilities for sklearn estimators),
            rows in the order of the input split.
        fold_ids: ``(R, N)`` int, the fold each sample was held out in, per repeat.
    """

    table: ScoreTable
    oof_logits: np.ndarray
    fold_ids: np.ndarray
    config: FoldConfig = field(repr=False)

    @property
    def oof_probs(self) -> np.ndarray:
        """Held-out probabilities ``(R, N, C)``."""
        return np.exp(log_softmax(self.oof_logits, axis=2))

    @property
    def mean_probs(self) -> np.ndarray:
        """Held-out probabilities averaged over repeats ``(N, C)`` (arithmetic mean)."""
        return self.oof_probs.mean(axis=0)


def fit_predict_fold(
    train: DataSplit, heldout: DataSplit, seed: int, config: FoldConfig
) -> np.ndarray:
    """Fit one model on ``train`` and return its held-out logits ``(len(heldout), C)``.

    A scikit-learn ``config.estimator`` is cloned and fitted on flattened inputs; its
    ``predict_proba`` columns are placed by ``classes_`` and returned as log-probabilities
    (clipped at 1e-12). A torch model is built by ``config.model_fn(seed)`` (or the default
    model), trained with :func:`samplescope.training.fit` and evaluated in eval mode.
    """
    C = config.num_classes
    if config.estimator is not None:
        from sklearn.base import clone

        est = clone(config.estimator)
        est.fit(train.x.reshape(len(train), -1), train.y)
        p = est.predict_proba(heldout.x.reshape(len(heldout), -1))
        full = np.zeros((len(heldout), C))
        full[:, np.asarray(est.classes_, dtype=np.int64)] = p
        return np.log(np.clip(full, 1e-12, None))
    import torch

    from ..models.nets import default_model
    from ..training.trainer import fit, predict_logits

    torch.manual_seed(seed)
    model = (
        config.model_fn(seed)
        if config.model_fn is not None
        else default_model(train.x.shape[1:], C, kind=config.model_kind)
    )
    fit(
        model,
        train,
        epochs=config.epochs,
        batch_size=config.batch_size,
        optimizer=config.optimizer,
        lr=config.lr,
        weight_decay=config.weight_decay,
        seed=seed,
        device=config.device,
        progress=False,
    )
    return predict_logits(model, heldout, device=config.device)


def stratified_fold_ids(labels: np.ndarray, folds: int, repeats: int, seed: int) -> np.ndarray:
    """``(R, N)`` fold index of every sample per repeat (``StratifiedKFold`` seeded ``seed + r``)."""
    import warnings

    from sklearn.model_selection import StratifiedKFold

    out = np.empty((repeats, len(labels)), dtype=np.int64)
    for r in range(repeats):
        kf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed + r)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="The least populated class")
            for k, (_, held) in enumerate(kf.split(labels, labels)):
                out[r, held] = k
    return out


def decompose_cross_entropy(log_probs: np.ndarray, labels: np.ndarray) -> dict[str, np.ndarray]:
    """Yang et al. (2020) bias-variance decomposition of the cross-entropy over ``R`` models.

    Args:
        log_probs: ``(R, N, C)`` log-probabilities of ``R`` models (normalised per row).
        labels: ``(N,)``.

    Returns:
        ``{"gen_error", "gen_bias", "gen_variance"}`` each ``(N,)``, with
        ``gen_error = mean_r -log p_r[y] = gen_bias + gen_variance``.
    """
    rows = np.arange(log_probs.shape[1])
    m = log_probs.mean(axis=0)  # (N, C) mean log-probabilities
    z = logsumexp(m, axis=1)  # log normaliser of the geometric mean, <= 0
    err = -m[rows, labels]
    bias = -(m[rows, labels] - z)
    var = np.maximum(-z, 0.0)
    return {"gen_error": err, "gen_bias": bias, "gen_variance": var}


def _neg_margins(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """``(R, N)`` negative logit margins ``max_{j≠y} z_j - z_y``."""
    rows = np.arange(logits.shape[1])
    zy = logits[:, rows, labels]
    other = logits.copy()
    other[:, rows, labels] = -np.inf
    return other.max(axis=2) - zy


def _aggregate(logits: np.ndarray, labels: np.ndarray) -> dict[str, np.ndarray]:
    cols = decompose_cross_entropy(log_softmax(logits, axis=2), labels)
    nm = _neg_margins(logits, labels)
    R = logits.shape[0]
    cols["margin_mean"] = nm.mean(axis=0)
    cols["margin_var"] = nm.var(axis=0, ddof=1) if R > 1 else np.zeros(logits.shape[1])
    cols["gen_error_eq6"] = np.exp(np.minimum(cols["margin_mean"] + cols["margin_var"] / 2, 700.0))
    cols["oof_loss"] = -log_softmax(logits[0], axis=1)[np.arange(logits.shape[1]), labels]
    return cols


def _run_fold(
    split: DataSplit,
    fold_fn: FoldFn,
    train_pos: np.ndarray,
    held_pos: np.ndarray,
    seed: int,
    config: FoldConfig,
    ckpt: str | None,
) -> np.ndarray:
    """Top-level task: fit one fold (rows ``train_pos`` of ``split``), predict rows
    ``held_pos`` and (optionally) checkpoint those held-out logits."""
    train, heldout = split.subset(train_pos), split.subset(held_pos)
    out = np.asarray(fold_fn(train, heldout, seed, config), dtype=np.float64)
    if ckpt is not None:
        with atomic_path(ckpt) as tmp, open(tmp, "wb") as fh:
            np.save(fh, out)
    return out


def _fingerprint(
    s: DataSplit, folds: int, repeats: int, seed: int, config: FoldConfig, precision: str = "fp32"
) -> str:
    h = hashlib.sha256()
    for a in (s.sample_id, s.y):
        h.update(np.ascontiguousarray(a).tobytes())
    h.update(np.ascontiguousarray(s.x[:: max(1, len(s) // 64)]).tobytes())
    desc = {k: repr(v) for k, v in sorted(vars(config).items()) if k not in ("device",)}
    if precision != "fp32":  # fp32 runs keep the fingerprints of their existing checkpoints
        desc["precision"] = precision
    h.update(
        json.dumps(
            {"folds": folds, "repeats": repeats, "seed": seed, **desc}, sort_keys=True
        ).encode()
    )
    return h.hexdigest()[:16]


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
    executor: Any = None,
    checkpoint_dir: str | os.PathLike | None = None,
    progress: bool = True,
    device: str = "cpu",
    fold_fn: FoldFn | None = None,
    vectorize: bool | str = "auto",
    precision: str = "fp32",
) -> GenErrorResult:
    """Per-sample generalization error by ``repeats`` × stratified ``folds``-fold cross-validation.

    Args:
        data: a :class:`DataSplit`, ``(x, y)`` arrays or a torch Dataset; ``N`` samples.
        num_classes: ``C``.
        folds: ``K >= 2`` (Zhou uses 5). repeats: ``R >= 1`` held-out predictions per sample.
        model_fn: ``seed -> nn.Module`` (picklable for process/dask executors).
        estimator: alternatively any scikit-learn classifier with ``fit``/``predict_proba``.
        model_kind: kind for :func:`default_model` when neither is given.
        epochs, batch_size, lr, weight_decay, optimizer: training of each torch fit.
        seed: fold splits use ``seed + r``; fit ``(r, k)`` trains with seed ``seed*10007 + r*K + k``.
        executor: see :func:`samplescope.parallel.run_tasks`.
        checkpoint_dir: finished fits are saved there; a rerun with the same inputs reuses them.
        progress: show a progress bar (in-process execution).
        fold_fn: replaces :func:`fit_predict_fold` (same signature, top-level for pickling).
        vectorize: ``"auto"`` (default) trains all pending torch fits stacked at once
            (:func:`samplescope.parallel.heldout_logits`, identical results) when the model is
            a small MLP where stacking wins (:func:`samplescope.parallel.should_vectorize`);
            ``True`` forces it, ``False`` trains the fits one by one.
        precision: ``"fp32"`` (default) or ``"bf16"``: mixed-precision training of the
            stacked fits (bf16 matmuls, fp32 master weights/optimizer/loss; see
            :func:`samplescope.parallel.fit_many` for its speed and agreement). Stacked
            trainer only: with ``"bf16"``, ``vectorize="auto"`` stacks every supported torch
            MLP, and a setting that needs one-by-one fits (an estimator, a ``fold_fn``, a
            non-CPU device, an unsupported network, ``vectorize=False``) raises ValueError.
            Part of the ``checkpoint_dir`` fingerprint when not ``"fp32"``.

    Returns:
        :class:`GenErrorResult` (``.table`` with :data:`GEN_ERROR_COLUMNS`, ``.oof_logits``
        ``(R, N, C)``, ``.oof_probs``, ``.fold_ids``).
    """
    s = as_split(data)
    check_choice(precision, "precision", ("fp32", "bf16"))
    if not isinstance(num_classes, (int, np.integer)) or num_classes < 2:
        raise ValueError(f"num_classes: expected an integer >= 2, got {num_classes!r}")
    C = int(num_classes)
    y = check_labels(s.y, "data labels", num_classes=C)
    if not isinstance(folds, (int, np.integer)) or folds < 2:
        raise ValueError(f"folds: expected an integer >= 2, got {folds!r}")
    if not isinstance(repeats, (int, np.integer)) or repeats < 1:
        raise ValueError(f"repeats: expected an integer >= 1, got {repeats!r}")
    counts = np.bincount(y, minlength=C)
    if counts.max() < folds:
        raise ValueError(
            f"folds: expected at most {counts.max()} folds (the largest class size), got {folds}"
        )
    if len(s) < 2 * folds:
        raise ValueError(
            f"data: expected at least {2 * folds} samples for {folds} folds, got {len(s)}"
        )
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
    if estimator is None:
        epochs = int(check_positive(epochs, "epochs"))
        batch_size = int(check_positive(batch_size, "batch_size"))
        check_positive(lr, "lr")
    config = FoldConfig(
        C, epochs, batch_size, lr, weight_decay, optimizer, model_fn, model_kind, estimator, device
    )
    fold_fn = fold_fn or fit_predict_fold
    fold_ids = stratified_fold_ids(y, int(folds), int(repeats), int(seed))

    ckdir: Path | None = None
    if checkpoint_dir is not None:
        ckdir = Path(checkpoint_dir)
        ckdir.mkdir(parents=True, exist_ok=True)
        fp = _fingerprint(s, folds, repeats, seed, config, precision)
        meta = ckdir / "gen_error_meta.json"
        if meta.is_file():
            old = json.loads(meta.read_text()).get("fingerprint")
            if old != fp:
                raise ValueError(
                    f"checkpoint_dir: {ckdir} holds fits of a different run (fingerprint {old} != {fp}); "
                    "use an empty folder"
                )
        else:
            atomic_write_json(
                meta,
                {"fingerprint": fp, "folds": int(folds), "repeats": int(repeats), "seed": seed},
            )

    logits = np.full((repeats, len(s), C), np.nan)
    pending: list[tuple[int, int, tuple[Any, ...]]] = []
    for r in range(repeats):
        for k in range(folds):
            held = np.flatnonzero(fold_ids[r] == k)
            ck = None if ckdir is None else ckdir / f"fit_r{r}_k{k}.npy"
            if ck is not None and ck.is_file():
                logits[r, held] = np.load(ck, allow_pickle=False)
                continue
            # positions, not data: the split travels once per worker (run_tasks(common=...))
            task = (
                fold_fn,
                np.flatnonzero(fold_ids[r] != k),
                held,
                int(seed) * 10007 + r * folds + k,
                config,
                None if ck is None else str(ck),
            )
            pending.append((r, k, task))

    def place(r: int, k: int, out: np.ndarray) -> None:
        held = np.flatnonzero(fold_ids[r] == k)
        if out.shape != (len(held), C):
            raise ValueError(
                f"fold_fn: expected held-out logits of shape {(len(held), C)}, got {out.shape}"
            )
        logits[r, held] = out

    if pending and _use_vectorized(vectorize, config, fold_fn, len(pending), s, precision):
        _run_vectorized(pending, s, fold_ids, folds, config, executor, progress, place, precision)
        pending = []
    if executor is None or executor == "inprocess":
        bar = None
        if progress and pending:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(pending), desc="K-fold fits", leave=False)
        for r, k, task in pending:
            place(r, k, _run_fold(s, *task))
            if bar is not None:
                bar.update(1)
        if bar is not None:
            bar.close()
    elif pending:
        outs = run_tasks(_run_fold, [t for _, _, t in pending], executor, common=(s,))
        for (r, k, _), out in zip(pending, outs, strict=True):
            place(r, k, out)
    if not np.isfinite(logits).all():
        raise ValueError("fold_fn: held-out logits contain non-finite values")
    cols = _aggregate(logits, y)
    table = ScoreTable.from_arrays(s.sample_id, y, true_label=s.true_y, **cols)
    return GenErrorResult(table, logits, fold_ids, config)


def _default_model_fn(input_shape: tuple[int, ...], C: int, kind: str | None) -> Any:
    from ..models.nets import default_model

    return default_model(input_shape, C, kind=kind)


def _config_model_fn(
    config: FoldConfig, input_shape: tuple[int, ...]
) -> tuple[Callable[..., Any], bool]:
    """``(model_fn, seeded)``: what :func:`fit_predict_fold` would build, for the stacked trainer."""
    if config.model_fn is not None:
        return config.model_fn, True
    return functools.partial(
        _default_model_fn, input_shape, config.num_classes, config.model_kind
    ), False


def _use_vectorized(
    vectorize: bool | str,
    config: FoldConfig,
    fold_fn: FoldFn,
    n_fits: int,
    s: DataSplit,
    precision: str = "fp32",
) -> bool:
    if vectorize not in (True, False, "auto"):
        raise ValueError(f"vectorize: expected True, False or 'auto', got {vectorize!r}")
    blocked = (
        vectorize is False
        or config.estimator is not None
        or fold_fn is not fit_predict_fold
        or config.device != "cpu"
    )
    if blocked and precision != "fp32":
        est = None if config.estimator is None else type(config.estimator).__name__
        raise ValueError(
            f"precision: {precision!r} needs the stacked trainer (a torch MLP, the default "
            f"fold_fn, device 'cpu', vectorize not False), got vectorize={vectorize!r}, "
            f"estimator={est}, device={config.device!r}"
        )
    if blocked:
        return False
    if vectorize is True:
        return True
    import torch

    from ..parallel.vectorized import should_vectorize

    mf, seeded = _config_model_fn(config, tuple(s.x.shape[1:]))
    torch.manual_seed(0)
    probe = mf(0) if seeded else mf()
    vec = should_vectorize(
        probe,
        n_fits,
        batch_size=config.batch_size,
        optimizer=config.optimizer,
        precision=precision,
    )
    if not vec and precision != "fp32":
        raise ValueError(
            f"precision: {precision!r} needs the stacked trainer: an nn.Sequential of "
            "Flatten/Linear/element-wise activations/Dropout, optimizer adam/adamw/sgd, stacked "
            "weights within the memory budget, "
            f"got optimizer={config.optimizer!r}, model {type(probe).__name__}"
        )
    return vec


def _run_vectorized(
    pending: list[tuple[int, int, tuple[Any, ...]]],
    s: DataSplit,
    fold_ids: np.ndarray,
    folds: int,
    config: FoldConfig,
    executor: Any,
    progress: bool,
    place: Callable[[int, int, np.ndarray], None],
    precision: str = "fp32",
) -> None:
    """Train every pending fit stacked (same seeds, same results as one by one) and place them."""
    from ..parallel.vectorized import heldout_logits

    mf, seeded = _config_model_fn(config, tuple(s.x.shape[1:]))
    pairs = [
        (np.flatnonzero(fold_ids[r] != k), np.flatnonzero(fold_ids[r] == k)) for r, k, _ in pending
    ]
    seeds = [int(task[3]) for _, _, task in pending]
    outs = heldout_logits(
        mf,
        s,
        pairs,
        seeds=seeds,
        init_seeds=seeds,
        epochs=config.epochs,
        batch_size=config.batch_size,
        optimizer=config.optimizer,
        lr=config.lr,
        weight_decay=config.weight_decay,
        vectorize=True,
        executor=executor,
        seeded_model_fn=seeded,
        progress=progress,
        precision=precision,
    )
    for (r, k, task), out in zip(pending, outs, strict=True):
        out = np.asarray(out, dtype=np.float64)
        place(r, k, out)
        if task[-1] is not None:
            with atomic_path(task[-1]) as tmp, open(tmp, "wb") as fh:
                np.save(fh, out)


def _kfold_measure(column: str) -> Callable[..., np.ndarray]:
    def fn(data: Any, num_classes: int, **kwargs: Any) -> np.ndarray:
        return generalization_error(data, num_classes, **kwargs).table.column(column)

    fn.__name__ = f"{column}_score"
    fn.__doc__ = f"``{column}`` column of :func:`generalization_error` (higher = harder)."
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
    register_measure(_col, "kfold", _DESCRIPTIONS[_col])(_kfold_measure(_col))
