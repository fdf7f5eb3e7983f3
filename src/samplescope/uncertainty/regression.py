"""Regression with both kinds of uncertainty (Kendall & Gal 2017; Kornaev lecture 6).

A :class:`~samplescope.uncertainty.heads.MeanVarianceRegressor` trained with the
heteroscedastic Gaussian NLL predicts a mean ``h(x)`` and ``s(x) = log σ²(x)``:

- aleatoric variance ``E_s[σ_s²(x)] = mean_s exp(s_s(x))`` (noise in the data);
- epistemic variance ``Var_s[h_s(x)]`` over MC-dropout passes or ensemble members (what
  the model does not know; grows away from the training data);
- total = aleatoric + epistemic (law of total variance).
All variances are ``(N, D)``, higher = more uncertain.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from .._validation import check_array, check_choice, check_integer, check_positive
from ..training.checks import check_module, forward_checked
from .losses import gaussian_nll
from .masks import mix_seed

__all__ = ["fit_regression", "predict_regression"]


def _as_2d(y: Any, name: str) -> np.ndarray:
    a = check_array(y, name, ndim=(1, 2), dtype=np.float32)
    return a[:, None] if a.ndim == 1 else a


def fit_regression(
    model: nn.Module,
    x: Any,
    y: Any,
    *,
    loss: str = "gaussian_nll",
    epochs: int = 200,
    batch_size: int = 128,
    lr: float = 1e-2,
    weight_decay: float = 0.0,
    seed: int = 0,
) -> list[float]:
    """Train a ``(mean, log_var)`` regressor in place; returns the mean loss of every epoch.

    Args:
        model: returns ``(mean (B, D), log_var (B, D))`` (or a tensor ``(B, D)`` for ``"mse"``).
        x: inputs ``(N, F)``; y: targets ``(N,)`` or ``(N, D)``.
        loss: ``"gaussian_nll"`` (heteroscedastic, learns σ(x)) or ``"mse"`` (mean only).
    """
    check_module(model)
    check_choice(loss, "loss", ("gaussian_nll", "mse"))
    xa = check_array(x, "x", ndim=(2, 3, 4, 5), dtype=np.float32)
    ya = _as_2d(y, "y")
    if len(xa) != len(ya):
        raise ValueError(
            f"mismatched lengths: expected equal first dimensions, got x={len(xa)}, y={len(ya)}"
        )
    epochs = check_integer(epochs, "epochs")
    batch_size = check_integer(batch_size, "batch_size")
    seed = check_integer(seed, "seed", minimum=0)
    check_positive(weight_decay, "weight_decay", strict=False)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    xt, yt = torch.as_tensor(xa), torch.as_tensor(ya)
    opt = torch.optim.Adam(
        model.parameters(), lr=check_positive(lr, "lr"), weight_decay=weight_decay
    )
    history = []
    first = True  # the first forward: the model must read x
    model.train()
    for _ in range(epochs):
        total = 0.0
        for idx in torch.randperm(len(xt), generator=gen).split(batch_size):
            out = forward_checked(model, xt[idx], "x") if first else model(xt[idx])
            first = False
            if loss == "gaussian_nll":
                if not isinstance(out, (tuple, list)):
                    raise ValueError(
                        "model: expected outputs (mean, log_var) for loss='gaussian_nll'"
                    )
                if out[0].reshape(len(idx), -1).shape[1] != yt.shape[1]:
                    raise ValueError(
                        f"y: expected {out[0].reshape(len(idx), -1).shape[1]} target columns "
                        f"(the model's outputs), got {yt.shape[1]}"
                    )
                per = gaussian_nll(
                    out[0].reshape(yt[idx].shape), out[1].reshape(yt[idx].shape), yt[idx]
                )
            else:
                mean = out[0] if isinstance(out, (tuple, list)) else out
                per = ((mean - yt[idx]) ** 2).sum(1)
            opt.zero_grad(set_to_none=True)
            per.mean().backward()
            opt.step()
            total += float(per.detach().sum())
        history.append(total / len(xt))
    model.eval()
    return history


@torch.no_grad()
def predict_regression(
    model: nn.Module | None,
    x: Any,
    *,
    samples: int = 50,
    seed: int = 0,
    members: Sequence[nn.Module] | None = None,
) -> dict[str, np.ndarray]:
    """Mean and uncertainty of a ``(mean, log_var)`` regressor (or of plain-mean models).

    Args:
        model: the regressor; MC dropout with ``samples`` passes when it has dropout layers
            (else one deterministic pass). Ignored when ``members`` is given.
        x: inputs ``(N, F)``.
        samples: MC-dropout passes S.
        seed: seeds the dropout masks.
        members: ensemble members instead of MC dropout.

    Returns:
        dict of ``(N, D)`` arrays: ``mean`` (mean over passes), ``aleatoric_variance`` (mean
        predicted σ²; zeros for models without a variance head), ``epistemic_variance``
        (variance of the means over passes), ``total_variance`` (their sum); plus ``means``
        ``(S, N, D)``. (Variances of a regression output: not the classification entropies
        ``expected_entropy`` / ``mutual_information`` of :mod:`samplescope.functional`.)
    """
    xt = torch.as_tensor(check_array(x, "x", ndim=(2, 3, 4, 5), dtype=np.float32))
    if members is not None and (
        isinstance(members, (str, bytes, nn.Module)) or not isinstance(members, Sequence)
    ):
        raise ValueError(f"members: expected a sequence of models, got {type(members).__name__}")
    models = list(members) if members else ([] if model is None else [model])
    if not models:
        raise ValueError("model: expected a model or members=[...], got neither")
    for m in models:
        check_module(m, "members" if members else "model")
    seed = check_integer(seed, "seed", minimum=0)
    samples = check_integer(samples, "samples")
    flags = [[m.training for m in net.modules()] for net in models]
    means, variances = [], []
    try:
        if members:
            passes = [(net, None) for net in models]
        else:
            net = models[0]
            net.eval()
            drop = [m for m in net.modules() if isinstance(m, nn.modules.dropout._DropoutNd)]
            for m in drop:
                m.train()
            s = samples if drop else 1
            passes = [(net, i) for i in range(s)]
        with torch.random.fork_rng(devices=[]):
            for net, i in passes:
                if i is None:
                    net.eval()
                else:
                    torch.manual_seed(mix_seed(seed, i))
                out = forward_checked(net, xt, "x") if not means else net(xt)
                mean = out[0] if isinstance(out, (tuple, list)) else out
                mean = mean.reshape(len(xt), -1)
                means.append(mean.double().numpy())
                if isinstance(out, (tuple, list)) and len(out) > 1:
                    variances.append(out[1].reshape(len(xt), -1).double().exp().numpy())
                else:
                    variances.append(np.zeros_like(means[-1]))
    finally:
        for net, fl in zip(models, flags, strict=True):
            for m, f in zip(net.modules(), fl, strict=True):
                m.training = f
    mu = np.stack(means)
    alea = np.mean(variances, axis=0)
    epi = mu.var(axis=0)
    return {
        "mean": mu.mean(0),
        "aleatoric_variance": alea,
        "epistemic_variance": epi,
        "total_variance": alea + epi,
        "means": mu,
    }
