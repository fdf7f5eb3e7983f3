"""Uncertainty: MC dropout, ensembles, TTA, decomposition, likelihood losses, calibrators.

Every uncertainty score is per sample ``(N,)`` and **higher = more uncertain**. The
formulas live in :mod:`samplescope.functional` (with the table of canonical names); the
functions here validate their inputs. The same quantities are registered as stochastic
difficulty measures by :mod:`samplescope.difficulty.stochastic` (this package sits below
``difficulty`` and does not import it).
"""

from .calibrators import (
    COMPARE_MEASURES,
    Calibrator,
    CrossValidatedCalibrator,
    DirichletCalibration,
    DirichletCV,
    EnsembleTemperatureScaling,
    HistogramBinning,
    IdentityCalibrator,
    IsotonicCalibration,
    MatrixScaling,
    PlattScaling,
    compare_calibrators,
    cross_val_nll,
    cross_val_predict_proba,
    fit_calibrator,
    format_calibration_table,
    get_calibrator,
    list_calibrators,
    register_calibrator,
    select_calibrator,
)
from .decomposition import (
    decompose,
    entropy,
    expected_entropy,
    mutual_information,
    predictive_entropy,
    predictive_variance,
)
from .ensemble import train_ensemble
from .heads import MeanVarianceRegressor, UncertaintyAwareClassifier, predict_log_variance
from .losses import (
    HeteroscedasticLoss,
    LabelSmoothingLoss,
    UANLLLoss,
    gaussian_nll,
    label_smoothing_cross_entropy,
    uanll,
)
from .regression import fit_regression, predict_regression
from .scaling import CalibratedModel, TemperatureScaling, VectorScaling
from .stochastic import METHODS, iter_stochastic, predict_stochastic
from .tta import flip_views, shift_views

__all__ = [
    "COMPARE_MEASURES",
    "METHODS",
    "CalibratedModel",
    "Calibrator",
    "CrossValidatedCalibrator",
    "DirichletCV",
    "DirichletCalibration",
    "EnsembleTemperatureScaling",
    "HeteroscedasticLoss",
    "HistogramBinning",
    "IdentityCalibrator",
    "IsotonicCalibration",
    "LabelSmoothingLoss",
    "MatrixScaling",
    "MeanVarianceRegressor",
    "PlattScaling",
    "TemperatureScaling",
    "UANLLLoss",
    "UncertaintyAwareClassifier",
    "VectorScaling",
    "compare_calibrators",
    "cross_val_nll",
    "cross_val_predict_proba",
    "decompose",
    "entropy",
    "expected_entropy",
    "fit_calibrator",
    "fit_regression",
    "flip_views",
    "format_calibration_table",
    "gaussian_nll",
    "get_calibrator",
    "iter_stochastic",
    "label_smoothing_cross_entropy",
    "list_calibrators",
    "mutual_information",
    "predict_log_variance",
    "predict_regression",
    "predict_stochastic",
    "predictive_entropy",
    "predictive_variance",
    "register_calibrator",
    "select_calibrator",
    "shift_views",
    "train_ensemble",
    "uanll",
]
