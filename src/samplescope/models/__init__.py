"""Reference networks (MLP, Gal's MC-dropout CNN, small CNN, ResNet) and model surgery helpers."""

from .nets import default_model, gal_cnn, mlp, resnet, small_cnn
from .surgery import has_dropout, split_at_first_dropout, split_head

__all__ = [
    "default_model",
    "gal_cnn",
    "has_dropout",
    "mlp",
    "resnet",
    "small_cnn",
    "split_at_first_dropout",
    "split_head",
]
