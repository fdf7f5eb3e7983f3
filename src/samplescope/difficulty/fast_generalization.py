"""``gen_error_fast``: the generalization error at about the cost of one training run (issue 14).

Zhou et al. (2022)'s universal difficulty, ``gen_error_i = E_T[ℓ(f(x_i | T), y_i)]`` over
training sets ``T`` without ``i`` (:func:`samplescope.difficulty.generalization_error`, 5
folds × R repeats, ``5R`` trainings), is estimated here from ONE stacked training run of the
``2R`` half-data models of ``R`` × 2-fold cross-fitting (default ``R = 2``; the stacked
trainer, :func:`samplescope.training.stacked.fit_many`, trains them as one batched network):

- **held-out part** — each sample is held out by the ``R`` models that did not train on it;
  their logits ``(R, N, C)`` give the Yang et al. (2020) decomposition
  (:func:`decompose_cross_entropy`): ``gen_error_fast_heldout = mean_r -log p_r[y]
  = gen_error_fast_bias + gen_error_fast_variance`` (nats). These equal the columns of
  ``generalization_error(folds=2, repeats=R)`` (same folds, seeds and trainer);
- **in-sample part** — the same run records, for the ``R`` models that DID train on the
  sample, the logit margin ``z_y - max_{j≠y} z_j`` of every update in which it appeared
  (``fit_many(record_margins=True)``): ``gen_error_fast_aum = -AUM``, Pleiss et al. (2020)'s
  area under the margin, pooled over those models (higher = harder);
- **combination** — the weighted mean of the two percentile ranks,
  ``q_i = w · rank(aum)_i / N + (1 - w) · rank(heldout)_i / N``, mapped back onto the
  held-out losses' own distribution (the sample with the k-th smallest ``q`` gets the k-th
  smallest ``gen_error_fast_heldout``): ``gen_error_fast`` is in nats and ranks the samples
  as ``q`` does. ``w`` = :data:`FAST_AUM_WEIGHT`, fitted on the digits settings of
  ``benchmarks/cheap_gen_error.py --fit-weight`` only (highest mean clean-sample Spearman with
  the 5 × 4 K-fold ``gen_error``) and reported there on MNIST / Fashion-MNIST.

Why both: half-data held-out losses are noisier than 5-fold ones (models see 50% of the data,
not 80%), in-sample margins collapse for memorised samples; their errors are weakly
correlated, and the rank mean beats both (benchmark, README "Difficulty").

Cost: ``2R`` fits on ``N/2`` rows = ``R`` trainings' worth of sample-gradient steps. Stacked
(small MLPs on a CPU, overhead-bound), ``R = 2`` measured 1.2-1.4× one plain training run
(``benchmarks/results/cheap_gen_error.json``); for compute-bound networks (CNNs, GPUs) expect
about ``R``× (``repeats=1``: one training's steps, no variance column).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from scipy.stats import rankdata

from .._validation import (
    check_fraction,
    check_integer,
    check_labels,
    check_num_classes,
    check_positive,
    check_scores,
)
from ..data.split import DataSplit, as_split
from ..executors import run_tasks
from ..functional import softmax
from ..io.scores import ScoreTable
from ..models.factory import seeded_model_fn
from ..models.nets import default_model
from ..training.callbacks import BatchResult, Callback
from ..training.folds import FoldConfig, fit_seed, fold_assignments
from ..training.stacked import build_model, can_vectorize, fit_many, should_vectorize
from ..training.trainer import fit, predict_logits
from .generalization import column_measure, decompose_cross_entropy
from .registry import register_measure

__all__ = [
    "FAST_AUM_WEIGHT",
    "FAST_GEN_ERROR_COLUMNS",
    "FastGenErrorResult",
    "fast_generalization_error",
    "rank_combine",
]

#: weight of the in-sample AUM rank in ``gen_error_fast`` (fitted on digits only, see module)
FAST_AUM_WEIGHT = 0.35

FAST_GEN_ERROR_COLUMNS = (
    "gen_error_fast",
    "gen_error_fast_bias",
    "gen_error_fast_variance",
    "gen_error_fast_heldout",
    "gen_error_fast_aum",
)


@dataclass
class FastGenErrorResult:
    """Result of :func:`fast_generalization_error`.

    Attributes:
        table: ScoreTable with :data:`FAST_GEN_ERROR_COLUMNS` (higher = harder).
        oof_logits: ``(R, N, C)`` held-out logits (rows in the order of the input split).
        fold_ids: ``(R, N)`` the fold (0 or 1) each sample was held out in, per repeat.
        margin_sum, margin_count: ``(2R, N)`` in-sample margin sums / update counts per model
            (model ``r·2 + k`` trained on fold ``1 - k`` of repeat ``r``).
        aum_weight: the ``w`` of the combination.
    """

    table: ScoreTable
    oof_logits: np.ndarray
    fold_ids: np.ndarray
    margin_sum: np.ndarray
    margin_count: np.ndarray
    aum_weight: float
    config: FoldConfig = field(repr=False)
    stacked: bool = True

    @property
    def oof_probs(self) -> np.ndarray:
        """Held-out probabilities ``(R, N, C)``."""
        return softmax(self.oof_logits, axis=2)


def rank_combine(heldout: Any, aum_score: Any, weight: float = FAST_AUM_WEIGHT) -> np.ndarray:
    """``gen_error_fast`` from its two parts: the rank mean mapped onto ``heldout``'s values.

    ``q = weight · rank(aum_score) / N + (1 - weight) · rank(heldout) / N`` (average ranks of
    ties); the sample with the k-th smallest ``q`` (ties by position) gets the k-th smallest
    ``heldout`` value. Both inputs ``(N,)`` higher = harder; returns ``(N,)``.
    """
    h = check_scores(heldout, "heldout").astype(np.float64)
    a = check_scores(aum_score, "aum_score", n=len(h)).astype(np.float64)
    w = check_fraction(weight, "weight")
    n = len(h)
    q = w * rankdata(a) + (1 - w) * rankdata(h)  # (÷ N: the same order)
    out = np.empty(n)
    out[np.argsort(q, kind="stable")] = np.sort(h)
    return out


class _Margins(Callback):
    """Per-position margin sums / counts over the training batches (one-by-one path)."""

    def __init__(self, n: int) -> None:
        self.sum_, self.count_ = np.zeros(n), np.zeros(n)

    def on_batch_end(self, state: Any, batch: BatchResult) -> None:
        z = batch.logits.detach().float().cpu()
        y = batch.labels.cpu()
        top2 = z.topk(2, dim=1)
        right = top2.indices[:, 0] == y
        zy = z.gather(1, y.unsqueeze(1)).squeeze(1)
        margin = zy - torch.where(right, top2.values[:, 1], top2.values[:, 0])
        pos = batch.positions.cpu().numpy()
        np.add.at(self.sum_, pos, margin.double().numpy())
        np.add.at(self.count_, pos, 1.0)


def _fit_recorded(
    split: DataSplit, train_idx: np.ndarray, held_idx: np.ndarray, seed: int, config: FoldConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Top-level task: one half-data fit with the margin recorder (not stackable networks)."""
    net = config.build(tuple(split.x.shape[1:]), seed)
    rec = _Margins(len(train_idx))
    fit(
        net,
        split.subset(train_idx),
        seed=seed,
        callbacks=[rec],
        device=config.device,
        progress=False,
        **config.train_options(),
    )
    held = predict_logits(net, split.subset(held_idx), device=config.device)
    m_sum, m_cnt = np.zeros(len(split)), np.zeros(len(split))
    m_sum[train_idx], m_cnt[train_idx] = rec.sum_, rec.count_
    return np.asarray(held, dtype=np.float64), m_sum, m_cnt


