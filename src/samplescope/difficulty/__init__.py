"""Per-sample difficulty measures (higher = harder) and their registry."""

from . import logit_measures as _logit_measures  # noqa: F401  (registers the measures)
from .logit_measures import confidence_score, entropy_score, loss_score, margin_score
from .pipeline import DifficultyRun, score_split
from .registry import MEASURE_KINDS, Measure, get_measure, list_measures, register_measure

__all__ = ["MEASURE_KINDS", "DifficultyRun", "Measure", "confidence_score", "entropy_score", "get_measure",
           "list_measures", "loss_score", "margin_score", "register_measure", "score_split"]
