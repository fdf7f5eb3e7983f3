"""Post-hoc calibrators of a classifier's outputs, their registry, CV selection and comparison.

Every calibrator maps held-out ``logits=`` or ``probs=`` ``(N, C)`` (exactly one, by
keyword) and labels ``(N,)`` to calibrated probabilities ``(N, C)`` with the scikit-learn
contract (``fit`` returns ``self``, fitted attributes end in ``_``). Accuracy-preserving
(argmax never changes): ``identity``, ``ts``, ``ets``; the others (``vector``, ``matrix``,
``dirichlet``, ``dirichlet_cv``, ``histogram``, ``isotonic``, ``platt``) may change it — see
:mod:`.registry` for the table and each class for why.

- :func:`get_calibrator` / :func:`list_calibrators` / :func:`register_calibrator`: the registry;
- :func:`fit_calibrator` / :func:`select_calibrator` / :func:`cross_val_nll`: cross-validated
  fitting with fallback to the identity, and selection by CV NLL (small validation sets);
  :class:`CrossValidatedCalibrator` / :class:`DirichletCV` do the selection inside ``fit``;
- :func:`compare_calibrators` / :func:`format_calibration_table`: every method's test NLL,
  ECE, smooth ECE, Brier, accuracy and failure-prediction AUROC / AURC with bootstrap
  intervals.
"""

from .base import Calibrator, IdentityCalibrator
from .binning import HistogramBinning
from .compare import COMPARE_MEASURES, compare_calibrators, format_calibration_table
from .ets import EnsembleTemperatureScaling
from .isotonic import IsotonicCalibration
from .linear import DirichletCalibration, MatrixScaling, VectorScaling
from .platt import PlattScaling
from .registry import get_calibrator, list_calibrators, register_calibrator
from .selection import (
    CrossValidatedCalibrator,
    DirichletCV,
    cross_val_nll,
    cross_val_predict_proba,
    fit_calibrator,
    select_calibrator,
)
from .temperature import TemperatureScaling

__all__ = [
    "COMPARE_MEASURES",
    "Calibrator",
    "CrossValidatedCalibrator",
    "DirichletCV",
    "DirichletCalibration",
    "EnsembleTemperatureScaling",
    "HistogramBinning",
    "IdentityCalibrator",
    "IsotonicCalibration",
    "MatrixScaling",
    "PlattScaling",
    "TemperatureScaling",
    "VectorScaling",
    "compare_calibrators",
    "cross_val_nll",
    "cross_val_predict_proba",
    "fit_calibrator",
    "format_calibration_table",
    "get_calibrator",
    "list_calibrators",
    "register_calibrator",
    "select_calibrator",
]
