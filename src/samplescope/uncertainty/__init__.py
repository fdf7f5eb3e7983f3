"""Uncertainty: MC dropout, ensembles, TTA, decomposition, likelihood losses, temperature scaling.

Every uncertainty score is per sample ``(N,)`` and **higher = more uncertain**.
Importing this package registers the stochastic difficulty measures
``predictive_entropy`` and ``expected_entropy`` (kind ``"stochastic"``; ``mutual_information``
and ``predictive_variance`` are registered by :mod:`samplescope.difficulty`).
"""

from . import measures as _measures  # noqa: F401  (registers the stochastic measures)
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
    "METHODS",
    "CalibratedModel",
    "HeteroscedasticLoss",
    "LabelSmoothingLoss",
    "MeanVarianceRegressor",
    "TemperatureScaling",
    "UANLLLoss",
    "UncertaintyAwareClassifier",
    "VectorScaling",
    "decompose",
    "entropy",
    "expected_entropy",
    "fit_regression",
    "flip_views",
    "gaussian_nll",
    "iter_stochastic",
    "label_smoothing_cross_entropy",
    "mutual_information",
    "predict_log_variance",
    "predict_regression",
    "predict_stochastic",
    "predictive_entropy",
    "predictive_variance",
    "shift_views",
    "train_ensemble",
    "uanll",
]
