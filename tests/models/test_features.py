"""Features from any nn.Module by forward hooks (samplescope.models.features)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from samplescope.models import features_and_logits, last_linear, layer_features, resolve_layer


class ConvBN(nn.Module):
    """Not a Sequential: Conv + BatchNorm + Dropout, head called through an attribute."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.drop = nn.Dropout(0.5)
        self.pool = nn.AdaptiveAvgPool2d(2)
        self.fc = nn.Linear(16, 8)
        self.head = nn.Linear(8, 3)

    def trunk(self, x: torch.Tensor) -> torch.Tensor:
        h = self.pool(torch.relu(self.bn(self.conv(x)))).flatten(1)
        return torch.relu(self.fc(self.drop(h)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.trunk(x))


def _model() -> ConvBN:
    torch.manual_seed(0)
    m = ConvBN()
    m.train()
    m(torch.randn(16, 1, 6, 6))  # move the BatchNorm running statistics off their start
    return m


def test_default_layer_is_the_input_of_the_last_linear() -> None:
    m = _model()
    x = torch.randn(10, 1, 6, 6)
    h, z = features_and_logits(m, x, batch_size=3)
    m.eval()
    with torch.no_grad():
        h_ref = m.trunk(x)
        z_ref = m(x)
    assert torch.allclose(h, h_ref, atol=1e-6) and torch.allclose(z, z_ref, atol=1e-6)
    assert last_linear(m)[0] == "head"
    # the logits are the head applied to the features: the hook read the right tensor
    assert torch.allclose(m.head(h), z, atol=1e-5)


def test_named_layer_output_is_flattened_and_the_train_state_is_restored() -> None:
    m = _model()
    assert m.training
    x = torch.randn(5, 1, 6, 6)
    h = layer_features(m, x, layer="pool")
    m.eval()
    with torch.no_grad():
        ref = m.pool(torch.relu(m.bn(m.conv(x)))).flatten(1)
    assert h.shape == (5, 16) and torch.allclose(h, ref, atol=1e-6)
    m.train()
    layer_features(m, x, layer="pool")
    assert m.training


def test_unknown_layer_and_layers_not_called_are_refused() -> None:
    m = _model()
    with pytest.raises(ValueError, match="layer: expected one of .*conv"):
        resolve_layer(m, "nope")
    m.unused = nn.Linear(3, 3)  # registered last, never called in forward
    with pytest.raises(ValueError, match="layer: 'unused' was not called"):
        layer_features(m, torch.randn(2, 1, 6, 6))
    with pytest.raises(ValueError, match="x: the model cannot run"):
        layer_features(_model(), torch.randn(2, 3, 6, 6))


def test_integer_token_inputs_keep_their_dtype() -> None:
    torch.manual_seed(0)
    m = nn.Sequential(nn.EmbeddingBag(50, 6), nn.ReLU(), nn.Linear(6, 2))
    tokens = torch.randint(0, 50, (7, 5))
    h, z = features_and_logits(m, tokens)
    with torch.no_grad():
        assert torch.allclose(h, torch.relu(m[0](tokens)), atol=1e-6)
    assert z.shape == (7, 2)
