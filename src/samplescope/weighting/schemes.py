"""The built-in weighting schemes, registered by name (see :mod:`.registry`).

Directions: ``hard_first``, ``inverse_margin``, ``class_balanced``, ``grw``, ``focal``,
``active_bias`` and ``online_hard_first`` up-weight hard samples; ``easy_first``, ``spl``,
``spl_linear``, ``superloss`` and ``truncated`` down-weight them (REFERENCE.md §2).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .active_bias import ActiveBias
from .class_weights import class_balanced, grw
from .focal import FocalLoss
from .hard_first import easy_first, hard_first, inverse_margin
from .online import OnlineWeighting
from .registry import register_weighting
from .self_paced import SelfPaced
from .superloss import SuperLoss
from .transforms import Transform
from .truncated import TruncatedLoss

__all__ = ["uniform"]


@register_weighting("uniform", "static", "w_i = 1 for every sample (the baseline)")
def uniform() -> Transform:
    return Transform("uniform", lambda v, ctx: np.ones_like(v))


@register_weighting(
    "hard_first",
    "static",
    "exp(rank(d)/t), mean one; chi2_cap= solves t for D_chi2 <= cap",
    needs_difficulty=True,
)
def _hard_first(
    temperature: float = 1.0,
    method: str = "rank",
    form: str = "exp",
    chi2_cap: float | None = None,
    max_ratio: float | None = None,
) -> Transform:
    return hard_first(temperature, method=method, form=form, chi2_cap=chi2_cap, max_ratio=max_ratio)


@register_weighting(
    "easy_first",
    "static",
    "exp(-rank(d)/t), mean one (down-weights hard / noisy samples)",
    needs_difficulty=True,
)
def _easy_first(
    temperature: float = 1.0,
    method: str = "rank",
    form: str = "exp",
    chi2_cap: float | None = None,
    max_ratio: float | None = None,
) -> Transform:
    return easy_first(temperature, method=method, form=form, chi2_cap=chi2_cap, max_ratio=max_ratio)


@register_weighting(
    "inverse_margin",
    "static",
    "1/(max(margin,0)+delta), mean one; d = -margin column",
    needs_difficulty=True,
)
def _inverse_margin(delta: float = 0.1, max_ratio: float | None = None) -> Transform:
    return inverse_margin(delta, max_ratio)


@register_weighting(
    "class_balanced", "static", "Cui 2019: w_c ∝ (1-beta)/(1-beta^n_c), sum_c w_c = C"
)
def _class_balanced(beta: float = 0.999) -> Transform:
    return class_balanced(beta)


@register_weighting("grw", "static", "G-RW (Zhang 2021): w_c ∝ (N/n_c)^rho, sum_c w_c = C")
def _grw(rho: float = 1.0) -> Transform:
    return grw(rho)


@register_weighting(
    "focal", "loss", "focal loss -alpha_y (1-p_t)^gamma log p_t (Lin 2017), gamma=2"
)
def _focal(gamma: float = 2.0, alpha: float | Sequence[float] | None = None) -> FocalLoss:
    return FocalLoss(gamma, alpha)


@register_weighting(
    "spl", "dynamic", "self-paced, hard: v = 1[loss < lambda], lambda = batch loss quantile"
)
def _spl(
    start: float = 0.5,
    end: float = 1.0,
    ramp_epochs: int | None = None,
    lam: float | None = None,
    growth: float = 1.1,
    rescale: bool = True,
) -> SelfPaced:
    return SelfPaced(
        "hard",
        start=start,
        end=end,
        ramp_epochs=ramp_epochs,
        lam=lam,
        growth=growth,
        rescale=rescale,
    )


@register_weighting("spl_linear", "dynamic", "self-paced, linear: v = max(0, 1 - loss/lambda)")
def _spl_linear(
    start: float = 0.5,
    end: float = 1.0,
    ramp_epochs: int | None = None,
    lam: float | None = None,
    growth: float = 1.1,
    rescale: bool = True,
) -> SelfPaced:
    return SelfPaced(
        "linear",
        start=start,
        end=end,
        ramp_epochs=ramp_epochs,
        lam=lam,
        growth=growth,
        rescale=rescale,
    )


@register_weighting(
    "superloss", "dynamic", "Castells 2020: sigma* = exp(-W0(max(-2/e,(l-tau)/lam)/2)), tau=log C"
)
def _superloss(tau: Any = "log", lam: float = 1.0, ema_decay: float = 0.9) -> SuperLoss:
    return SuperLoss(tau, lam=lam, ema_decay=ema_decay)


@register_weighting(
    "truncated", "dynamic", "drop the eps(t) largest batch losses, eps ramps 0 -> eps_max"
)
def _truncated(eps_max: float = 0.4, ramp_epochs: int = 10, rescale: bool = True) -> TruncatedLoss:
    return TruncatedLoss(eps_max, ramp_epochs=ramp_epochs, rescale=rescale)


@register_weighting("active_bias", "dynamic", "Chang 2017: w ∝ std of p[y] over the history + eps")
def _active_bias(eps: float = 0.05, warmup_epochs: int = 2, correction: bool = False) -> ActiveBias:
    return ActiveBias(eps, warmup_epochs=warmup_epochs, correction=correction)


@register_weighting(
    "online_hard_first", "dynamic", "hard_first on the current batch difficulty (loss|margin)"
)
def _online_hard_first(
    temperature: float = 1.0,
    measure: str = "loss",
    method: str = "rank",
    max_ratio: float | None = None,
) -> OnlineWeighting:
    return OnlineWeighting(hard_first(temperature, method=method, max_ratio=max_ratio), measure)


@register_weighting(
    "online_inverse_margin", "dynamic", "inverse margin of the current model, per batch"
)
def _online_inverse_margin(delta: float = 0.1, max_ratio: float | None = None) -> OnlineWeighting:
    return OnlineWeighting(inverse_margin(delta, max_ratio), "margin")
