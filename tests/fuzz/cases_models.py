"""Fuzz cases for :mod:`samplescope.models.features` (feature extraction from any module)."""

from __future__ import annotations

import numpy as np
from torch import nn

import samplescope.models as Md

from .strategies import array, assert_finite, integer, name, obj
from .test_fuzz_api import DX, add, net


def _x() -> np.ndarray:
    return np.random.default_rng(0).normal(size=(5, DX)).astype(np.float32)


#: any model: the input's trailing shape is the model's business (a Flatten first accepts
#: (N, 8, 1)); a shape it cannot run on is a ValueError naming x
_X = array((2, 3), aliases=("inputs",), skip=frozenset({"classes"}))

for _f in (Md.features_and_logits, Md.layer_features):
    add(
        f"models.{_f.__name__}",
        _f,
        lambda: {"model": net(), "x": _x()},
        {
            "model": obj(bad=(None, 3, "abc", nn.ReLU())),
            "x": _X,
            "layer": name(bad=("nope", "", 3), optional=True),
            "batch_size": integer(),
        },
        lambda res, kw: assert_finite(res if isinstance(res, tuple) else (res,)),
    )
for _f in (Md.last_linear, Md.resolve_layer):
    add(
        f"models.{_f.__name__}",
        _f,
        (lambda: {"model": net()})
        if _f is Md.last_linear
        else (lambda: {"model": net(), "layer": None}),
        {"model": obj(bad=(None, 3, "abc", nn.ReLU()))},
        lambda res, kw: None,
    )
