"""Bayesian last layer on frozen features (report §4, appendix A): regression on one-hot targets.

Features Φ ``(N, D)`` (e.g. the 128-d penultimate activations of Gal's CNN), targets
Y ``(N, K)`` (one-hot). Prior W ~ MN(0, s² I_D, Σ), likelihood Y ~ MN(ΦW, σ² I_N, Σ).

- ``analytic``: posterior MN(μ', Σ', Σ) with Σ' = (σ⁻² ΦᵀΦ + s⁻² I)⁻¹, μ' = Σ' σ⁻² ΦᵀY;
  predictive N(μ'ᵀφ*, (σ² + φ*ᵀΣ'φ*) Σ).
- ``mfvi``: mean-field q(W) = Π N(m_kd, σ²_kd) maximising the ELBO in closed form
  (Σ = I): m = μ' (MF recovers the exact Gaussian mean), σ²_kd = (σ⁻² Σ_n φ²_nk + s⁻²)⁻¹;
  predictive Var(y_d*) = σ² + Σ_k φ*_k² σ²_kd (it ignores the feature correlations, so it
  under-estimates the variance: KL(q‖p) is mode-seeking).

The acquisition score is the trace of the predictive covariance (higher = acquire first);
``rmse`` reports sqrt(mean_n ‖y_n - μ*_n‖²/K).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import (
    check_array,
    check_choice,
    check_labels,
    check_num_classes,
    check_positive,
    to_numpy,
)

__all__ = ["BayesianLastLayer"]


class BayesianLastLayer:
    """Bayesian linear regression head (scikit-learn style: ``fit`` returns self).

    Args:
        method: ``"analytic"`` (matrix-normal posterior) or ``"mfvi"`` (mean-field VI).
        noise_var: σ², the observation noise variance.
        prior_var: s², the prior variance of each weight.
        output_cov: Σ ``(K, K)`` output covariance (analytic only); default I.
        bias: append a constant feature 1.
    """

    def __init__(
        self,
        method: str = "analytic",
        *,
        noise_var: float = 0.1,
        prior_var: float = 1.0,
        output_cov: Any = None,
        bias: bool = True,
    ) -> None:
        self.method = check_choice(method, "method", ("analytic", "mfvi"))
        self.noise_var = check_positive(noise_var, "noise_var")
        self.prior_var = check_positive(prior_var, "prior_var")
        self.output_cov = output_cov
        self.bias = bias

    def _phi(self, features: Any) -> np.ndarray:
        f = check_array(features, "features", ndim=2)
        return np.hstack([f, np.ones((len(f), 1))]) if self.bias else f

    def fit(self, features: Any, targets: Any, num_classes: int | None = None) -> BayesianLastLayer:
        """Fit on ``features (N, D)`` and ``targets``: labels ``(N,)`` (one-hot encoded) or ``(N, K)``."""
        phi = self._phi(features)
        if num_classes is not None:
            num_classes = check_num_classes(num_classes)
        t = to_numpy(targets)
        if t.ndim == 1:
            y = check_labels(t, "targets", n=len(phi), num_classes=num_classes)
            k = int(num_classes or y.max() + 1)
            t = np.eye(k)[y]
        else:
            t = check_array(t, "targets", ndim=2)
        if len(t) != len(phi):
            raise ValueError(f"targets: expected {len(phi)} rows, got {len(t)}")
        d = phi.shape[1]
        prec = phi.T @ phi / self.noise_var + np.eye(d) / self.prior_var  # Λ = Σ'^{-1}
        chol = np.linalg.cholesky(prec)
        cov = np.linalg.inv(chol).T @ np.linalg.inv(chol)  # Σ'
        self.mean_ = cov @ (phi.T @ t) / self.noise_var  # (D, K)
        self.row_cov_ = cov
        k = t.shape[1]
        if self.method == "mfvi":
            self.weight_var_ = np.repeat((1.0 / np.diag(prec))[:, None], k, axis=1)  # (D, K)
        sigma = (
            np.eye(k)
            if self.output_cov is None
            else check_array(self.output_cov, "output_cov", ndim=2)
        )
        if sigma.shape != (k, k):
            raise ValueError(f"output_cov: expected shape ({k}, {k}), got {sigma.shape}")
        self.output_cov_ = sigma
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "mean_"):
            raise ValueError("BayesianLastLayer: call fit(features, targets) before predicting")

    def predict(self, features: Any) -> tuple[np.ndarray, np.ndarray]:
        """``(mean (N, K), marginal variances (N, K))`` of the predictive distribution."""
        self._check_fitted()
        phi = self._phi(features)
        if phi.shape[1] != self.mean_.shape[0]:
            raise ValueError(
                f"features: expected {self.mean_.shape[0] - int(self.bias)} columns like the fit "
                f"features, got {phi.shape[1] - int(self.bias)}"
            )
        mean = phi @ self.mean_
        if self.method == "analytic":
            var_star = self.noise_var + np.einsum("nd,de,ne->n", phi, self.row_cov_, phi)
            var = var_star[:, None] * np.diag(self.output_cov_)[None, :]
        else:
            var = self.noise_var + (phi**2) @ self.weight_var_
        return mean, var

    def predictive_trace(self, features: Any) -> np.ndarray:
        """Trace of the predictive covariance ``(N,)``: the acquisition score (higher = acquire)."""
        return self.predict(features)[1].sum(axis=1)

    def rmse(self, features: Any, labels: Any) -> float:
        """``sqrt(mean ‖onehot(y) - μ*‖² / K)`` on labelled data."""
        mean, _ = self.predict(features)
        y = check_labels(labels, "labels", n=len(mean), num_classes=mean.shape[1])
        return float(np.sqrt(np.mean((np.eye(mean.shape[1])[y] - mean) ** 2)))
