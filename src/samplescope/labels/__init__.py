"""Label issues: which given labels are wrong, how many per class, and what they should be.

- :func:`find_label_issues` (:mod:`.issues`): from probabilities (out-of-fold or in-sample),
  from any difficulty measure(s), or both → :class:`LabelIssues` (``is_label_issue``,
  ``label_quality`` in [0, 1], ``suggested_label``, ``issues_per_class``; ``to_columns()`` /
  ``to_table()`` give the ScoreTable columns);
- :mod:`.counts`: the count estimators (``"posterior"``, ``"confident_joint"``, ``"mixture"``),
  :mod:`.scores`: the rankings;
- :func:`label_issues_from_data` / :func:`label_issues_one_run` (:mod:`.from_data`): train
  the models too (cross-fitted with the K-fold engine, or one run).

Scores here are higher = more likely wrong; ``label_quality`` is higher = more likely correct.
"""

from .counts import (
    COUNT_METHODS,
    confident_joint,
    count_confident_joint,
    count_mixture,
    count_posterior,
    error_posterior,
    mixture_posterior,
    noise_transition,
)
from .from_data import CrossFitLabelIssues, label_issues_from_data, label_issues_one_run
from .issues import LABEL_ISSUE_COLUMNS, LabelIssues, find_label_issues
from .scores import RANK_BY

__all__ = [
    "COUNT_METHODS",
    "LABEL_ISSUE_COLUMNS",
    "RANK_BY",
    "CrossFitLabelIssues",
    "LabelIssues",
    "confident_joint",
    "count_confident_joint",
    "count_mixture",
    "count_posterior",
    "error_posterior",
    "find_label_issues",
    "label_issues_from_data",
    "label_issues_one_run",
    "mixture_posterior",
    "noise_transition",
]
