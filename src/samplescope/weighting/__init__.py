"""Difficulty-based sample weighting: composable schemes, a registry, and weighted training.

Static schemes map a difficulty column (higher = harder) to weights once; dynamic schemes
recompute weights every batch from the trainer's per-sample losses; loss schemes replace
the per-sample loss. Formulas: REFERENCE.md §2; theory: Zhou et al. (2022) §4.
"""

from . import schemes as _schemes  # noqa: F401  (registers the built-in schemes)
from .active_bias import ActiveBias
from .apply import difficulty_from_table, fit_weighted, resolve_weighting, static_weights
from .base import DynamicScheme
from .class_weights import class_balanced, class_balanced_weights, grw, grw_weights
from .divergence import chi2_divergence, solve_for_chi2
from .focal import FocalLoss, focal_loss
from .hard_first import HardFirstWeights, easy_first, hard_first, hard_first_weights, inverse_margin
from .online import OnlineWeighting
from .recorder import WeightRecorder
from .registry import (
    WEIGHTING_KINDS,
    WeightingSpec,
    get_weighting,
    list_weightings,
    register_weighting,
)
from .self_paced import SelfPaced, spl_threshold, spl_weights
from .superloss import SuperLoss, superloss_objective, superloss_sigma
from .transforms import (
    Transform,
    WeightContext,
    chain,
    clip,
    floor,
    identity,
    mean_one,
    negate,
    normalize,
    power,
    sum_to,
    temper,
)
from .truncated import TruncatedLoss

__all__ = [
    "WEIGHTING_KINDS",
    "ActiveBias",
    "DynamicScheme",
    "FocalLoss",
    "HardFirstWeights",
    "OnlineWeighting",
    "SelfPaced",
    "SuperLoss",
    "Transform",
    "TruncatedLoss",
    "WeightRecorder",
    "WeightContext",
    "WeightingSpec",
    "chain",
    "chi2_divergence",
    "class_balanced",
    "class_balanced_weights",
    "clip",
    "difficulty_from_table",
    "easy_first",
    "fit_weighted",
    "floor",
    "focal_loss",
    "get_weighting",
    "grw",
    "grw_weights",
    "hard_first",
    "hard_first_weights",
    "identity",
    "inverse_margin",
    "list_weightings",
    "mean_one",
    "negate",
    "normalize",
    "power",
    "register_weighting",
    "resolve_weighting",
    "solve_for_chi2",
    "spl_threshold",
    "spl_weights",
    "static_weights",
    "sum_to",
    "superloss_objective",
    "superloss_sigma",
    "temper",
]
