"""samplescope: per-sample difficulty, uncertainty and trustworthiness - and acting on them.

Conventions: logits ``(N, C)``; stochastic outputs ``(S, N, C)``; per-sample scores
``(N,)``. Difficulty scores are higher = harder; trust scores higher = more trustworthy.
Sub-packages, bottom to top: ``functional``, ``executors``, ``models``, ``io``, ``data``,
``metrics``, ``training``, ``uncertainty``, ``difficulty``, ``weighting``, ``trust``,
``active``, ``scoring``, ``report``, ``cli`` (README, "Architecture").
"""

from . import metrics
from .active import ActiveLoop, Pool, get_acquisition, list_acquisitions, register_acquisition
from .data import (
    Dataset,
    DataSplit,
    from_arrays,
    from_torch_dataset,
    inject_label_noise,
    load_dataset,
    make_imbalanced,
)
from .difficulty import (
    AUM,
    ActionScore,
    Cartography,
    ForgettingEvents,
    TrainingDynamics,
    compute_measures,
    generalization_error,
    get_measure,
    list_measures,
    per_sample_grad_norms,
    register_measure,
)
from .executors import executor_context, run_tasks
from .io import ScoreTable
from .models import default_model, gal_cnn, mlp, resnet, small_cnn
from .scoring import stream_scores
from .training import Callback, crossfit, evaluate, fit, fit_many, predict_logits
from .trust import (
    TrustOracle,
    get_trust_loss,
    list_trust_losses,
    register_trust_loss,
    trust_metrics,
)
from .uncertainty import (
    TemperatureScaling,
    VectorScaling,
    decompose,
    predict_stochastic,
    train_ensemble,
)
from .weighting import (
    chain,
    chi2_divergence,
    fit_weighted,
    get_weighting,
    hard_first_weights,
    list_weightings,
    register_weighting,
    static_weights,
)

__version__ = "0.1.0"

__all__ = [
    "AUM",
    "ActionScore",
    "ActiveLoop",
    "Callback",
    "Cartography",
    "DataSplit",
    "Dataset",
    "ForgettingEvents",
    "Pool",
    "ScoreTable",
    "TemperatureScaling",
    "TrainingDynamics",
    "TrustOracle",
    "VectorScaling",
    "chain",
    "chi2_divergence",
    "compute_measures",
    "crossfit",
    "decompose",
    "default_model",
    "evaluate",
    "executor_context",
    "fit",
    "fit_many",
    "fit_weighted",
    "from_arrays",
    "from_torch_dataset",
    "gal_cnn",
    "generalization_error",
    "get_acquisition",
    "get_measure",
    "get_trust_loss",
    "get_weighting",
    "hard_first_weights",
    "inject_label_noise",
    "list_acquisitions",
    "list_measures",
    "list_trust_losses",
    "list_weightings",
    "load_dataset",
    "make_imbalanced",
    "metrics",
    "mlp",
    "per_sample_grad_norms",
    "predict_logits",
    "predict_stochastic",
    "register_acquisition",
    "register_measure",
    "register_trust_loss",
    "register_weighting",
    "resnet",
    "run_tasks",
    "small_cnn",
    "static_weights",
    "stream_scores",
    "train_ensemble",
    "trust_metrics",
]
