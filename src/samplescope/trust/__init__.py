"""Trustworthiness prediction (Luo et al. 2021; Corbière et al. 2019; Jiang et al. 2018).

Every trust score is ``(N,)`` in [0, 1], **higher = more trustworthy**; the positive class
of every metric is a correct prediction of the frozen classifier.

- :class:`TrustOracle`: learned oracle (backbone copied from the classifier's trunk,
  hyperplane or linear head, loss from the registry: ``ce``, ``focal``, ``tcp``, ``ss``);
- baselines :class:`MCPTrust`, :class:`MCDropoutTrust`, :class:`TrustScoreTrust`;
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
from .baselines import (
    BASELINES,
    MCDropoutTrust,
    MCPTrust,
    TrustScoreTrust,
    make_baseline,
    mc_dropout_probs,
)
from .benchmark import (
    MethodResult,
    TrustConfig,
    alpha_neg_ablation,
    evaluate_methods,
    run_seed,
    run_trust_experiment,
    train_classifier,
)
from .heads import HEADS, HyperplaneHead, LinearHead, make_head
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
from .trustscore import density_filter, fit_class_trees, trust_score, trust_score_ratio

__all__ = [
    "BASELINES",
    "HEADS",
    "METRIC_COLUMNS",
    "CrossEntropyTrustLoss",
    "FocalTrustLoss",
    "HyperplaneHead",
    "LinearHead",
    "MCDropoutTrust",
    "MCPTrust",
    "MethodResult",
    "SteepSlopeLoss",
    "TCPTrustLoss",
    "TrustConfig",
    "TrustLoss",
    "TrustOracle",
    "TrustScoreTrust",
    "alpha_neg_ablation",
    "confusion_masks",
    "correctness_labels",
    "density_filter",
    "describe_trust_loss",
    "evaluate_methods",
    "fit_class_trees",
    "format_table",
    "get_trust_loss",
    "list_trust_losses",
    "make_baseline",
    "make_head",
    "mc_dropout_probs",
    "plot_alpha_ablation",
    "plot_risk_coverage",
    "plot_trust_histograms",
    "register_trust_loss",
    "run_seed",
    "run_trust_experiment",
    "separability",
    "steep_slope_loss",
    "summarize",
    "train_classifier",
    "trust_metrics",
    "trust_score",
    "trust_score_ratio",
]
