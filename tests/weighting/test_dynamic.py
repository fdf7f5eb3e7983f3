"""Dynamic schemes: SuperLoss closed form, SPL selection, truncation, Active Bias, focal, online."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize_scalar

from samplescope.weighting import (
    ActiveBias,
    FocalLoss,
    OnlineWeighting,
    SelfPaced,
    SuperLoss,
    TruncatedLoss,
    hard_first,
    inverse_margin,
    spl_threshold,
    spl_weights,
    superloss_objective,
    superloss_sigma,
)


@pytest.mark.parametrize("lam", [0.25, 1.0, 3.0])
@pytest.mark.parametrize("tau", [0.0, math.log(10)])
def test_superloss_closed_form_equals_numeric_minimum(lam, tau):
    # losses where (l - tau)/lam >= -2/e, i.e. the objective has a stationary minimum; it lies in
    # (0, e] (for l < tau the objective is unbounded below as sigma -> inf, so search sigma <= e)
    losses = tau - 2 * lam / math.e + np.array([1e-6, 0.1, 0.5, 1.0, 2.0, 5.0, 20.0])
    losses = losses[losses >= 0]
    sig = superloss_sigma(losses, tau, lam)
    for ell, s in zip(losses, sig, strict=True):
        res = minimize_scalar(
            lambda u, e=ell: superloss_objective(e, math.exp(u), tau, lam),
            bounds=(-30, 1),
            method="bounded",
            options={"xatol": 1e-10},
        )
        assert s == pytest.approx(math.exp(res.x), rel=1e-4, abs=1e-6)
        assert superloss_objective(ell, s, tau, lam) <= res.fun + 1e-9


def test_superloss_limits_and_clamp():
    tau = math.log(10)
    assert superloss_sigma(np.array([tau]), tau, 1.0)[0] == pytest.approx(1.0)  # l = tau: sigma = 1
    assert superloss_sigma(np.array([0.0]), tau, 0.1)[0] == pytest.approx(
        math.e
    )  # clamped: sigma = e
    s = superloss_sigma(np.linspace(0, 20, 50), tau, 1.0)
    assert np.all(np.diff(s) <= 0) and np.all(s > 0) and s.max() <= math.e + 1e-12


def test_superloss_weight_gives_superloss_gradient():
    torch.manual_seed(0)
    theta = torch.randn(5, requires_grad=True)
    x = torch.randn(8, 5)
    ell = torch.nn.functional.softplus(x @ theta)
    tau, lam = 0.5, 1.0
    sig = torch.as_tensor(superloss_sigma(ell.detach().numpy(), tau, lam), dtype=ell.dtype)
    (g1,) = torch.autograd.grad(
        ((ell - tau) * sig + lam * torch.log(sig) ** 2).sum(), theta, retain_graph=True
    )
    w = SuperLoss(tau, lam=lam).weights(ell.detach(), logits=torch.zeros(8, 3))
    (g2,) = torch.autograd.grad((w * ell).sum(), theta)
    torch.testing.assert_close(g1, g2)


def test_superloss_tau_modes():
    ell = torch.tensor([0.1, 1.0, 3.0])
    w = SuperLoss("log").weights(ell, logits=torch.zeros(3, 4))
    np.testing.assert_allclose(w.numpy(), superloss_sigma(ell.numpy(), math.log(4), 1.0), rtol=1e-6)
    sl = SuperLoss("ema", ema_decay=0.5)
    sl.weights(ell)
    assert sl._ema == pytest.approx(float(ell.mean()))
    sl.weights(ell + 1)
    assert sl._ema == pytest.approx(0.5 * float(ell.mean()) + 0.5 * float((ell + 1).mean()))
    with pytest.raises(ValueError, match="tau"):
        SuperLoss("median")
    with pytest.raises(ValueError, match="lam"):
        SuperLoss(lam=0)


def test_spl_selects_exactly_the_samples_under_lambda():
    ell = np.array([0.2, 1.5, 0.9, 3.0, 0.0, 0.9])
    np.testing.assert_array_equal(spl_weights(ell, 0.9), (ell < 0.9).astype(float))
    np.testing.assert_allclose(spl_weights(ell, 2.0, "linear"), np.maximum(0, 1 - ell / 2.0))
    np.testing.assert_array_equal(spl_weights(ell, math.inf), np.ones(6))


@settings(max_examples=60, deadline=None)
@given(n=st.integers(2, 60), rate=st.floats(0.01, 1.0), seed=st.integers(0, 10_000))
def test_property_spl_pacing_selects_k_smallest(n, rate, seed):
    ell = torch.as_tensor(
        np.random.default_rng(seed).permutation(n) * 0.1 + 0.01
    )  # distinct losses
    lam = spl_threshold(ell, rate)
    k = min(n, max(1, math.ceil(rate * n)))
    sel = ell < lam
    assert int(sel.sum()) == k
    assert float(ell[sel].max()) < float(ell[~sel].min()) if k < n else True
    sp = SelfPaced("hard", start=rate, rescale=False)
    w = sp.weights(ell, epoch=0, epochs=5)
    np.testing.assert_array_equal(w.numpy(), sel.numpy().astype(float))


def test_spl_pacing_schedule_and_fixed_lambda():
    sp = SelfPaced(start=0.4, end=0.8, ramp_epochs=4)
    assert [sp.rate(e, 10) for e in (0, 2, 4, 9)] == pytest.approx([0.4, 0.6, 0.8, 0.8])
    fixed = SelfPaced(lam=1.0, growth=2.0, rescale=False)
    ell = torch.tensor([0.5, 1.5, 3.0])
    np.testing.assert_array_equal(fixed.weights(ell, epoch=0).numpy(), [1, 0, 0])
    np.testing.assert_array_equal(fixed.weights(ell, epoch=1).numpy(), [1, 1, 0])
    w = SelfPaced(lam=1.0).weights(ell, epoch=0)
    assert float(w.mean()) == pytest.approx(1.0)


@pytest.mark.parametrize(
    "kw", [{"kind": "soft"}, {"start": 0}, {"start": 0.8, "end": 0.5}, {"lam": -1}, {"growth": 0}]
)
def test_spl_bad_parameters(kw):
    with pytest.raises(ValueError):
        SelfPaced(**kw)
    with pytest.raises(ValueError, match="lam"):
        spl_weights(np.ones(3), 0.0)


def test_truncated_drops_largest_with_linear_ramp():
    tl = TruncatedLoss(0.4, ramp_epochs=4, rescale=False)
    assert [tl.eps(e) for e in (0, 1, 4, 7)] == pytest.approx([0, 0.1, 0.4, 0.4])
    ell = torch.tensor([0.1, 5.0, 0.3, 2.0, 0.2, 9.0, 0.4, 0.5, 0.6, 0.7])
    np.testing.assert_array_equal(tl.weights(ell, epoch=0).numpy(), np.ones(10))
    w = tl.weights(ell, epoch=4)
    np.testing.assert_array_equal(w.numpy(), [1, 0, 1, 0, 1, 0, 1, 1, 1, 0])  # 4 largest dropped
    assert float(TruncatedLoss(0.4, ramp_epochs=4).weights(ell, epoch=4).mean()) == pytest.approx(
        1.0
    )
    with pytest.raises(ValueError, match="eps_max"):
        TruncatedLoss(1.0)


def test_active_bias_upweights_uncertain_samples():
    ab = ActiveBias(eps=0.01, warmup_epochs=1)
    pos = torch.tensor([0, 1])
    labels = torch.tensor([0, 0])
    for e in range(4):  # sample 0 always confident; sample 1 flips between confident and wrong
        z1 = 5.0 if e % 2 == 0 else -5.0
        logits = torch.tensor([[5.0, 0.0], [z1, 0.0]])
        w = ab.weights(torch.zeros(2), positions=pos, labels=labels, logits=logits, epoch=e)
        if e == 0:
            np.testing.assert_allclose(w.numpy(), [1, 1])  # warm-up: uniform
    assert float(w[1]) > 5 * float(w[0]) and float(w.mean()) == pytest.approx(1.0)
    p = torch.softmax(torch.tensor([[5.0, 0.0], [-5.0, 0.0]]), 1)[:, 0]
    std1 = torch.stack([p[0], p[1], p[0], p[1]]).double().std(unbiased=False)  # 4 records
    np.testing.assert_allclose(ab.std(torch.tensor([1])).numpy(), [std1.item()], rtol=1e-6)
    with pytest.raises(ValueError, match="eps"):
        ActiveBias(eps=0)


def test_focal_loss_reference():
    torch.manual_seed(0)
    z, y = torch.randn(16, 5), torch.randint(0, 5, (16,))
    ce = torch.nn.functional.cross_entropy(z, y, reduction="none")
    torch.testing.assert_close(FocalLoss(gamma=0)(z, y), ce)
    pt = torch.softmax(z, 1)[torch.arange(16), y]
    alpha = torch.tensor([1.0, 2.0, 0.5, 1.0, 3.0])
    ref = -alpha[y] * (1 - pt) ** 2 * torch.log(pt)
    torch.testing.assert_close(FocalLoss(2.0, alpha.tolist())(z, y), ref)
    assert torch.all(FocalLoss(2.0)(z, y) <= ce + 1e-7)
    with pytest.raises(ValueError, match="gamma"):
        FocalLoss(-1)
    with pytest.raises(ValueError, match="alpha"):
        FocalLoss(2, [1.0, -1.0])


def test_online_weighting_margin_and_loss():
    logits = torch.tensor([[3.0, 0.0], [0.0, 1.0], [1.0, 0.5]])
    labels = torch.tensor([0, 0, 0])  # margins 3, -1, 0.5
    w = OnlineWeighting(inverse_margin(0.1), "margin").weights(
        torch.zeros(3), labels=labels, logits=logits
    )
    ref = 1 / (np.array([3.0, 0.0, 0.5]) + 0.1)
    np.testing.assert_allclose(w.numpy(), ref / ref.mean(), rtol=1e-6)
    ell = torch.tensor([0.1, 2.0, 0.5])
    w2 = OnlineWeighting(hard_first(1.0), "loss").weights(ell, labels=labels, logits=logits)
    assert torch.argsort(w2).tolist() == torch.argsort(ell).tolist()
    with pytest.raises(ValueError, match="measure"):
        OnlineWeighting(hard_first(), "entropy")


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 1000), b=st.integers(2, 40), epoch=st.integers(0, 12))
def test_property_dynamic_weights_finite_nonnegative(seed, b, epoch):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(b, 4, generator=g) * 3
    labels = torch.randint(0, 4, (b,), generator=g)
    ell = torch.nn.functional.cross_entropy(logits, labels, reduction="none")
    pos = torch.randperm(b, generator=g)
    schemes = [
        SelfPaced(),
        SelfPaced("linear"),
        SuperLoss(),
        SuperLoss("ema"),
        TruncatedLoss(0.4, ramp_epochs=5),
        ActiveBias(warmup_epochs=0),
        OnlineWeighting(hard_first(0.5)),
        OnlineWeighting(inverse_margin(), "margin"),
    ]
    for s in schemes:
        for e in range(epoch % 3 + 1):
            w = s.weights(
                ell,
                sample_ids=pos,
                positions=pos,
                labels=labels,
                logits=logits,
                epoch=epoch + e,
                epochs=12,
            )
        assert (
            w.shape == (b,)
            and torch.all(torch.isfinite(w))
            and torch.all(w >= 0)
            and float(w.sum()) > 0
        )
