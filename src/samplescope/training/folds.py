"""Folds, seeds and one fold fit: the pieces the cross-fitting engine is made of.

- :func:`fold_assignments`: ``(R, N)`` fold of every sample per repeat (stratified K-fold,
  ``random_state = seed + r``); :func:`fit_seed`: ``seed · 10007 + r · K + k``;
- :class:`FoldConfig`: the learner (torch factory, default model or scikit-learn estimator)
  and its training; :func:`fit_fold` / :func:`fit_predict_fold`: one fit, held-out logits;
- :func:`heldout_logits`: one model per ``(train_idx, test_idx)`` pair, stacked when it wins.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .._validation import (
    check_choice,
    check_integer,
    check_labels,
    check_num_classes,
    check_positive,
)
from ..data.split import DataSplit, as_split
from ..models.nets import default_model
from .stacked import ManyModels, check_index_sets, fit_many
from .trainer import fit, predict_logits

__all__ = [
    "SEED_STRIDE",
    "CrossFitResult",
    "FoldConfig",
    "FoldFn",
    "fit_fold",
    "fit_predict_fold",
    "fit_seed",
    "fold_assignments",
    "heldout_logits",
]

SEED_STRIDE = 10007
FoldFn = Callable[[DataSplit, DataSplit, int, "FoldConfig"], np.ndarray]


def fit_seed(seed: int, repeat: int, fold: int, folds: int) -> int:
    """The training seed of the model of (``repeat``, ``fold``): ``seed · 10007 + repeat · K + fold``."""
    return int(seed) * SEED_STRIDE + int(repeat) * int(folds) + int(fold)


@dataclass(frozen=True)
class FoldConfig:
    """What one fold fit trains besides the data and the seed (picklable).

    Exactly one of ``model_fn`` (``seed -> nn.Module`` returning logits, or a zero-argument
    factory: :func:`samplescope.models.seeded_model_fn`) and ``estimator``
    (an unfitted scikit-learn classifier with ``fit``/``predict_proba``, cloned per fit) is
    used; with neither, :func:`samplescope.models.default_model` of ``model_kind``. The
    training fields are those of :func:`samplescope.training.fit`.
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

    def __post_init__(self) -> None:
        from ..models.spec import MODEL_KINDS

        check_num_classes(self.num_classes)
        check_integer(self.epochs, "epochs")
        check_integer(self.batch_size, "batch_size")
        check_positive(self.lr, "lr")
        check_positive(self.weight_decay, "weight_decay", strict=False)
        if not callable(self.optimizer):
            check_choice(self.optimizer, "optimizer", ("adam", "adamw", "sgd"))
        if self.model_fn is not None:
            from ..models.factory import seeded_model_fn

            # one convention: seed -> nn.Module; a zero-argument factory is wrapped
            object.__setattr__(self, "model_fn", seeded_model_fn(self.model_fn))
        if self.model_kind is not None:
            check_choice(self.model_kind, "model_kind", MODEL_KINDS)
        if self.estimator is not None:
            if self.model_fn is not None:
                raise ValueError("estimator: expected either model_fn or estimator, got both")
            if not (hasattr(self.estimator, "fit") and hasattr(self.estimator, "predict_proba")):
                raise ValueError(
                    "estimator: expected a classifier with fit and predict_proba, got "
                    f"{type(self.estimator).__name__}"
                )

    def train_options(self) -> dict[str, Any]:
        """The keywords of :func:`samplescope.training.fit` (and ``fit_many``) this config sets."""
        return {
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "optimizer": self.optimizer,
            "lr": self.lr,
            "weight_decay": self.weight_decay,
        }

    def build(self, input_shape: tuple[int, ...], seed: int) -> torch.nn.Module:
        """A fresh network for seed ``seed``, built under ``torch.manual_seed(seed)``."""
        torch.manual_seed(int(seed))
        if self.model_fn is not None:
            return self.model_fn(int(seed))
        return default_model(input_shape, self.num_classes, kind=self.model_kind)


@dataclass
class CrossFitResult:
    """Out-of-fold predictions of :func:`crossfit`.

    Attributes:
        oof_logits: ``(R, N, C)`` float64 held-out logits (log-probabilities for scikit-learn
            estimators), rows in the order of the input data.
        fold_ids: ``(R, N)`` int64, the fold each sample was held out in, per repeat.
        seeds: ``(R, K)`` int64 training seed of every fit (:func:`fit_seed`).
        models: ``models[r][k]``, the trained model of every fit (``return_models=True``), else None.
        config: the :class:`FoldConfig` every fit used.
    """

    oof_logits: np.ndarray
    fold_ids: np.ndarray
    seeds: np.ndarray
    config: FoldConfig
    models: list[list[Any]] | None = None

    @property
    def oof_probs(self) -> np.ndarray:
        """Held-out probabilities ``(R, N, C)`` (softmax of :attr:`oof_logits` over classes)."""
        from ..functional import softmax

        return softmax(self.oof_logits, axis=-1)


