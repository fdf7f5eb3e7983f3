"""Baselines: MCP and MC dropout against hand computations; the shared contract."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from samplescope.trust import MCDropoutTrust, MCPTrust, make_baseline


def _net(p: float) -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(4, 16), nn.ReLU(), nn.Dropout(p), nn.Linear(16, 3))


X = np.random.default_rng(0).normal(size=(40, 4)).astype(np.float32)
Y = np.random.default_rng(1).integers(0, 3, 40)


def test_mcp_is_max_softmax() -> None:
    net = _net(0.5)
    t = MCPTrust(net).fit((X, Y)).predict_trust(X)
    with torch.no_grad():
        want = net.eval()(torch.as_tensor(X)).softmax(1).max(1).values.numpy()
    np.testing.assert_allclose(t, want, rtol=1e-6)
    assert np.all(t >= 1 / 3 - 1e-9)


def test_mc_dropout_limit_p0_is_normalised_negative_entropy() -> None:
    """With dropout p = 0 every pass is identical: trust = 1 - H[softmax]/log C (analytic limit)."""
    net = _net(0.0)
    t = MCDropoutTrust(net, samples=5).fit((X, Y)).predict_trust(X)
    with torch.no_grad():
        p = net.eval()(torch.as_tensor(X)).softmax(1).double().numpy()
    h = -(p * np.log(p)).sum(1)
    np.testing.assert_allclose(t, 1 - h / np.log(3), rtol=1e-5, atol=1e-6)


def test_mc_dropout_is_stochastic_bounded_and_seeded() -> None:
    net = _net(0.5)
    a = MCDropoutTrust(net, samples=30, seed=1).fit((X, Y)).predict_trust(X)
    b = MCDropoutTrust(net, samples=30, seed=1).fit((X, Y)).predict_trust(X)
    c = MCDropoutTrust(net, samples=30, seed=2).fit((X, Y)).predict_trust(X)
    np.testing.assert_allclose(a, b)
    assert not np.allclose(a, c)
    assert a.min() >= 0 and a.max() <= 1
    net.train()
    MCDropoutTrust(net, samples=2).fit((X, Y)).predict_trust(X)
    assert net.training


def test_contract_and_bad_input() -> None:
    with pytest.raises(ValueError, match="not fitted"):
        MCPTrust(_net(0.5)).predict_trust(X)
    with pytest.raises(ValueError, match="dropout"):
        MCDropoutTrust(nn.Sequential(nn.Flatten(), nn.Linear(4, 3))).fit((X, Y))
    with pytest.raises(ValueError, match="samples"):
        MCDropoutTrust(_net(0.5), samples=0).fit((X, Y))
    with pytest.raises(ValueError, match="baseline"):
        make_baseline("odin", _net(0.5))
    with pytest.raises(ValueError, match="classifier"):
        MCPTrust("model").fit((X, Y))
    est = make_baseline("mcp", _net(0.5))
    assert est.fit((X, Y)) is est and est.num_classes_ == 3
