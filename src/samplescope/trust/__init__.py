"""Trustworthiness prediction (Luo et al. 2021; Corbière et al. 2019; Jiang et al. 2018).

Every trust score is ``(N,)`` in [0, 1], **higher = more trustworthy**; the positive class
of every metric is a correct prediction of the frozen classifier.

- :class:`TrustOracle`: learned oracle on any ``nn.Module`` (backbone copied from the
  classifier, features at a named layer; hyperplane, linear or MSP-anchored head; loss from
  the registry: ``ce``, ``focal``, ``tcp``, ``ss``), trained on in-sample, hold-out or
  cross-fitted correctness labels (:mod:`.correctness`);
- baselines (:data:`BASELINES`, :func:`make_baseline`): MCP, max logit, MaxLogit-pNorm,
  negative energy, DOCTOR, Rel-U, MC dropout, ensemble, TrustScore;
- analyses: metrics table, TP/FP/TN/FN histograms, risk–coverage, α⁻ ablation, separability;
- :func:`run_trust_experiment`: Luo's protocol over seeds.
"""

from .analysis import (
    METRIC_COLUMNS,
    confusion_masks,
    format_table,
    plot_alpha_ablation,
    plot_risk_coverage,
    plot_trust_histograms,
    separability,
    summarize,
    trust_metrics,
)
from .baselines import MCDropoutTrust, MCPTrust, TrustScoreTrust, mc_dropout_probs
from .benchmark import (
    MethodResult,
    TrustConfig,
    alpha_neg_ablation,
    evaluate_methods,
    run_seed,
    run_trust_experiment,
    train_classifier,
)
from .correctness import (
    CORRECTNESS,
    CorrectnessTargets,
    FreshCopy,
    classifier_fold_config,
    crossfit_correctness,
    targets_from_logits,
)
from .heads import HEADS, HyperplaneHead, LinearHead, MSPAnchoredHead, make_head, msp_logit
from .losses import (
    CrossEntropyTrustLoss,
    FocalTrustLoss,
    SteepSlopeLoss,
    TCPTrustLoss,
    TrustLoss,
    describe_trust_loss,
    get_trust_loss,
    list_trust_losses,
    register_trust_loss,
    steep_slope_loss,
)
from .oracle import TrustOracle, correctness_labels
from .posthoc import (
    DoctorTrust,
    EnergyTrust,
    EnsembleTrust,
    MaxLogitPNormTrust,
    MaxLogitTrust,
    RelativeUncertaintyTrust,
    relative_uncertainty_matrix,
)
from .registry import BASELINES, describe_baseline, list_baselines, make_baseline
from .trustscore import density_filter, fit_class_trees, trust_score, trust_score_ratio

__all__ = [
    "BASELINES",
    "CORRECTNESS",
    "HEADS",
    "METRIC_COLUMNS",
    "CorrectnessTargets",
    "CrossEntropyTrustLoss",
    "DoctorTrust",
    "EnergyTrust",
    "EnsembleTrust",
    "FocalTrustLoss",
    "FreshCopy",
    "HyperplaneHead",
    "LinearHead",
    "MCDropoutTrust",
    "MCPTrust",
    "MSPAnchoredHead",
    "MaxLogitPNormTrust",
    "MaxLogitTrust",
    "MethodResult",
    "RelativeUncertaintyTrust",
    "SteepSlopeLoss",
    "TCPTrustLoss",
    "TrustConfig",
    "TrustLoss",
    "TrustOracle",
    "TrustScoreTrust",
    "alpha_neg_ablation",
    "classifier_fold_config",
    "confusion_masks",
    "correctness_labels",
    "crossfit_correctness",
    "density_filter",
    "describe_baseline",
    "describe_trust_loss",
    "evaluate_methods",
    "fit_class_trees",
    "format_table",
    "get_trust_loss",
    "list_baselines",
    "list_trust_losses",
    "make_baseline",
    "make_head",
    "mc_dropout_probs",
    "msp_logit",
    "plot_alpha_ablation",
    "plot_risk_coverage",
    "plot_trust_histograms",
    "register_trust_loss",
    "relative_uncertainty_matrix",
    "run_seed",
    "run_trust_experiment",
    "separability",
    "steep_slope_loss",
    "summarize",
    "targets_from_logits",
    "train_classifier",
    "trust_metrics",
    "trust_score",
    "trust_score_ratio",
]
