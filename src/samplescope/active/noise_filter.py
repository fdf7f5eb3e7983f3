"""Label-likelihood filter for noisy labellers (report §5.1).

Keep a queried pool point only if the model believes its received label:
``p(y = y_given | x, D_train) >= τ`` with p the MC-dropout predictive mean p̄ ``(N, C)``.
``tau`` is a fixed number in [0, 1] or ``"dynamic"``. The report does not define its
dynamic threshold; ours (documented design choice) scales with the model's confidence:

    τ_t = 1/C + (τ_max - 1/C) · (1 - H̄_t / log C)

where H̄_t is the mean predictive entropy over the scored pool subset: an uncertain model
(H̄ ≈ log C) only rejects labels it finds less likely than chance, a confident one uses
up to ``tau_max``. Rejections are counted per step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._validation import check_fraction, check_labels, check_probs
from ..functional import entropy

__all__ = ["LabelFilter", "dynamic_tau"]


def dynamic_tau(mean_probs: np.ndarray, tau_max: float = 0.25) -> float:
    """``1/C + (tau_max - 1/C)·(1 - mean H[p̄]/log C)`` for predictive means ``(N, C)``."""
    mean_probs = check_probs(mean_probs, "mean_probs")
    tau_max = check_fraction(tau_max, "tau_max")
    c = mean_probs.shape[1]
    h = entropy(mean_probs, axis=1).mean()
    conf = 1.0 - float(h) / np.log(c)
    return float(1.0 / c + (tau_max - 1.0 / c) * np.clip(conf, 0.0, 1.0))


@dataclass
class LabelFilter:
    """Keep a labelled query iff ``p̄(y_given | x) >= τ``; ``tau`` float or ``"dynamic"``."""

    tau: float | str = 0.1
    tau_max: float = 0.25
    rejections: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        if isinstance(self.tau, str):
            if self.tau != "dynamic":
                raise ValueError(f"tau: expected a number in [0, 1] or 'dynamic', got {self.tau!r}")
        else:
            self.tau = check_fraction(self.tau, "tau")
        self.tau_max = check_fraction(self.tau_max, "tau_max")

    def threshold(self, context_probs: np.ndarray) -> float:
        """τ for this step; ``context_probs`` (M, C) = predictive means over the scored subset."""
        return (
            dynamic_tau(context_probs, self.tau_max) if self.tau == "dynamic" else float(self.tau)
        )

    def keep(self, probs: Any, labels: Any, *, context_probs: Any = None) -> np.ndarray:
        """Boolean mask ``(k,)`` of queries to keep; ``probs`` (k, C) predictive means of them."""
        p = check_probs(probs, "probs")
        y = check_labels(labels, "labels", n=len(p), num_classes=p.shape[1])
        ctx = p if context_probs is None else check_probs(context_probs, "context_probs")
        tau = self.threshold(ctx)
        mask = p[np.arange(len(y)), y] >= tau
        self.rejections.append(int((~mask).sum()))
        return mask
