"""Per-sample gradient norms vs torch.autograd one sample at a time; closed-form last layer."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from samplescope.difficulty import (
    last_layer_grad_norm,
    last_layer_grad_norm_from_features,
    per_sample_grad_norms,
)
from samplescope.models import mlp, small_cnn


def _autograd_norms(model, x, y, loss=None):
    """Independent reference: one torch.autograd.grad call per sample, in eval mode."""
    model.eval()
    params = [p for p in model.parameters() if p.requires_grad]
    out = []
    for i in range(len(x)):
        xi = torch.as_tensor(x[i : i + 1])
        yi = torch.as_tensor(y[i : i + 1])
        lo = model(xi)
        li = nn.functional.cross_entropy(lo, yi) if loss is None else loss(lo, yi).sum()
        gs = torch.autograd.grad(li, params)
        out.append(float(torch.sqrt(sum((g.double() ** 2).sum() for g in gs))))
    return np.array(out)


def _data(n=16, shape=(1, 10, 10), C=5, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, *shape), dtype=np.float32), rng.integers(0, C, n)


class _Seq3d(nn.Module):
    """Linear layers applied to a (B, T, D) sequence, then pooled: the general ghost identity."""

    def __init__(self):
        super().__init__()
        self.a = nn.Linear(10, 8)
        self.norm = nn.LayerNorm(8)
        self.b = nn.Linear(8, 5)

    def forward(self, x):
        h = torch.relu(self.norm(self.a(x[:, 0])))  # (B, 10, 8): T=10 rows
        return self.b(h).mean(1)


class _Scale(nn.Module):  # a layer the ghost identity does not know
    def __init__(self):
        super().__init__()
        self.s = nn.Parameter(torch.ones(1))

    def forward(self, x):
        return x * self.s


def _randomise_bn(model):
    g = torch.Generator().manual_seed(0)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(torch.rand(m.num_features, generator=g) - 0.5)
            m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.bias.data.copy_(torch.rand(m.num_features, generator=g) - 0.5)


MODELS = {
    "mlp": lambda: mlp((1, 10, 10), 5, hidden=(32, 16)),
    "cnn_bn": lambda: small_cnn(5, 1, 10),
    "conv_strided": lambda: nn.Sequential(
        nn.Conv2d(1, 4, 3, stride=2, padding=1, dilation=1),
        nn.ReLU(),
        nn.Conv2d(4, 6, 2, dilation=2),
        nn.Flatten(),
        nn.Linear(6 * 3 * 3, 5),
    ),
    "seq3d_layernorm": _Seq3d,
}


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("method", ["ghost", "vmap"])
def test_matches_per_sample_autograd(name, method):
    torch.manual_seed(0)
    model = MODELS[name]()
    _randomise_bn(model)
    x, y = _data()
    ref = _autograd_norms(model, x, y)
    model.train()
    got = per_sample_grad_norms(model, (x, y), method=method, batch_size=10)
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-7)
    assert model.training  # the model's mode is restored


def test_fallback_for_unknown_layers_and_dict_loss():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(100, 8), _Scale(), nn.Linear(8, 5))
    x, y = _data()

    def two_terms(out, yb):
        ce = nn.functional.cross_entropy(out, yb, reduction="none")
        return {"ce": ce, "l2": 0.1 * out.pow(2).sum(1)}

    ref = _autograd_norms(model, x, y, loss=lambda o, t: sum(two_terms(o, t).values()))
    np.testing.assert_allclose(
        per_sample_grad_norms(model, (x, y), loss_fn=two_terms), ref, rtol=1e-5
    )
    np.testing.assert_allclose(
        per_sample_grad_norms(model, (x, y), method="loop", loss_fn=two_terms), ref, rtol=1e-5
    )
    with pytest.raises(ValueError, match="ghost"):
        per_sample_grad_norms(model, (x, y), method="ghost")


def test_reused_module_falls_back():
    torch.manual_seed(0)
    lin = nn.Linear(5, 5)
    model = nn.Sequential(nn.Flatten(), nn.Linear(100, 5), lin, nn.ReLU(), lin)  # same layer twice
    x, y = _data()
    np.testing.assert_allclose(
        per_sample_grad_norms(model, (x, y)), _autograd_norms(model, x, y), rtol=1e-5
    )


def test_frozen_parameters_are_excluded():
    torch.manual_seed(0)
    model = mlp((1, 10, 10), 5, hidden=(16,))
    model[1].weight.requires_grad_(False)
    x, y = _data()
    np.testing.assert_allclose(
        per_sample_grad_norms(model, (x, y)), _autograd_norms(model, x, y), rtol=1e-5
    )


def test_last_layer_closed_form_equals_head_gradient():
    torch.manual_seed(0)
    model = mlp((1, 10, 10), 5, hidden=(16,))
    x, y = _data()
    got = last_layer_grad_norm(model, (x, y))
    head = model[-1]
    ref = []
    for i in range(len(x)):
        loss = nn.functional.cross_entropy(
            model(torch.as_tensor(x[i : i + 1])), torch.as_tensor(y[i : i + 1])
        )
        gw, gb = torch.autograd.grad(loss, [head.weight, head.bias])
        ref.append(float(torch.sqrt((gw**2).sum() + (gb**2).sum())))
    np.testing.assert_allclose(got, ref, rtol=1e-5)


def test_analytic_logistic_regression_full_norm_is_closed_form():
    """A single linear layer: the full gradient norm is ‖p - e_y‖·‖[x, 1]‖ exactly."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(100, 5))
    x, y = _data()
    full = per_sample_grad_norms(model, (x, y))
    with torch.no_grad():
        z = model(torch.as_tensor(x)).double().numpy()
    np.testing.assert_allclose(
        full, last_layer_grad_norm_from_features(x.reshape(len(x), -1), z, y), rtol=1e-6
    )


def test_confident_correct_prediction_has_vanishing_gradient():
    z = np.array([[50.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    h = np.ones((2, 4))
    g = last_layer_grad_norm_from_features(h, z, [0, 0])
    assert g[0] < 1e-15
    np.testing.assert_allclose(g[1], np.sqrt((2 / 3) ** 2 + 2 * (1 / 3) ** 2) * np.sqrt(5.0))


def test_bad_input():
    x, y = _data()
    model = mlp((1, 10, 10), 5)
    with pytest.raises(ValueError, match="method"):
        per_sample_grad_norms(model, (x, y), method="fast")
    with pytest.raises(ValueError, match="model"):
        per_sample_grad_norms("not a model", (x, y))
    with pytest.raises(ValueError, match="batch_size"):
        per_sample_grad_norms(model, (x, y), batch_size=0)
    with pytest.raises(ValueError, match="features"):
        last_layer_grad_norm_from_features(np.ones((3, 2)), np.zeros((2, 3)), [0, 1])
    with pytest.raises(ValueError, match="labels"):
        last_layer_grad_norm_from_features(np.ones((2, 2)), np.zeros((2, 3)), [0, 3])
    with pytest.raises(ValueError, match="loss_fn"):
        per_sample_grad_norms(model, (x, y), loss_fn=lambda o, t: o.sum())


def test_chunked_equals_full_batch():
    torch.manual_seed(0)
    model = small_cnn(5, 1, 10)
    _randomise_bn(model)
    x, y = _data(n=23)
    full = per_sample_grad_norms(model, (x, y), batch_size=23)
    np.testing.assert_allclose(per_sample_grad_norms(model, (x, y), batch_size=4), full, rtol=1e-6)
