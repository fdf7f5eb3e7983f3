"""Stopping criteria for active learning: when to stop asking for labels.

Each rule sees, after every training round, a dict ``info`` with ``n_labelled`` (labels so
far), ``scores`` (the acquisition scores of the last candidates, higher = more worth
labelling; may be absent) and ``stop_predictions`` (the current model's predicted classes
on a fixed unlabelled *stop set*; may be absent), and answers ``update(info) -> bool``
(True = stop now). Rules are JSON-serialisable through ``state_dict`` / ``load_state_dict``
so a resumed run stops where an uninterrupted one would.

- :class:`BudgetStop`: ``n_labelled >= budget``.
- :class:`MaxUncertaintyStop`: ``max_i score_i < threshold`` (the max-uncertainty /
  "max-confidence" criterion of Zhu, Wang & Hovy 2008): no candidate is worth a label.
- :class:`StabilizingPredictions`: Bloodgood & Vijay-Shanker (2009), "A Method for Stopping
  Active Learning Based on Stabilizing Predictions": Cohen's κ between the predictions of
  successive models on the stop set,
  κ = (p_o - p_e) / (1 - p_e), p_o = agreement, p_e = Σ_c p¹_c p²_c (label marginals);
  stop when the mean of the last ``window`` κ values (k = 3 in the paper) is ≥
  ``threshold`` (0.99 in the paper).

:func:`first_stop` runs a list of rules and returns the name of the first that fires.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._validation import check_fraction, check_integer, check_labels, check_number

__all__ = [
    "StoppingRule",
    "BudgetStop",
    "MaxUncertaintyStop",
    "StabilizingPredictions",
    "cohen_kappa",
    "first_stop",
]


def cohen_kappa(a: Any, b: Any) -> float:
    """Cohen's κ of two label vectors ``(N,)``; 1.0 when both are the same single class."""
    a = check_labels(a, "a")
    b = check_labels(b, "b", n=len(a))
    c = int(max(a.max(), b.max())) + 1
    po = float((a == b).mean())
    pe = float((np.bincount(a, minlength=c) / len(a)) @ (np.bincount(b, minlength=c) / len(b)))
    return 1.0 if pe >= 1.0 else (po - pe) / (1.0 - pe)


class StoppingRule:
    """Base class: ``name``, ``update(info) -> bool``, JSON ``state_dict``."""

    name = "rule"

    def update(self, info: dict[str, Any]) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        return None


class BudgetStop(StoppingRule):
    """Stop once ``n_labelled >= budget``."""

    name = "budget"

    def __init__(self, budget: int) -> None:
        self.budget = check_integer(budget, "budget")

    def update(self, info: dict[str, Any]) -> bool:
        return int(info["n_labelled"]) >= self.budget


class MaxUncertaintyStop(StoppingRule):
    """Stop when the largest acquisition score of the candidates is below ``threshold``."""

    name = "max_uncertainty"

    def __init__(self, threshold: float) -> None:
        self.threshold = check_number(threshold, "threshold")

    def update(self, info: dict[str, Any]) -> bool:
        scores = info.get("scores")
        if scores is None or len(scores) == 0:
            return False
        return float(np.max(scores)) < self.threshold


class StabilizingPredictions(StoppingRule):
    """Bloodgood & Vijay-Shanker (2009): mean κ of the last ``window`` rounds ≥ ``threshold``."""

    name = "stabilizing_predictions"

    def __init__(self, threshold: float = 0.99, window: int = 3) -> None:
        self.threshold = check_fraction(threshold, "threshold")
        self.window = check_integer(window, "window")
        self.kappas: list[float] = []
        self.previous: list[int] | None = None

    def update(self, info: dict[str, Any]) -> bool:
        pred = info.get("stop_predictions")
        if pred is None:
            return False
        pred = check_labels(pred, "stop_predictions")
        if self.previous is not None:
            if len(self.previous) != len(pred):
                raise ValueError(
                    f"stop_predictions: expected {len(self.previous)} predictions (the stop set), "
                    f"got {len(pred)}"
                )
            self.kappas.append(cohen_kappa(np.asarray(self.previous), pred))
        self.previous = pred.tolist()
        recent = self.kappas[-self.window :]
        return len(recent) == self.window and float(np.mean(recent)) >= self.threshold

    def state_dict(self) -> dict[str, Any]:
        return {"kappas": list(self.kappas), "previous": self.previous}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.kappas = [float(k) for k in state.get("kappas", [])]
        prev = state.get("previous")
        self.previous = None if prev is None else [int(v) for v in prev]


def check_rules(rules: Any) -> list[StoppingRule]:
    """``rules`` as a list of :class:`StoppingRule` (None = none); ``ValueError`` otherwise."""
    if rules is None:
        return []
    if isinstance(rules, StoppingRule):
        return [rules]
    if isinstance(rules, (str, bytes)) or not isinstance(rules, Sequence):
        raise ValueError(f"stopping: expected a list of StoppingRule, got {rules!r}")
    for i, r in enumerate(rules):
        if not isinstance(r, StoppingRule):
            raise ValueError(f"stopping[{i}]: expected a StoppingRule, got {type(r).__name__}")
    names = [r.name for r in rules]
    if len(set(names)) != len(names):
        raise ValueError(f"stopping: expected one rule of each kind, got {names}")
    return list(rules)


def first_stop(rules: Sequence[StoppingRule], info: dict[str, Any]) -> str | None:
    """Update every rule with ``info`` (all of them, so their state stays in step); return the
    name of the first that fires, or None."""
    fired = [r.name for r in check_rules(list(rules)) if r.update(info)]
    return fired[0] if fired else None
