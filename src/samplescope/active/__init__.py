"""Deep Bayesian active learning (Gal, Islam & Ghahramani 2017) and the report's extensions.

Acquisition scores are **higher = acquire first**; stochastic predictions are ``(S, N, C)``.
:class:`ActiveLearner` is the query/teach API over an unlabelled pool (a person labels);
:class:`ActiveLoop` is the simulation on top of it (an oracle answers, a test split scores).
"""

from .acquisitions import (
    Acquisition,
    acquisition_aliases,
    acquisition_scores,
    bald,
    get_acquisition,
    least_confidence,
    list_acquisitions,
    margin_scores,
    max_entropy,
    mean_std,
    predictive_trace,
    random_scores,
    register_acquisition,
    variation_ratios,
)
from .badge import badge, badge_embeddings, kmeans_pp
from .batch import BatchContext, list_batch_modes, register_batch_mode, select_batch
from .batchbald import batch_bald, joint_entropy_exact
from .bayes_last_layer import BayesianLastLayer
from .diversity import diverse_top_k, top_k
from .kmeans_init import balanced_random_initial_set, kmeans_initial_set
from .learners import LastLayerLearner, MCDropoutLearner
from .loop import ActiveLoop
from .mc import deterministic_probs, mc_probs
from .noise_filter import LabelFilter, dynamic_tau
from .oracle import GroundTruthOracle, LabelOracle, NoisyOracle
from .pool import Pool
from .runner import RunSpec, labels_to_reach, load_curves, plot_curves, run_grid
from .session import ActiveLearner
from .sklearn_learner import SklearnLearner
from .stochastic import sampling_distribution, stochastic_batch
from .stopping import (
    BudgetStop,
    MaxUncertaintyStop,
    StabilizingPredictions,
    StoppingRule,
    cohen_kappa,
    first_stop,
)
from .typiclust import typicality, typiclust

__all__ = [
    "Acquisition",
    "ActiveLearner",
    "ActiveLoop",
    "BatchContext",
    "BudgetStop",
    "MaxUncertaintyStop",
    "SklearnLearner",
    "StabilizingPredictions",
    "StoppingRule",
    "badge",
    "badge_embeddings",
    "cohen_kappa",
    "first_stop",
    "kmeans_pp",
    "list_batch_modes",
    "register_batch_mode",
    "sampling_distribution",
    "select_batch",
    "stochastic_batch",
    "typicality",
    "typiclust",
    "BayesianLastLayer",
    "GroundTruthOracle",
    "LabelFilter",
    "LabelOracle",
    "LastLayerLearner",
    "MCDropoutLearner",
    "NoisyOracle",
    "Pool",
    "RunSpec",
    "acquisition_aliases",
    "acquisition_scores",
    "bald",
    "balanced_random_initial_set",
    "batch_bald",
    "deterministic_probs",
    "diverse_top_k",
    "dynamic_tau",
    "get_acquisition",
    "joint_entropy_exact",
    "kmeans_initial_set",
    "labels_to_reach",
    "least_confidence",
    "list_acquisitions",
    "load_curves",
    "margin_scores",
    "max_entropy",
    "mc_probs",
    "mean_std",
    "plot_curves",
    "predictive_trace",
    "random_scores",
    "register_acquisition",
    "run_grid",
    "top_k",
    "variation_ratios",
]
