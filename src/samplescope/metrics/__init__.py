"""Metrics: calibration, failure prediction, selective prediction, separability, noise detection.

Directions (stated again in every docstring):

- calibration metrics take ``probs`` ``(N, C)`` and ``labels`` ``(N,)``; lower = better
  (binned ECE family, smooth ECE, Brier, NLL; ``bootstrap_ci`` / ``calibration_report`` give
  percentile-bootstrap intervals);
- failure prediction: positive class = **correct prediction**, ``trust`` higher = more
  trustworthy; AUROC/AUPR higher = better, FPR@95TPR lower = better;
- selective prediction: accept by decreasing ``trust``; AURC/E-AURC/AUGRC and the risk at a
  fixed coverage lower = better;
- separability: Gaussian KL / Bhattacharyya between two score sets, higher = better separated;
- noise detection: positive class = **noisy label**, ``difficulty`` higher = more likely noisy.
"""

from .bootstrap import REPORT_MEASURES, bootstrap_ci, calibration_report
from .calibration import (
    adaptive_ece,
    brier,
    classwise_ece,
    ece,
    mce,
    nll,
    plot_reliability_diagram,
    reliability_diagram_data,
)
from .failure import aupr_error, aupr_success, auroc, failure_report, fpr_at_tpr, tpr_tnr
from .noise import noise_detection_report
from .selective import augrc, aurc, eaurc, optimal_aurc, risk_at_coverage, risk_coverage_curve
from .separability import bhattacharyya, gaussian_fit, gaussian_kl, symmetric_gaussian_kl
from .smooth_ece import smooth_ece, smooth_ece_binary, smooth_reliability_curve

__all__ = [
    "REPORT_MEASURES",
    "adaptive_ece",
    "aupr_error",
    "aupr_success",
    "augrc",
    "aurc",
    "auroc",
    "bhattacharyya",
    "bootstrap_ci",
    "brier",
    "calibration_report",
    "classwise_ece",
    "eaurc",
    "ece",
    "failure_report",
    "fpr_at_tpr",
    "gaussian_fit",
    "gaussian_kl",
    "mce",
    "nll",
    "noise_detection_report",
    "optimal_aurc",
    "plot_reliability_diagram",
    "reliability_diagram_data",
    "risk_at_coverage",
    "risk_coverage_curve",
    "smooth_ece",
    "smooth_ece_binary",
    "smooth_reliability_curve",
    "symmetric_gaussian_kl",
    "tpr_tnr",
]
