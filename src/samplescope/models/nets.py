"""Reference networks. All return logits ``(N, C)`` and are ``nn.Sequential`` so that
generic helpers (:func:`split_head`, :func:`split_at_first_dropout`) can cut them.

Any ``nn.Module`` mapping inputs to logits works with samplescope; these are the defaults.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from .._validation import check_choice, check_fraction, check_integer, check_num_classes

__all__ = ["mlp", "gal_cnn", "small_cnn", "resnet", "default_model"]

_KINDS = ("mlp", "cnn", "gal_cnn", "resnet")


def _dropout(p: float) -> float:
    return check_fraction(p, "dropout", inclusive_high=False)


def _input_shape(shape: object, name: str = "input_shape") -> tuple[int, ...]:
    if isinstance(shape, (str, bytes)) or not isinstance(shape, Sequence) or not shape:
        raise ValueError(f"{name}: expected a non-empty shape of positive integers, got {shape!r}")
    return tuple(check_integer(s, name) for s in shape)


def mlp(
    in_features: int | Sequence[int],
    num_classes: int,
    hidden: Sequence[int] = (256, 128),
    dropout: float = 0.0,
) -> nn.Sequential:
    """Multi-layer perceptron: Flatten → [Linear → ReLU → Dropout(p)]* → Linear.

    Args:
        in_features: input size, or an input shape such as ``(1, 8, 8)`` (flattened).
        num_classes: number of logits ``C``.
        hidden: hidden widths.
        dropout: dropout rate after every hidden layer (0 = none).
    """
    if isinstance(in_features, Sequence) and not isinstance(in_features, (str, bytes)):
        d = math.prod(_input_shape(in_features, "in_features"))
    else:
        d = check_integer(in_features, "in_features")
    num_classes = check_num_classes(num_classes, minimum=1)
    if isinstance(hidden, (str, bytes)) or not isinstance(hidden, Sequence):
        raise ValueError(f"hidden: expected a sequence of layer widths, got {hidden!r}")
    hidden = [check_integer(h, "hidden") for h in hidden]
    dropout = _dropout(dropout)
    layers: list[nn.Module] = [nn.Flatten()]
    for h in hidden:
        layers += [nn.Linear(d, h), nn.ReLU()]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        d = h
    layers.append(nn.Linear(d, num_classes))
    return nn.Sequential(*layers)


def gal_cnn(num_classes: int = 10, in_channels: int = 1, image_size: int = 28) -> nn.Sequential:
    """Gal, Islam & Ghahramani (2017) MC-dropout CNN (Keras MNIST example they used).

    conv(32, 4×4) → ReLU → conv(32, 4×4) → ReLU → maxpool(2) → dropout(0.25) →
    dense(128) → ReLU → dropout(0.5) → dense(C). Input ``(N, in_channels, S, S)``, ``S >= 8``.
    """
    num_classes = check_num_classes(num_classes)
    in_channels = check_integer(in_channels, "in_channels")
    image_size = check_integer(image_size, "image_size", minimum=8)
    s = (image_size - 3 - 3) // 2
    return nn.Sequential(
        nn.Conv2d(in_channels, 32, 4),
        nn.ReLU(),
        nn.Conv2d(32, 32, 4),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Dropout(0.25),
        nn.Flatten(),
        nn.Linear(32 * s * s, 128),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.Linear(128, num_classes),
    )


def small_cnn(
    num_classes: int = 10, in_channels: int = 1, image_size: int = 28, dropout: float = 0.25
) -> nn.Sequential:
    """Small CNN for 8×8, 28×28 and 32×32 images.

    [conv3×3(32) → BN → ReLU → maxpool2] → [conv3×3(64) → BN → ReLU → maxpool2] →
    dense(128) → ReLU → dropout → dense(C). Pools are skipped when the map would vanish.
    """
    num_classes = check_num_classes(num_classes)
    in_channels = check_integer(in_channels, "in_channels")
    image_size = check_integer(image_size, "image_size")
    dropout = _dropout(dropout)
    layers: list[nn.Module] = []
    c, s = in_channels, image_size
    for width in (32, 64):
        layers += [nn.Conv2d(c, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU()]
        if s >= 8:
            layers.append(nn.MaxPool2d(2))
            s //= 2
        c = width
    layers += [nn.Flatten(), nn.Linear(c * s * s, 128), nn.ReLU()]
    if dropout > 0:
        layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(128, num_classes))
    return nn.Sequential(*layers)


class _BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.short: nn.Module = nn.Identity()
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return torch.relu(out + self.short(x))


def resnet(
    depth: int = 20, num_classes: int = 10, in_channels: int = 3, width: int = 16
) -> nn.Sequential:
    """CIFAR-style ResNet (He et al. 2016), depth = 6n + 2 (8, 14, 20, 32, ...), for 28×28/32×32."""
    depth = check_integer(depth, "depth", minimum=8)
    if (depth - 2) % 6 != 0:
        raise ValueError(f"depth: expected 6n + 2 >= 8 (8, 14, 20, 32, ...), got {depth}")
    num_classes = check_num_classes(num_classes)
    in_channels = check_integer(in_channels, "in_channels")
    width = check_integer(width, "width")
    n = (depth - 2) // 6
    layers: list[nn.Module] = [
        nn.Conv2d(in_channels, width, 3, 1, 1, bias=False),
        nn.BatchNorm2d(width),
        nn.ReLU(),
    ]
    cin = width
    for stage, cout in enumerate((width, 2 * width, 4 * width)):
        for b in range(n):
            layers.append(_BasicBlock(cin, cout, 2 if (b == 0 and stage > 0) else 1))
            cin = cout
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, num_classes)]
    return nn.Sequential(*layers)


def default_model(
    input_shape: Sequence[int], num_classes: int, *, kind: str | None = None
) -> nn.Sequential:
    """The model samplescope trains when none is given.

    ``kind`` = ``"mlp"`` | ``"cnn"`` | ``"gal_cnn"`` | ``"resnet"``; default: an MLP for inputs
    of 8×8 or smaller (digits), the small CNN otherwise.
    """
    shape = _input_shape(input_shape)
    num_classes = check_num_classes(num_classes)
    if kind is not None:
        check_choice(kind, "kind", _KINDS)
    if kind is None:
        kind = "mlp" if (len(shape) < 3 or shape[-1] <= 8) else "cnn"
    if kind == "mlp":
        return mlp(shape, num_classes)
    if len(shape) != 3:
        raise ValueError(f"input_shape: expected (C, H, W) for a conv net, got {shape}")
    if kind == "cnn":
        return small_cnn(num_classes, shape[0], shape[1])
    if kind == "gal_cnn":
        return gal_cnn(num_classes, shape[0], shape[1])
    if kind == "resnet":
        return resnet(20, num_classes, shape[0])
    raise ValueError(f"kind: expected one of ['mlp', 'cnn', 'gal_cnn', 'resnet'], got {kind!r}")
