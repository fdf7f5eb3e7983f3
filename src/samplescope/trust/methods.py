"""The methods of a trust table: oracle variants ``loss[:head[:correctness[:features]]]`` and
baselines.

An oracle spec names a registered loss, optionally its head, the source of its correctness
labels and its features: ``"ss"`` (the config's defaults), ``"ss:msp"``, ``"ss:msp:crossfit"``,
``"ss:msp:crossfit:stats"`` (``features="logit_stats"``; ``"backbone"`` otherwise). The spec
string is the method's name in every table.

:func:`fit_baseline` builds and fits one registered baseline with the protocol's settings;
``rel_u`` and ``ensemble`` use the shared cross-fitting (the out-of-fold probabilities and
correctness stand in for Rel-U's validation split; the out-of-fold models are the ensemble's
other members).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from torch import nn

from .._validation import check_choice
from ..data.split import DataSplit
from ..training.checks import renamed_argument
from .correctness import CorrectnessTargets
from .heads import HEADS
from .losses import get_trust_loss
from .registry import BASELINES, make_baseline

__all__ = ["parse_oracle", "needs_crossfit", "fit_baseline"]

#: baselines that use the shared cross-fitting
CROSSFIT_BASELINES = ("rel_u", "ensemble")


SPEC = "loss[:head[:correctness[:stats]]]"


def parse_oracle(spec: str, head: str, correctness: str) -> tuple[str, str, str, str]:
    """``(loss, head, correctness, features)`` of an oracle spec (defaults filled in)."""
    if not isinstance(spec, str) or not spec:
        raise ValueError(f"losses: expected '{SPEC}' names, got {spec!r}")
    parts = spec.split(":")
    if len(parts) > 4 or (len(parts) == 4 and parts[3] != "stats"):
        raise ValueError(f"losses: expected '{SPEC}', got {spec!r}")
    loss = parts[0]
    head = parts[1] if len(parts) > 1 else head
    correctness = parts[2] if len(parts) > 2 else correctness
    features = "logit_stats" if len(parts) == 4 else "backbone"
    with renamed_argument("head", "losses"):
        check_choice(head, "head", HEADS)
    with renamed_argument("correctness", "losses"):
        check_choice(correctness, "correctness", ("insample", "crossfit"))
    return loss, head, correctness, features


def check_oracle_spec(spec: str, head: str, correctness: str, ss_params: dict) -> None:
    """Validate one oracle spec and its loss (``ValueError`` naming ``losses``)."""
    loss = parse_oracle(spec, head, correctness)[0]
    with renamed_argument("loss", "losses"):
        get_trust_loss(loss, **(ss_params if loss == "ss" else {}))


def needs_crossfit(config: Any) -> bool:
    """Whether any oracle or baseline of ``config`` uses the shared cross-fitting."""
    specs = [parse_oracle(s, config.head, config.correctness) for s in config.losses]
    return any(s[2] == "crossfit" for s in specs) or any(
        b in CROSSFIT_BASELINES for b in config.baselines
    )


def fit_baseline(
    name: str,
    classifier: nn.Module,
    train: DataSplit,
    config: Any,
    seed: int,
    cf: CorrectnessTargets | None,
) -> Any:
    """Build and fit baseline ``name`` with the protocol's settings (``cf``: shared crossfit)."""
    check_choice(name, "baselines", BASELINES)
    params: dict[str, Any] = {}
    if name == "mc_dropout":
        params = {"samples": config.mc_samples, "seed": seed}
    elif name == "trustscore":
        params = {"k": config.trustscore_k, "alpha": config.trustscore_alpha}
    elif name == "ensemble":
        if cf is None or cf.models is None:
            raise ValueError("baselines: 'ensemble' needs the cross-fitted models, got none")
        params = {"members": list(cf.models)}
    est = make_baseline(name, classifier, **params)
    if name == "rel_u":
        if cf is None:
            raise ValueError("baselines: 'rel_u' needs the cross-fitted predictions, got none")
        lg = cf.logits - cf.logits.max(1, keepdims=True)
        probs = np.exp(lg) / np.exp(lg).sum(1, keepdims=True)
        return est.fit(train, probs=probs, correct=cf.o)
    return est.fit(train)
