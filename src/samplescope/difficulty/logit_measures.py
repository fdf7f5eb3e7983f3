"""Difficulty from one model's logits ``(N, C)`` and labels ``(N,)``; all higher = harder.

- ``loss``: cross-entropy ``-log p[y]``.
- ``confidence``: ``1 - p[y]`` (the self-confidence of cleanlab, turned into a difficulty;
  not :func:`samplescope.functional.max_prob`).
- ``margin``: ``-(z_y - max_{j≠y} z_j)`` (Zhou et al. 2022, multi-class margin on logits;
  :func:`samplescope.functional.logit_margin`).
- ``entropy``: ``H[p] = -Σ_k p_k log p_k`` (label-free; :func:`samplescope.functional.entropy`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import functional as F
from .._validation import check_labels, check_logits
from .registry import register_measure

__all__ = ["loss_score", "confidence_score", "margin_score", "entropy_score"]


def _validate(logits: Any, labels: Any) -> tuple[np.ndarray, np.ndarray]:
    z = check_logits(logits)
    y = check_labels(labels, num_classes=z.shape[1], n=z.shape[0])
    return z, y


def _label_log_prob(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    return F.log_softmax(z, axis=1)[np.arange(len(y)), y]


@register_measure("loss", "logits", "cross-entropy -log p[y] of the model's prediction")
def loss_score(logits: Any, labels: Any) -> np.ndarray:
    """Per-sample cross-entropy ``-log softmax(z)[y]``, shape ``(N,)``; higher = harder."""
    return -_label_log_prob(*_validate(logits, labels))


@register_measure("confidence", "logits", "1 - p[y]: one minus the probability of the given label")
def confidence_score(logits: Any, labels: Any) -> np.ndarray:
    """``1 - p[y]``, shape ``(N,)`` in [0, 1]; higher = harder."""
    return 1.0 - np.exp(_label_log_prob(*_validate(logits, labels)))


@register_measure(
    "margin", "logits", "-(z_y - max_{j!=y} z_j): negative logit margin (Zhou eq. multi-class)"
)
def margin_score(logits: Any, labels: Any) -> np.ndarray:
    """Negative logit margin ``max_{j≠y} z_j - z_y``, shape ``(N,)``; higher = harder."""
    return F.logit_margin(*_validate(logits, labels))


@register_measure("entropy", "logits", "predictive entropy H[p] of the softmax (label-free)")
def entropy_score(logits: Any, labels: Any = None) -> np.ndarray:
    """Entropy ``-Σ_k p_k log p_k`` in nats, shape ``(N,)``; higher = harder. Labels are ignored."""
    z = check_logits(logits)
    if labels is not None:
        check_labels(labels, num_classes=z.shape[1], n=z.shape[0])
    return F.entropy(F.softmax(z, axis=1), axis=1)
