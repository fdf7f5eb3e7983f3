"""Per-sample difficulty measures (higher = harder) and their registry."""

from . import class_proportion as _class_proportion  # noqa: F401  (registers the measures)
from . import logit_measures as _logit_measures  # noqa: F401
from . import stochastic as _stochastic  # noqa: F401
from .class_proportion import class_proportion_score
from .compute import DifficultyResult, compute_measures
from .dynamics import (
    AUM,
    DYNAMICS_COLUMNS,
    ActionScore,
    Cartography,
    DynamicsCallback,
    ForgettingEvents,
    TrainingDynamics,
)
from .fast_generalization import (
    FAST_AUM_WEIGHT,
    FAST_GEN_ERROR_COLUMNS,
    FastGenErrorResult,
    fast_generalization_error,
    rank_combine,
)
from .generalization import (
    GEN_ERROR_COLUMNS,
    FoldConfig,
    GenErrorResult,
    decompose_cross_entropy,
    fit_predict_fold,
    generalization_error,
    stratified_fold_ids,
)
from .gradients import (
    GRAD_NORM_METHODS,
    last_layer_grad_norm,
    last_layer_grad_norm_from_features,
    per_sample_grad_norms,
)
from .logit_measures import confidence_score, entropy_score, loss_score, margin_score
from .recorder import RECORDER_COLUMNS, DynamicsRecorder
from .registry import (
    MEASURE_KINDS,
    Measure,
    get_measure,
    list_measures,
    measure_aliases,
    register_measure,
    register_measure_alias,
)
from .stochastic import (
    expected_entropy_score,
    mean_std_score,
    mutual_information_score,
    predictive_entropy_score,
    predictive_variance_score,
    variation_ratio_score,
)

__all__ = [
    "AUM",
    "DYNAMICS_COLUMNS",
    "FAST_AUM_WEIGHT",
    "FAST_GEN_ERROR_COLUMNS",
    "GEN_ERROR_COLUMNS",
    "GRAD_NORM_METHODS",
    "MEASURE_KINDS",
    "ActionScore",
    "Cartography",
    "DifficultyResult",
    "DynamicsCallback",
    "DynamicsRecorder",
    "RECORDER_COLUMNS",
    "FastGenErrorResult",
    "FoldConfig",
    "ForgettingEvents",
    "GenErrorResult",
    "Measure",
    "TrainingDynamics",
    "class_proportion_score",
    "compute_measures",
    "confidence_score",
    "decompose_cross_entropy",
    "entropy_score",
    "expected_entropy_score",
    "fast_generalization_error",
    "fit_predict_fold",
    "generalization_error",
    "get_measure",
    "last_layer_grad_norm",
    "last_layer_grad_norm_from_features",
    "list_measures",
    "loss_score",
    "margin_score",
    "mean_std_score",
    "measure_aliases",
    "mutual_information_score",
    "per_sample_grad_norms",
    "predictive_entropy_score",
    "predictive_variance_score",
    "rank_combine",
    "register_measure",
    "register_measure_alias",
    "stratified_fold_ids",
    "variation_ratio_score",
]
