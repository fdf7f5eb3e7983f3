"""Uncertainty as difficulty over ``S`` stochastic predictions ``probs`` ``(S, N, C)``.

MC-dropout passes or ensemble members (or the K-fold repeats of
:func:`~samplescope.difficulty.generalization_error`); kind ``"stochastic"``, each
``fn(probs (S, N, C), labels (N,) or None) -> (N,)``, all higher = harder (more uncertain).
The labels are only validated (these measures are label-free). Formulas in
:mod:`samplescope.functional`:

- ``predictive_entropy`` (total, alias ``total``): ``H[mean_s p_s]``;
- ``expected_entropy`` (aleatoric, alias ``aleatoric``): ``mean_s H[p_s]``;
- ``mutual_information`` (epistemic, BALD; aliases ``bald``, ``epistemic``):
  ``H[mean_s p_s] - mean_s H[p_s] ≥ 0``;
- ``predictive_variance`` (Zhou et al. 2022 eq. 7 without the precision constant; alias
  ``predictive_trace``): ``mean_s ‖p_s‖² - ‖mean_s p_s‖²``;
- ``variation_ratio`` (Gal 2016; alias ``variation_ratios``): ``1 - modal count / S``;
- ``mean_std`` (Kampffmeyer et al. 2016): ``mean_c std_s p_{s,c}``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import functional as F
from .._validation import check_labels, check_stochastic_probs
from .registry import register_measure, register_measure_alias

__all__ = [
    "check_stochastic_inputs",
    "predictive_entropy_score",
    "expected_entropy_score",
    "mutual_information_score",
    "predictive_variance_score",
    "variation_ratio_score",
    "mean_std_score",
]


def check_stochastic_inputs(probs: Any, labels: Any) -> np.ndarray:
    """Validate ``probs (S, N, C)`` and, when given, ``labels (N,)``; return the probabilities."""
    p = check_stochastic_probs(probs)
    if labels is not None:
        check_labels(labels, num_classes=p.shape[2], n=p.shape[1])
    return p


@register_measure(
    "predictive_entropy", "stochastic", "total uncertainty: entropy of the mean prediction"
)
def predictive_entropy_score(probs: Any, labels: Any = None) -> np.ndarray:
    """Predictive entropy ``H[mean_s p_s]`` ``(N,)``; higher = harder."""
    return F.predictive_entropy(check_stochastic_inputs(probs, labels))


@register_measure(
    "expected_entropy", "stochastic", "aleatoric uncertainty: mean entropy of the S predictions"
)
def expected_entropy_score(probs: Any, labels: Any = None) -> np.ndarray:
    """Expected entropy ``mean_s H[p_s]`` ``(N,)`` (``≤ H[p̄]``); higher = harder."""
    return F.expected_entropy(check_stochastic_inputs(probs, labels))


@register_measure(
    "mutual_information", "stochastic", "BALD: H[mean_s p_s] - mean_s H[p_s] (epistemic)"
)
def mutual_information_score(probs: Any, labels: Any = None) -> np.ndarray:
    """Mutual information ``(N,)`` of ``probs (S, N, C)`` in nats; ``>= 0``, higher = harder."""
    return F.mutual_information(check_stochastic_inputs(probs, labels))


@register_measure(
    "predictive_variance", "stochastic", "Zhou eq. 7: mean_s ||p_s||^2 - ||mean_s p_s||^2"
)
def predictive_variance_score(probs: Any, labels: Any = None) -> np.ndarray:
    """Predictive variance ``(N,)`` of ``probs (S, N, C)``; ``>= 0``, higher = harder. Labels unused."""
    return F.predictive_variance(check_stochastic_inputs(probs, labels))


@register_measure(
    "variation_ratio", "stochastic", "1 - modal-class count / S over the S argmaxes (Gal 2016)"
)
def variation_ratio_score(probs: Any, labels: Any = None) -> np.ndarray:
    """Variation ratio ``(N,)`` in ``[0, 1)``; 0 when the S argmaxes agree, higher = harder."""
    return F.variation_ratio(check_stochastic_inputs(probs, labels))


@register_measure("mean_std", "stochastic", "mean_c std_s p_{s,c} (Kampffmeyer 2016)")
def mean_std_score(probs: Any, labels: Any = None) -> np.ndarray:
    """Mean over classes of the std of ``p_{s,c}`` over the S samples ``(N,)``; higher = harder."""
    return F.mean_std(check_stochastic_inputs(probs, labels))


for _alias, _name in (
    ("total", "predictive_entropy"),
    ("max_entropy", "predictive_entropy"),
    ("aleatoric", "expected_entropy"),
    ("epistemic", "mutual_information"),
    ("bald", "mutual_information"),
    ("predictive_trace", "predictive_variance"),
    ("variation_ratios", "variation_ratio"),
):
    register_measure_alias(_alias, _name)
