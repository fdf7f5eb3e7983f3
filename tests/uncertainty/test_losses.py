"""Likelihood losses, heads, label smoothing: torch references, analytic optima, planted noise."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from samplescope.data import inject_label_noise, load_dataset
from samplescope.metrics import noise_detection_report
from samplescope.models import mlp
from samplescope.training import fit
from samplescope.uncertainty import (
    HeteroscedasticLoss,
    LabelSmoothingLoss,
    MeanVarianceRegressor,
    UANLLLoss,
    UncertaintyAwareClassifier,
    fit_regression,
    gaussian_nll,
    label_smoothing_cross_entropy,
    predict_log_variance,
    predict_regression,
    uanll,
)


def test_gaussian_nll_matches_torch() -> None:
    g = torch.Generator().manual_seed(0)
    mean, log_var, y = (torch.randn(50, 3, generator=g, dtype=torch.float64) for _ in range(3))
    ref = nn.functional.gaussian_nll_loss(mean, y, log_var.exp(), reduction="none", eps=1e-12)
    torch.testing.assert_close(gaussian_nll(mean, log_var, y), ref.sum(1))
    # the optimum log-variance for a fixed residual r is log r^2
    r = torch.tensor([0.5, 2.0], dtype=torch.float64)
    s = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    gaussian_nll(torch.zeros(2), (r**2).log(), r)  # shapes ok
    loss = gaussian_nll(torch.zeros(2, dtype=torch.float64), s, r).sum()
    (grad,) = torch.autograd.grad(loss, s)
    torch.testing.assert_close(grad, 0.5 * (1 - r**2))
    with pytest.raises(ValueError, match="equal shapes"):
        gaussian_nll(mean, log_var[:, :2], y)


def test_uanll_formula_and_optimum() -> None:
    logits = torch.tensor([[2.0, 0.0, -1.0], [0.0, 0.0, 0.0]], dtype=torch.float64)
    labels = torch.tensor([0, 2])
    s = torch.tensor([0.3, -0.2], dtype=torch.float64, requires_grad=True)
    p = logits.softmax(1)
    sq = ((torch.eye(3, dtype=torch.float64)[labels] - p) ** 2).sum(1)
    expected = 0.5 * (torch.exp(-s) * sq + 3 * s)
    torch.testing.assert_close(uanll(logits, s, labels), expected)
    # d/ds = 0 at s* = log(sq / C)
    s_star = (sq / 3).log().detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(uanll(logits, s_star, labels).sum(), s_star)
    torch.testing.assert_close(grad, torch.zeros(2, dtype=torch.float64))
    # clamping
    assert torch.all(
        uanll(logits, torch.full((2,), -50.0, dtype=torch.float64), labels, s_min=-5)
        == uanll(logits, torch.full((2,), -5.0, dtype=torch.float64), labels)
    )
    with pytest.raises(ValueError, match="one per sample"):
        uanll(logits, s[:1], labels)


def test_label_smoothing() -> None:
    g = torch.Generator().manual_seed(0)
    z = torch.randn(20, 4, generator=g)
    y = torch.randint(0, 4, (20,), generator=g)
    ref = nn.functional.cross_entropy(z, y, label_smoothing=0.1, reduction="none")
    torch.testing.assert_close(label_smoothing_cross_entropy(z, y, 0.1), ref)
    # lecture's variant for 3 classes: targets [1-e, e/2, e/2]
    z3, y3 = z[:, :3], torch.zeros(20, dtype=torch.long)
    target = torch.tensor([0.9, 0.05, 0.05])
    torch.testing.assert_close(
        LabelSmoothingLoss(0.1, "others")(z3, y3), -(target * z3.log_softmax(1)).sum(1)
    )
    torch.testing.assert_close(
        label_smoothing_cross_entropy(z, y, 0.0),
        nn.functional.cross_entropy(z, y, reduction="none"),
    )
    with pytest.raises(ValueError, match="epsilon"):
        LabelSmoothingLoss(1.5)
    with pytest.raises(ValueError, match="mode"):
        LabelSmoothingLoss(0.1, "other")


def test_uanll_s_flags_noisy_class_pairs_planted() -> None:
    # s = s(x) cannot see the label, so it flags noise through the classes whose labels are
    # swapped (asymmetric noise, the lecture's setting): higher s on those classes.
    ds = load_dataset("digits")
    pairs = {1: 7, 7: 1, 3: 8, 8: 3}
    y_noisy, noisy = inject_label_noise(
        ds.train.y, 0.4, "asymmetric", ds.num_classes, seed=0, mapping=pairs
    )
    train = ds.train.with_labels(y_noisy)
    torch.manual_seed(0)
    model = UncertaintyAwareClassifier(mlp(ds.input_shape, ds.num_classes, hidden=(64,)))
    res = fit(model, train, epochs=12, lr=3e-3, loss_fn=UANLLLoss(), progress=False, seed=0)
    assert np.isfinite(res.history[-1]["train_loss"])
    s = predict_log_variance(model, train)
    assert s.shape == (len(train),)
    in_pairs = np.isin(ds.train.y, list(pairs))
    assert s[in_pairs].mean() > s[~in_pairs].mean() + 0.5
    assert noise_detection_report(noisy, s)["auroc"] > 0.65
    logits, s_t = model(torch.as_tensor(train.x[:5]))
    assert logits.shape == (5, 10) and s_t.shape == (5,)


def test_heteroscedastic_regression_recovers_sigma() -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (1500, 1)).astype(np.float32)
    sigma = 0.05 + 0.4 * np.abs(x[:, 0])
    y = np.sin(2 * x[:, 0]) + sigma * rng.normal(size=1500)
    torch.manual_seed(0)
    model = MeanVarianceRegressor(1, 1, hidden=(32, 32))
    hist = fit_regression(model, x, y, epochs=60, lr=5e-3, seed=0)
    assert hist[-1] < hist[0]
    grid = np.linspace(-0.9, 0.9, 50, dtype=np.float32)[:, None]
    out = predict_regression(model, grid)
    est = np.sqrt(out["aleatoric_variance"][:, 0])
    truth = 0.05 + 0.4 * np.abs(grid[:, 0])
    assert np.corrcoef(est, truth)[0, 1] > 0.9
    assert np.all(out["epistemic_variance"] == 0)  # no dropout -> one deterministic pass
    assert HeteroscedasticLoss()(model(torch.as_tensor(x[:4])), torch.as_tensor(y[:4])).shape == (
        4,
    )


def test_bad_regression_input() -> None:
    model = MeanVarianceRegressor(1)
    with pytest.raises(ValueError, match="loss"):
        fit_regression(model, np.zeros((4, 1)), np.zeros(4), loss="l1")
    with pytest.raises(ValueError, match="mismatched"):
        fit_regression(model, np.zeros((4, 1)), np.zeros(3))
    with pytest.raises(ValueError, match="log_var"):
        fit_regression(nn.Linear(1, 1), np.zeros((4, 1)), np.zeros(4), epochs=1)
