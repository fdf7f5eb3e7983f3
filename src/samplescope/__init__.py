"""samplescope: per-sample difficulty, uncertainty and trustworthiness - and acting on them.

Conventions: logits ``(N, C)``; stochastic outputs ``(S, N, C)``; per-sample scores
``(N,)``. Difficulty scores are higher = harder; trust scores higher = more trustworthy.
"""

from .data import (
    Dataset,
    DataSplit,
    from_arrays,
    from_torch_dataset,
    inject_label_noise,
    load_dataset,
    make_imbalanced,
)
from .difficulty import get_measure, list_measures, register_measure, score_split
from .io import ScoreTable
from .models import default_model, gal_cnn, mlp, resnet, small_cnn
from .training import Callback, fit, predict_logits

__version__ = "0.1.0"

__all__ = [
    "Callback",
    "DataSplit",
    "Dataset",
    "ScoreTable",
    "default_model",
    "fit",
    "from_arrays",
    "from_torch_dataset",
    "gal_cnn",
    "get_measure",
    "inject_label_noise",
    "list_measures",
    "load_dataset",
    "make_imbalanced",
    "mlp",
    "predict_logits",
    "register_measure",
    "resnet",
    "score_split",
    "small_cnn",
]
