"""The registry of trust baselines: name → class, listed by the CLI and the contract tests.

Every entry follows the oracle's convention (``fit(data)`` → self, ``predict_trust(data)`` →
``(N,)`` in [0, 1], higher = more trustworthy) and takes the frozen classifier first.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from .._validation import check_choice
from .baselines import MCDropoutTrust, MCPTrust, TrustScoreTrust
from .oracle import _require_module
from .posthoc import (
    DoctorTrust,
    EnergyTrust,
    EnsembleTrust,
    MaxLogitPNormTrust,
    MaxLogitTrust,
    RelativeUncertaintyTrust,
)

__all__ = ["BASELINES", "describe_baseline", "list_baselines", "make_baseline"]

#: name -> baseline class, in the order tables list them
BASELINES: dict[str, type] = {
    "mcp": MCPTrust,
    "maxlogit": MaxLogitTrust,
    "maxlogit_pnorm": MaxLogitPNormTrust,
    "energy": EnergyTrust,
    "doctor": DoctorTrust,
    "rel_u": RelativeUncertaintyTrust,
    "mc_dropout": MCDropoutTrust,
    "ensemble": EnsembleTrust,
    "trustscore": TrustScoreTrust,
}


def list_baselines() -> list[str]:
    """Names of the registered baselines, in table order."""
    return list(BASELINES)


def describe_baseline(name: str) -> str:
    """First line of the baseline's docstring."""
    check_choice(name, "baseline", BASELINES)
    return (BASELINES[name].__doc__ or "").strip().splitlines()[0]


def make_baseline(name: str, classifier: nn.Module, **params: Any) -> Any:
    """Build the baseline ``name`` (one of :data:`BASELINES`) for ``classifier``."""
    check_choice(name, "baseline", BASELINES)
    return BASELINES[name](_require_module(classifier), **params)
