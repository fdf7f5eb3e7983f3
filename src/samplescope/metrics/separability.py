"""Separability of two score distributions through Gaussian fits (Luo et al. 2021).

Each set of scores is fitted with a Gaussian ``N(μ, σ²)`` (maximum likelihood: mean and
population variance, ``ddof=0``). Typically ``scores_a`` are the trust scores of the correct
predictions and ``scores_b`` those of the errors. All values are **higher = better
separated** and 0 for identical fits. A constant score set (σ = 0) raises ``ValueError``.

- ``KL(N_a ‖ N_b) = ln(σ_b/σ_a) + (σ_a² + (μ_a − μ_b)²)/(2σ_b²) − ½`` (Luo's code drops the 2);
- symmetric KL: the mean of both directions;
- Bhattacharyya distance ``¼ ln(¼(σ_a²/σ_b² + σ_b²/σ_a² + 2)) + ¼ (μ_a − μ_b)²/(σ_a² + σ_b²)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_scores

__all__ = ["gaussian_fit", "gaussian_kl", "symmetric_gaussian_kl", "bhattacharyya"]


def gaussian_fit(scores: Any, name: str = "scores") -> tuple[float, float]:
    """``(μ, σ²)`` of ``scores`` ``(N,)``, N ≥ 2 and not constant."""
    s = check_scores(scores, name)
    if len(s) < 2:
        raise ValueError(f"{name}: expected at least 2 scores to fit a Gaussian, got {len(s)}")
    var = float(s.var())
    if var <= 0:
        raise ValueError(
            f"{name}: expected non-constant scores (σ > 0), got all equal to {s[0]:.6g}"
        )
    return float(s.mean()), var


def _kl(m1: float, v1: float, m2: float, v2: float) -> float:
    return 0.5 * np.log(v2 / v1) + (v1 + (m1 - m2) ** 2) / (2 * v2) - 0.5


def gaussian_kl(scores_a: Any, scores_b: Any) -> float:
    """``KL(N_a ‖ N_b)`` of the Gaussian fits of two score sets ``(N_a,)``, ``(N_b,)`` (≥ 0)."""
    m1, v1 = gaussian_fit(scores_a, "scores_a")
    m2, v2 = gaussian_fit(scores_b, "scores_b")
    return float(_kl(m1, v1, m2, v2))


def symmetric_gaussian_kl(scores_a: Any, scores_b: Any) -> float:
    """``½ (KL(N_a ‖ N_b) + KL(N_b ‖ N_a))`` of the Gaussian fits (≥ 0)."""
    m1, v1 = gaussian_fit(scores_a, "scores_a")
    m2, v2 = gaussian_fit(scores_b, "scores_b")
    return float(0.5 * (_kl(m1, v1, m2, v2) + _kl(m2, v2, m1, v1)))


def bhattacharyya(scores_a: Any, scores_b: Any) -> float:
    """Bhattacharyya distance of the Gaussian fits of two score sets (≥ 0, symmetric)."""
    m1, v1 = gaussian_fit(scores_a, "scores_a")
    m2, v2 = gaussian_fit(scores_b, "scores_b")
    return float(0.25 * np.log(0.25 * (v1 / v2 + v2 / v1 + 2)) + 0.25 * (m1 - m2) ** 2 / (v1 + v2))