def _factory(config: FoldConfig, shape: tuple[int, ...]) -> tuple[Callable[..., Any], bool]:
    if config.model_fn is not None:
        return config.model_fn, True
    return functools.partial(
        default_model, shape, config.num_classes, kind=config.model_kind
    ), False


def fast_generalization_error(
    data: Any,
    num_classes: int,
    *,
    repeats: int = 2,
    aum_weight: float = FAST_AUM_WEIGHT,
    model_fn: Callable[[int], Any] | None = None,
    model_kind: str | None = None,
    epochs: int = 10,
    batch_size: int = 128,
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    optimizer: str = "adam",
    seed: int = 0,
    device: str = "cpu",
    vectorize: bool | str = "auto",
    executor: Any = None,
    workers: int | None = None,
    progress: bool = False,
) -> FastGenErrorResult:
    """``gen_error_fast`` (+ bias / variance / held-out / AUM parts) in one run; see the module.

    Args:
        data: a :class:`DataSplit`, ``(x, y)`` arrays or a torch Dataset; ``N`` samples.
        num_classes: ``C``.
        repeats: ``R >= 1`` 2-fold splits (``StratifiedKFold`` seeded ``seed + r``, as
            :func:`samplescope.training.fold_assignments`); ``R = 1`` has no variance.
        aum_weight: ``w`` in ``[0, 1]`` (0: the held-out loss only, 1: the AUM only).
        model_fn: ``seed -> nn.Module`` or a zero-argument factory (else
            :func:`samplescope.models.default_model` of ``model_kind``); epochs, batch_size, lr, weight_decay, optimizer: each fit's training.
        seed: fits use :func:`samplescope.training.fit_seed` ``(seed, r, k, 2)``.
        device: ``"cpu"`` trains stacked where it wins; another device trains the ``2R`` fits
            one by one there (same recorder, ``R`` trainings' worth of compute).
        vectorize: ``"auto"`` | True | False, as :func:`samplescope.training.crossfit`.
        executor, workers: fan-out of the stacked groups (or of the one-by-one fits).
        progress: a progress bar.

    Returns:
        :class:`FastGenErrorResult`; ``.table`` has :data:`FAST_GEN_ERROR_COLUMNS`.
    """
    s = as_split(data)
    repeats = check_integer(repeats, "repeats")
    aum_weight = check_fraction(aum_weight, "aum_weight")
    check_positive(lr, "lr")
    if vectorize not in (True, False, "auto"):
        raise ValueError(f"vectorize: expected True, False or 'auto', got {vectorize!r}")
    if model_fn is not None:
        if not callable(model_fn):
            raise ValueError(f"model_fn: expected a callable (seed -> nn.Module), got {model_fn!r}")
        model_fn = seeded_model_fn(model_fn)  # zero-argument factories too (one convention)
    config = FoldConfig(
        check_num_classes(num_classes),
        epochs,
        batch_size,
        lr,
        weight_decay,
        optimizer,
        model_fn,
        model_kind,
        None,
        device,
    )
    C = config.num_classes
    y = check_labels(s.y, "data labels", num_classes=C)
    if len(s) < 4 or int(np.bincount(y, minlength=C).max()) < 2:
        raise ValueError(
            f"data: expected at least 4 samples and a class with 2 for 2 folds, got {len(s)}"
        )
    fold_ids = fold_assignments(y, 2, repeats, seed)
    fits = [(r, k) for r in range(repeats) for k in range(2)]
    seeds = [fit_seed(seed, r, k, 2) for r, k in fits]
    train_sets = [np.flatnonzero(fold_ids[r] != k) for r, k in fits]
    held_sets = [np.flatnonzero(fold_ids[r] == k) for r, k in fits]
    shape = tuple(s.x.shape[1:])
    mf, seeded = _factory(config, shape)
    stacked = vectorize is not False and device == "cpu"
    if stacked:
        probe = build_model(mf, seeds[0], seeded)
        stacked = can_vectorize(probe) and (
            vectorize is True
            or should_vectorize(probe, len(fits), batch_size=batch_size, optimizer=optimizer)
        )
    if vectorize is True and not stacked:
        raise ValueError(
            "vectorize: True needs device 'cpu' and an nn.Sequential of Flatten/Linear/"
            f"element-wise activations/Dropout, got device {device!r}"
        )
    logits = np.empty((repeats, len(s), C))
    if stacked:
        many = fit_many(
            mf,
            s,
            train_sets,
            seeds=seeds,
            init_seeds=seeds,
            seeded_model_fn=seeded,
            vectorize=True,
            executor=executor,
            workers=workers,
            progress=progress,
            record_margins=True,
            **config.train_options(),
        )
        outs = many.predict_logits_at(s.x, held_sets)
        m_sum, m_cnt = many.margin_sum, many.margin_count
        assert m_sum is not None and m_cnt is not None
    else:
        res = run_tasks(
            _fit_recorded,
            [(tr, he, sd, config) for tr, he, sd in zip(train_sets, held_sets, seeds, strict=True)],
            executor,
            workers=workers,
            common=(s,),
            progress=progress,
            desc="gen_error_fast fits",
        )
        outs = [r[0] for r in res]
        m_sum, m_cnt = np.stack([r[1] for r in res]), np.stack([r[2] for r in res])
    for (r, _), held, out in zip(fits, held_sets, outs, strict=True):
        logits[r, held] = out
    if not np.isfinite(logits).all():
        raise ValueError("model_fn: the held-out logits contain non-finite values")
    cnt = m_cnt.sum(0)
    aum_score = -m_sum.sum(0) / np.maximum(cnt, 1.0)  # every sample is trained on R times
    dec = decompose_cross_entropy(logits=logits, labels=y)
    cols = {
        "gen_error_fast": rank_combine(dec["gen_error"], aum_score, aum_weight),
        "gen_error_fast_bias": dec["gen_bias"],
        "gen_error_fast_variance": dec["gen_variance"],
        "gen_error_fast_heldout": dec["gen_error"],
        "gen_error_fast_aum": aum_score,
    }
    table = ScoreTable.from_arrays(s.sample_id, s.y, true_label=s.true_y, **cols)
    return FastGenErrorResult(
        table, logits, fold_ids, m_sum, m_cnt, aum_weight, config, stacked=stacked
    )


_DESCRIPTIONS = {
    "gen_error_fast": "one-run estimate of gen_error: rank mean of the 2x2 held-out loss and the "
    "in-sample -AUM of one stacked run, on the held-out loss scale",
    "gen_error_fast_bias": "Yang 2020 CE bias of the 2x2 held-out predictions of that run",
    "gen_error_fast_variance": "Yang 2020 CE variance of the 2x2 held-out predictions of that run",
    "gen_error_fast_heldout": "mean held-out cross-entropy of that run's 2x2 cross-fitting",
    "gen_error_fast_aum": "-AUM of that run's models that trained on the sample",
}
for _col in FAST_GEN_ERROR_COLUMNS:
    register_measure(_col, "kfold", _DESCRIPTIONS[_col])(
        column_measure(fast_generalization_error, _col)
    )
