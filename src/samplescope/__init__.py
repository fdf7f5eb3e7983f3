"""samplescope: per-sample difficulty, uncertainty and trustworthiness - and acting on them.

Conventions: logits ``(N, C)``; stochastic outputs ``(S, N, C)``; per-sample scores
``(N,)``. Difficulty scores are higher = harder; trust scores higher = more trustworthy.
Sub-packages, bottom to top: ``functional``, ``executors``, ``models``, ``io``, ``data``,
``metrics``, ``training``, ``uncertainty``, ``difficulty``, ``weighting``, ``trust``,
``active``, ``scoring``, ``report``, ``auditing``, ``cli`` (README, "Architecture").

Importing ``samplescope`` is cheap: every public name below is resolved on first use
(module ``__getattr__``), so ``import samplescope`` and ``samplescope --help`` load
neither torch nor scipy until a function needs them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> the sub-package (relative to samplescope) that defines it
_EXPORTS: dict[str, str] = {
    # metrics
    "calibration_report": "metrics",
    "smooth_ece": "metrics",
    # labels
    "find_label_issues": "labels",
    # auditing
    "audit": "auditing",
    # active
    "ActiveLoop": "active",
    "Pool": "active",
    "get_acquisition": "active",
    "list_acquisitions": "active",
    "register_acquisition": "active",
    # data
    "read_data": "data",
    "DataSplit": "data",
    "Dataset": "data",
    "from_arrays": "data",
    "from_torch_dataset": "data",
    "inject_label_noise": "data",
    "load_dataset": "data",
    "make_imbalanced": "data",
    # difficulty
    "AUM": "difficulty",
    "ActionScore": "difficulty",
    "Cartography": "difficulty",
    "ForgettingEvents": "difficulty",
    "TrainingDynamics": "difficulty",
    "compute_measures": "difficulty",
    "generalization_error": "difficulty",
    "get_measure": "difficulty",
    "list_measures": "difficulty",
    "per_sample_grad_norms": "difficulty",
    "register_measure": "difficulty",
    # executors
    "executor_context": "executors",
    "run_tasks": "executors",
    # io
    "ScoreTable": "io",
    # models
    "default_model": "models",
    "gal_cnn": "models",
    "mlp": "models",
    "resnet": "models",
    "small_cnn": "models",
    # scoring
    "stream_scores": "scoring",
    # training
    "Callback": "training",
    "crossfit": "training",
    "evaluate": "training",
    "fit": "training",
    "fit_many": "training",
    "predict_logits": "training",
    # trust
    "TrustOracle": "trust",
    "get_trust_loss": "trust",
    "list_trust_losses": "trust",
    "register_trust_loss": "trust",
    "trust_metrics": "trust",
    # uncertainty
    "compare_calibrators": "uncertainty",
    "fit_calibrator": "uncertainty",
    "get_calibrator": "uncertainty",
    "list_calibrators": "uncertainty",
    "register_calibrator": "uncertainty",
    "TemperatureScaling": "uncertainty",
    "VectorScaling": "uncertainty",
    "decompose": "uncertainty",
    "predict_stochastic": "uncertainty",
    "train_ensemble": "uncertainty",
    # weighting
    "chain": "weighting",
    "chi2_divergence": "weighting",
    "fit_weighted": "weighting",
    "get_weighting": "weighting",
    "hard_first_weights": "weighting",
    "list_weightings": "weighting",
    "register_weighting": "weighting",
    "static_weights": "weighting",
}
_SUBPACKAGES = (
    "active",
    "auditing",
    "labels",
    "data",
    "difficulty",
    "executors",
    "functional",
    "io",
    "metrics",
    "models",
    "report",
    "scoring",
    "training",
    "trust",
    "uncertainty",
    "weighting",
)

if TYPE_CHECKING:  # static tools see the real objects
    from .active import ActiveLoop, Pool, get_acquisition, list_acquisitions, register_acquisition
    from .auditing import audit
    from .data import (
        Dataset,
        DataSplit,
        from_arrays,
        from_torch_dataset,
        inject_label_noise,
        load_dataset,
        make_imbalanced,
        read_data,
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
    from .labels import find_label_issues
    from .metrics import calibration_report, smooth_ece
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
        compare_calibrators,
        decompose,
        fit_calibrator,
        get_calibrator,
        list_calibrators,
        predict_stochastic,
        register_calibrator,
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


def __getattr__(name: str) -> Any:
    """Import the sub-package defining ``name`` on first access (PEP 562)."""
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    elif name in _SUBPACKAGES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS) | set(_SUBPACKAGES))


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
    "audit",
    "calibration_report",
    "chain",
    "chi2_divergence",
    "compare_calibrators",
    "compute_measures",
    "crossfit",
    "decompose",
    "default_model",
    "evaluate",
    "executor_context",
    "find_label_issues",
    "fit",
    "fit_calibrator",
    "fit_many",
    "fit_weighted",
    "from_arrays",
    "from_torch_dataset",
    "gal_cnn",
    "generalization_error",
    "get_acquisition",
    "get_calibrator",
    "get_measure",
    "get_trust_loss",
    "get_weighting",
    "hard_first_weights",
    "inject_label_noise",
    "list_acquisitions",
    "list_calibrators",
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
    "read_data",
    "register_acquisition",
    "register_calibrator",
    "register_measure",
    "register_trust_loss",
    "register_weighting",
    "resnet",
    "run_tasks",
    "small_cnn",
    "smooth_ece",
    "static_weights",
    "stream_scores",
    "train_ensemble",
    "trust_metrics",
]
