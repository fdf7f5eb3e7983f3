"""Reference networks (MLP, Gal's MC-dropout CNN, small CNN, ResNet), model specs (save and
reload a model with its architecture) and model surgery helpers."""

from .features import features_and_logits, last_linear, layer_features, resolve_layer
from .nets import default_model, gal_cnn, mlp, resnet, small_cnn
from .spec import (
    MODEL_FORMAT,
    MODEL_KINDS,
    build_model,
    load_model,
    model_spec,
    resolve_kind,
    save_model,
)
from .surgery import has_dropout, split_at_first_dropout, split_head

__all__ = [
    "MODEL_FORMAT",
    "MODEL_KINDS",
    "build_model",
    "load_model",
    "model_spec",
    "resolve_kind",
    "save_model",
    "default_model",
    "features_and_logits",
    "last_linear",
    "layer_features",
    "resolve_layer",
    "gal_cnn",
    "has_dropout",
    "mlp",
    "resnet",
    "small_cnn",
    "split_at_first_dropout",
    "split_head",
]
