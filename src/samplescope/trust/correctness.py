"""Correctness labels for training a trust oracle: in-sample, hold-out or cross-fitted.

An oracle learns ``o = 1[argmax f(x) = y]``. Where the labels come from matters:

- ``"insample"`` (Luo et al. 2021; Corbière et al. 2019): the deployed classifier on its own
  training split. A classifier that fits its training split makes almost no errors there,
  so the oracle sees (almost) no ``o = 0`` — its AUROC drifts to chance;
- ``"holdout"``: the deployed classifier on a validation split it did not train on (honest
  labels, but the oracle trains on fewer samples);
- ``"crossfit"`` (new here): every training sample is labelled by a model that did **not**
  train on it — the out-of-fold models of :func:`samplescope.training.crossfit`, with the
  architecture and training of the deployed classifier. ``K`` folds cost ``K`` extra fits.

:func:`crossfit_correctness` returns :class:`CorrectnessTargets`: ``o`` ``(N,)``, the true-class
probability ``p_true`` ``(N,)`` (for TCP) and the logits ``(N, C)`` of the model that made
each labelled prediction (the out-of-fold model for ``"crossfit"``), the anchor of the
MSP-anchored head at training time. Fewer than :data:`MIN_ERRORS` errors → a warning.
"""

from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from .._validation import (
    check_choice,
    check_integer,
    check_labels,
    check_logits,
    check_num_classes,
    check_same_length,
)
from ..data.split import as_split
from ..training import FoldConfig, crossfit

__all__ = [
    "CORRECTNESS",
    "MIN_ERRORS",
    "CorrectnessTargets",
    "FreshCopy",
    "classifier_fold_config",
    "crossfit_correctness",
    "targets_from_logits",
    "warn_few_errors",
]

CORRECTNESS = ("insample", "holdout", "crossfit")
#: fewer errors than this in the oracle's correctness labels triggers a warning
MIN_ERRORS = 20


@dataclass
class CorrectnessTargets:
    """Correctness targets of ``N`` labelled samples.

    Attributes:
        o: ``(N,)`` int64, 1 where the labelling model predicts the label.
        p_true: ``(N,)`` float64 softmax probability of the label (TCP's target).
        logits: ``(N, C)`` float64 logits of the labelling model (out-of-fold for crossfit).
        source: ``"insample"`` | ``"holdout"`` | ``"crossfit"``.
        models: the ``K`` out-of-fold models (crossfit with ``return_models``), else None.
        fold_ids: ``(N,)`` the fold each sample was held out in (crossfit), else None.
    """

    o: np.ndarray
    p_true: np.ndarray
    logits: np.ndarray
    source: str
    models: list[nn.Module] | None = None
    fold_ids: np.ndarray | None = None

    @property
    def n_errors(self) -> int:
        """Number of ``o = 0`` samples."""
        return int((self.o == 0).sum())


def targets_from_logits(logits: Any, labels: Any, source: str, **extra: Any) -> CorrectnessTargets:
    """:class:`CorrectnessTargets` from logits ``(N, C)`` and labels ``(N,)``."""
    lg_np = check_logits(logits, "logits")
    y_np = check_labels(labels, "labels", num_classes=lg_np.shape[1])
    check_same_length(logits=lg_np, labels=y_np)
    check_choice(source, "source", CORRECTNESS)
    lg, y = torch.as_tensor(lg_np, dtype=torch.float64), torch.as_tensor(y_np)
    o = (lg.argmax(1) == y).long().numpy()
    p_true = lg.softmax(1).gather(1, y[:, None]).squeeze(1).numpy()
    return CorrectnessTargets(o, p_true, lg.numpy(), source, **extra)


def warn_few_errors(n_errors: int, n: int, source: str) -> None:
    """Warn when the correctness labels hold fewer than :data:`MIN_ERRORS` errors."""
    if n_errors >= MIN_ERRORS:
        return
    hint = (
        'use correctness="crossfit" (CLI: --correctness crossfit) so that every sample is '
        "labelled by a model that did not train on it"
        if source != "crossfit"
        else "more data, fewer classifier epochs or more folds give the oracle more errors"
    )
    warnings.warn(
        f"the oracle's correctness labels ({source}) hold only {n_errors} errors in {n} "
        f"samples (< {MIN_ERRORS}); the oracle cannot learn what an error looks like and its "
        f"AUROC will be near chance; {hint}",
        UserWarning,
        stacklevel=3,
    )


class FreshCopy:
    """Picklable factory ``seed -> nn.Module``: a deep copy of ``template`` with every
    sub-module's parameters re-initialised (``reset_parameters``) under the current seed
    (:meth:`FoldConfig.build` seeds torch before calling it): the deployed classifier's
    architecture, trained afresh on each fold."""

    def __init__(self, template: nn.Module) -> None:
        if not isinstance(template, nn.Module):
            raise ValueError(f"classifier: expected an nn.Module, got {type(template).__name__}")
        self.template = copy.deepcopy(template).cpu()

    def __call__(self, seed: int) -> nn.Module:
        net = copy.deepcopy(self.template)
        for m in net.modules():
            if hasattr(m, "reset_parameters") and callable(m.reset_parameters):
                m.reset_parameters()
        return net.train()


def classifier_fold_config(
    classifier: nn.Module, num_classes: int, **train_options: Any
) -> FoldConfig:
    """A :class:`FoldConfig` training fresh copies of ``classifier``'s architecture.

    ``train_options``: the training of the deployed classifier (``epochs``, ``lr``,
    ``batch_size``, ``optimizer``, ``weight_decay``, ``device``) — pass the same values it was
    trained with so the out-of-fold models match it.
    """
    factory = FreshCopy(classifier)
    return FoldConfig(num_classes=check_num_classes(num_classes), model_fn=factory, **train_options)


def crossfit_correctness(
    data: Any,
    config: FoldConfig,
    *,
    folds: int = 5,
    seed: int = 0,
    return_models: bool = False,
    executor: Any = None,
    checkpoint_dir: Any = None,
    progress: bool = False,
) -> CorrectnessTargets:
    """Cross-fitted correctness: each sample labelled by the fold model that did not train on it.

    Args:
        data: labelled split (``N`` samples), usually the deployed classifier's training split.
        config: the architecture and training of the deployed classifier (a :class:`FoldConfig`,
            e.g. :func:`classifier_fold_config` or ``FoldConfig(model_kind=..., epochs=...)``).
        folds: ``K >= 2`` stratified folds (one repeat). seed: the engine's seed scheme.
        return_models: keep the ``K`` out-of-fold models (``targets.models``).
        executor, checkpoint_dir, progress: passed to :func:`samplescope.training.crossfit`.

    Returns:
        :class:`CorrectnessTargets` with ``source="crossfit"`` and ``fold_ids``.
    """
    split = as_split(data)
    folds = check_integer(folds, "folds", minimum=2)
    res = crossfit(
        split,
        config,
        folds=folds,
        repeats=1,
        seed=check_integer(seed, "seed", minimum=0),
        executor=executor,
        checkpoint_dir=checkpoint_dir,
        return_models=return_models,
        progress=progress,
    )
    models = None
    if return_models and res.models is not None:
        models = [m.eval() for m in res.models[0]]
    return targets_from_logits(
        res.oof_logits[0], split.y, "crossfit", models=models, fold_ids=res.fold_ids[0]
    )
