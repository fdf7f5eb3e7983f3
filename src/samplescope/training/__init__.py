"""Minimal deterministic trainer with a per-sample callback protocol."""

from .callbacks import BatchResult, Callback, EvalResult, LambdaCallback
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
