"""Training: the per-sample trainer, the stacked many-model trainer, the cross-fitting engine.

- :func:`fit` (:mod:`.trainer`): any ``nn.Module``, per-sample losses to callbacks, static or
  dynamic per-sample weights; :func:`batch_order` (:mod:`.batching`): its batches;
- :mod:`.stacked`: M small MLPs trained at once (:func:`fit_many`);
- :func:`crossfit` (:mod:`.cross_fitting`, built from :mod:`.folds`): repeats × folds
  out-of-fold logits ``(R, N, C)``.
"""

from .batching import FitBatchSampler, batch_order, steps_per_epoch
from .callbacks import BatchResult, Callback, EvalResult, LambdaCallback
from .cross_fitting import crossfit
from .folds import (
    CrossFitResult,
    FoldConfig,
    fit_fold,
    fit_predict_fold,
    fit_seed,
    fold_assignments,
    heldout_logits,
)
from .stacked import ManyModels, can_vectorize, fit_many, should_vectorize
from .trainer import (
    DynamicWeighting,
    FitResult,
    LossFn,
    TrainerState,
    cross_entropy_per_sample,
    evaluate,
    fit,
    predict_logits,
)

__all__ = [
    "CrossFitResult",
    "FitBatchSampler",
    "FoldConfig",
    "ManyModels",
    "batch_order",
    "can_vectorize",
    "crossfit",
    "fit_fold",
    "fit_many",
    "fit_predict_fold",
    "fit_seed",
    "fold_assignments",
    "heldout_logits",
    "should_vectorize",
    "steps_per_epoch",
    "BatchResult",
    "Callback",
    "DynamicWeighting",
    "EvalResult",
    "FitResult",
    "LambdaCallback",
    "LossFn",
    "TrainerState",
    "cross_entropy_per_sample",
    "evaluate",
    "fit",
    "predict_logits",
]
