"""Reference networks (MLP, Gal's MC-dropout CNN, small CNN, ResNet), model specs (save and
reload a model with its architecture), model surgery helpers, features from a named layer
of any module, MC dropout inserted into any module, and the one ``model_fn`` convention."""

from .dropout import MC_DROPOUT_NAME, add_mc_dropout, remove_mc_dropout
from .factory import build_from, seeded_model_fn, takes_seed
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
    "MC_DROPOUT_NAME",
    "add_mc_dropout",
    "build_from",
    "remove_mc_dropout",
    "seeded_model_fn",
    "takes_seed",
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