def fold_assignments(
    labels: np.ndarray, folds: int, repeats: int, seed: int, *, stratified: bool = True
) -> np.ndarray:
    """``(R, N)`` fold index of every sample per repeat (``StratifiedKFold`` seeded ``seed + r``)."""
    from sklearn.model_selection import KFold, StratifiedKFold

    labels = check_labels(labels, "labels")
    folds = check_integer(folds, "folds", minimum=2)
    repeats = check_integer(repeats, "repeats", minimum=1)
    seed = check_integer(seed, "seed", minimum=0)
    if folds > len(labels):
        raise ValueError(f"folds: expected at most N = {len(labels)} folds, got {folds}")
    out = np.empty((repeats, len(labels)), dtype=np.int64)
    for r in range(repeats):
        cv = (StratifiedKFold if stratified else KFold)(
            n_splits=folds, shuffle=True, random_state=int(seed) + r
        )
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="The least populated class")
            for k, (_, held) in enumerate(cv.split(labels, labels)):
                out[r, held] = k
    return out


def fit_fold(
    train: DataSplit, heldout: DataSplit, seed: int, config: FoldConfig
) -> tuple[np.ndarray, Any]:
    """Fit one model on ``train``; return (held-out logits ``(len(heldout), C)``, the model).

    A scikit-learn ``config.estimator`` is cloned and fitted on flattened inputs; its
    ``predict_proba`` columns are placed by ``classes_`` and returned as log-probabilities
    (clipped at 1e-12). A torch model is :meth:`FoldConfig.build` under ``seed``, trained with
    :func:`samplescope.training.fit` (``seed``) and evaluated in eval mode.
    """
    C = config.num_classes
    if config.estimator is not None:
        from sklearn.base import clone

        est = clone(config.estimator)
        est.fit(train.x.reshape(len(train), -1), train.y)
        p = est.predict_proba(heldout.x.reshape(len(heldout), -1))
        full = np.zeros((len(heldout), C))
        full[:, np.asarray(est.classes_, dtype=np.int64)] = p
        return np.log(np.clip(full, 1e-12, None)), est
    model = config.build(tuple(train.x.shape[1:]), seed)
    fit(
        model,
        train,
        **config.train_options(),
        seed=seed,
        device=config.device,
        progress=False,
    )
    return predict_logits(model, heldout, device=config.device), model


def fit_predict_fold(
    train: DataSplit, heldout: DataSplit, seed: int, config: FoldConfig
) -> np.ndarray:
    """The default ``fold_fn``: :func:`fit_fold`'s held-out logits ``(len(heldout), C)``."""
    if not isinstance(config, FoldConfig):
        raise ValueError(f"config: expected a FoldConfig, got {type(config).__name__}")
    train, heldout = as_split(train), as_split(heldout)
    if len(train) == 0 or len(heldout) == 0:
        raise ValueError(
            f"train: expected non-empty train and heldout splits, got {len(train)} and {len(heldout)}"
        )
    seed = check_integer(seed, "seed", minimum=0)
    return fit_fold(train, heldout, seed, config)[0]


def heldout_logits(
    model_fn: Callable[..., torch.nn.Module],
    data: Any,
    folds: Sequence[tuple[Any, Any]],
    *,
    seeds: Sequence[int] | int = 0,
    return_models: bool = False,
    **fit_options: Any,
) -> list[np.ndarray] | tuple[list[np.ndarray], ManyModels]:
    """Fit one model per ``(train_idx, test_idx)`` pair; return its logits on ``test_idx``.

    A list (one per pair) of float64 logits ``(len(test_idx_f), C)`` in ``test_idx_f`` order:
    what ``predict_logits(fit(model_fn(), data.subset(train_idx_f), seed=seeds[f]).model,
    data.subset(test_idx_f))`` gives. All pairs train at once when stacked. ``seeds`` int ``s``
    → ``s + f``. ``fit_options`` are those of :func:`samplescope.training.stacked.fit_many`
    (training, ``vectorize``, ``precision``, ``exact``, ``executor``, ...). With
    ``return_models`` also the :class:`ManyModels`.
    """
    split = as_split(data)
    folds = list(folds)
    if not folds:
        raise ValueError("folds: expected at least one (train_idx, test_idx) pair, got none")
    for k, f in enumerate(folds):
        if len(f) != 2:
            raise ValueError(
                f"folds[{k}]: expected a (train_idx, test_idx) pair, got {len(f)} items"
            )
    train_sets = check_index_sets([f[0] for f in folds], len(split), "folds (train)")
    test_sets = check_index_sets([f[1] for f in folds], len(split), "folds (test)")
    many = fit_many(model_fn, split, train_sets, seeds=seeds, **fit_options)
    out = many.predict_logits_at(split.x, test_sets)
    return (out, many) if return_models else out
