"""Luo et al. (2021) protocol end to end: train a classifier, freeze it, train trust oracles
(one per loss) and the baselines on the training split, evaluate on one or more test splits.

Per seed (fanned out with :func:`samplescope.executors.run_tasks`):

1. train the classifier on the training split (``classifier_epochs``);
2. when an oracle uses ``correctness="crossfit"`` or a baseline needs it (Rel-U, ensemble):
   one :func:`~samplescope.trust.correctness.crossfit_correctness` of the classifier's
   architecture and training on the training split (``folds``), shared by all of them;
3. for every oracle spec ``loss[:head[:correctness]]`` (:mod:`samplescope.trust.methods`):
   :class:`~samplescope.trust.oracle.TrustOracle` fitted on the training split; every
   registered baseline fitted on the training split;
4. on every test split: correctness of the frozen classifier, trust scores (higher = more
   trustworthy), the metrics row (:func:`~samplescope.trust.analysis.trust_metrics`) and the
   separability of the two groups.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .._validation import (
    check_choice,
    check_fraction,
    check_integer,
    check_num_classes,
    check_positive,
)
from ..data.split import DataSplit, as_split
from ..models import build_model, model_spec
from ..training import fit
from ..training.checks import renamed_argument
from .analysis import separability, trust_metrics
from .correctness import classifier_fold_config, crossfit_correctness
from .methods import check_oracle_spec, fit_baseline, needs_crossfit, parse_oracle
from .oracle import TrustOracle, correctness_labels
from .registry import BASELINES

__all__ = [
    "TrustConfig",
    "MethodResult",
    "train_classifier",
    "evaluate_methods",
    "run_seed",
    "run_trust_experiment",
    "alpha_neg_ablation",
    "fit_subset",
]


@dataclass
class TrustConfig:
    """Settings of one run of the protocol (all methods share the oracle settings, as in Luo).

    ``ss_params`` default to Luo's ViT setting α⁺ = 1, α⁻ = 3. ``fit_size``: when set, the
    oracles and TrustScore are fitted on a random subset of that many training samples
    (seeded by the run's seed; the classifier always uses the whole training split).
    ``classifier_options``: options of :func:`samplescope.models.model_spec` (e.g. ``hidden``,
    ``dropout``); an MLP gets dropout 0.5 when ``mc_dropout`` is a baseline and none is set.
    ``losses`` are oracle specs ``loss[:head[:correctness]]``; ``head`` and ``correctness``
    (``"insample"`` | ``"crossfit"``) are their defaults; ``folds``: K of the cross-fitting,
    whose models have the classifier's kind and training (``classifier_*``, ``batch_size``).
    """

    losses: Sequence[str] = ("ce", "focal", "tcp", "ss")
    baselines: Sequence[str] = ("mcp", "mc_dropout", "trustscore")
    classifier_kind: str | None = "cnn"
    classifier_options: dict[str, Any] = field(default_factory=dict)
    classifier_epochs: int = 2
    classifier_lr: float = 1e-3
    batch_size: int = 128
    oracle_epochs: int = 2
    oracle_lr: float = 1e-4
    fit_size: int | None = None
    head: str = "hyperplane"
    correctness: str = "insample"
    folds: int = 5
    backbone: str = "finetune"
    freeze_layers: int = 0
    ss_params: dict[str, float] = field(
        default_factory=lambda: {"alpha_pos": 1.0, "alpha_neg": 3.0}
    )
    mc_samples: int = 20
    trustscore_k: int = 10
    trustscore_alpha: float = 0.1

    def validate(self) -> TrustConfig:
        from ..models.spec import MODEL_KINDS
        from .heads import HEADS

        for attr in ("losses", "baselines"):
            v = getattr(self, attr)
            if isinstance(v, (str, bytes)) or not isinstance(v, Sequence):
                raise ValueError(f"{attr}: expected a sequence of names, got {v!r}")
        if self.classifier_kind is not None:
            check_choice(self.classifier_kind, "classifier_kind", MODEL_KINDS)
        for attr in (
            "classifier_epochs",
            "batch_size",
            "oracle_epochs",
            "mc_samples",
            "trustscore_k",
        ):
            check_integer(getattr(self, attr), attr)
        check_integer(self.freeze_layers, "freeze_layers", minimum=0)
        check_integer(self.folds, "folds", minimum=2)
        check_choice(self.correctness, "correctness", ("insample", "crossfit"))
        if self.fit_size is not None:
            check_integer(self.fit_size, "fit_size", minimum=2)
        check_positive(self.classifier_lr, "classifier_lr")
        check_positive(self.oracle_lr, "oracle_lr")
        check_fraction(self.trustscore_alpha, "trustscore_alpha", inclusive_high=False)
        check_choice(self.head, "head", HEADS)
        check_choice(self.backbone, "backbone", ("finetune", "frozen"))
        if not isinstance(self.classifier_options, Mapping):
            raise ValueError(
                f"classifier_options: expected a dict of model options, got "
                f"{self.classifier_options!r}"
            )
        if not isinstance(self.ss_params, Mapping):
            raise ValueError(
                f"ss_params: expected a dict of loss parameters, got {self.ss_params!r}"
            )
        for name in self.losses:
            check_oracle_spec(name, self.head, self.correctness, dict(self.ss_params))
        for name in self.baselines:
            check_choice(name, "baselines", BASELINES)
        if not self.losses and not self.baselines:
            raise ValueError("losses/baselines: expected at least one method, got none")
        return self


@dataclass
class MethodResult:
    """Scores of one method on one test split (one seed)."""

    method: str
    split: str
    seed: int
    correct: np.ndarray
    trust: np.ndarray
    neg_threshold: float
    metrics: dict[str, float]
    separability: dict[str, float]
    fit_seconds: float
    train_loss: float = float("nan")
    train_errors: float = float("nan")

    def row(self) -> dict[str, Any]:
        """Flat dict (method, split, seed, metrics, separability, timing) for tables/CSV."""
        return {
            "method": self.method,
            "split": self.split,
            "seed": self.seed,
            **self.metrics,
            **self.separability,
            "fit_seconds": self.fit_seconds,
            "train_loss": self.train_loss,
            "train_errors": self.train_errors,
        }


def train_classifier(
    train: DataSplit,
    num_classes: int,
    *,
    kind: str | None = "cnn",
    epochs: int = 2,
    lr: float = 1e-3,
    batch_size: int = 128,
    seed: int = 0,
    progress: bool = False,
    options: Mapping[str, Any] | None = None,
    need_dropout: bool = False,
) -> torch.nn.Module:
    """Train ``build_model(model_spec(kind, input_shape, C, **options))`` on ``train``
    (``need_dropout``: an MLP gets dropout 0.5 unless ``options`` set it); eval mode."""
    train = _check_train(train)
    num_classes = check_num_classes(num_classes)
    seed = check_integer(seed, "seed", minimum=0)
    torch.manual_seed(seed)
    with renamed_argument("model", "kind"):
        spec = model_spec(
            kind, train.x.shape[1:], num_classes, need_dropout=need_dropout, **dict(options or {})
        )
    model = build_model(spec)
    fit(model, train, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed, progress=progress)
    return model.eval()


def fit_subset(train: DataSplit, size: int | None, seed: int) -> DataSplit:
    """``train`` itself, or a seeded random subset of ``size`` rows (kept in original order)."""
    if size is None or size >= len(train):
        return train
    if size < 2:
        raise ValueError(f"fit_size: expected at least 2 samples, got {size}")
    rng = np.random.default_rng(10_000 + seed)
    return train.subset(np.sort(rng.choice(len(train), size=size, replace=False)))


def _check_config(config: Any) -> TrustConfig:
    if not isinstance(config, TrustConfig):
        raise ValueError(f"config: expected a TrustConfig, got {type(config).__name__}")
    return config.validate()


def _check_tests(tests: Any) -> dict[str, DataSplit]:
    if not isinstance(tests, Mapping) or not tests:
        raise ValueError(f"tests: expected a non-empty dict name -> split, got {tests!r}")
    out = {}
    for name, s in tests.items():
        try:
            out[name] = as_split(s)
        except ValueError as exc:
            raise ValueError(f"tests: split {name!r}: {exc}") from exc
        if len(out[name]) == 0:
            raise ValueError(f"tests: split {name!r} has no samples")
    return out


def _check_train(train: Any, name: str = "train") -> DataSplit:
    s = as_split(train)
    if len(s) < 2:
        raise ValueError(f"{name}: expected at least 2 samples, got {len(s)}")
    return s


def evaluate_methods(
    classifier: torch.nn.Module,
    train: DataSplit,
    tests: Mapping[str, DataSplit],
    config: TrustConfig,
    *,
    seed: int = 0,
    progress: bool = False,
) -> list[MethodResult]:
    """Fit every loss's oracle and every baseline on ``train``; score every split of ``tests``."""
    _check_config(config)
    train, tests = _check_train(train), _check_tests(tests)
    train = fit_subset(train, config.fit_size, seed)
    truth = {name: correctness_labels(classifier, s) for name, s in tests.items()}
    out: list[MethodResult] = []

    def score(method: str, est: Any, seconds: float, loss_value: float, errors: float) -> None:
        neg_t = float(getattr(est, "neg_threshold_", 0.5))
        for name, s in tests.items():
            o = truth[name][0]
            trust = est.predict_trust(s)
            out.append(
                MethodResult(
                    method,
                    name,
                    seed,
                    o,
                    trust,
                    neg_t,
                    trust_metrics(o, trust, neg_threshold=neg_t),
                    separability(o, trust),
                    seconds,
                    loss_value,
                    errors,
                )
            )

    cf, cf_seconds = None, 0.0
    if needs_crossfit(config):
        t0 = time.perf_counter()
        fold_cfg = classifier_fold_config(
            classifier,
            int(truth[next(iter(tests))][2].shape[1]),
            epochs=config.classifier_epochs,
            lr=config.classifier_lr,
            batch_size=config.batch_size,
        )
        cf = crossfit_correctness(
            train,
            fold_cfg,
            folds=config.folds,
            seed=seed,
            return_models="ensemble" in config.baselines,
        )
        cf_seconds = time.perf_counter() - t0
    for name in config.baselines:
        t0 = time.perf_counter()
        est = fit_baseline(name, classifier, train, config, seed, cf)
        extra = cf_seconds if name in ("rel_u", "ensemble") else 0.0
        score(name, est, time.perf_counter() - t0 + extra, float("nan"), float("nan"))
    for spec in config.losses:
        loss, head, correctness, features = parse_oracle(spec, config.head, config.correctness)
        t0 = time.perf_counter()
        oracle = TrustOracle(
            classifier,
            loss=loss,
            loss_params=dict(config.ss_params) if loss == "ss" else None,
            head=head,
            correctness=correctness,
            features=features,
            backbone=config.backbone,
            freeze_layers=config.freeze_layers,
            epochs=config.oracle_epochs,
            lr=config.oracle_lr,
            batch_size=config.batch_size,
            seed=seed,
            progress=progress,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # the table reports train_errors
            oracle.fit(train, targets=cf if correctness == "crossfit" else None)
        extra = cf_seconds if correctness == "crossfit" else 0.0
        score(
            spec,
            oracle,
            time.perf_counter() - t0 + extra,
            oracle.history_[-1],
            float(oracle.n_errors_),
        )
    return out


def run_seed(
    train: DataSplit,
    tests: Mapping[str, DataSplit],
    num_classes: int,
    config: TrustConfig,
    seed: int,
    progress: bool = False,
) -> tuple[list[MethodResult], dict[str, float]]:
    """One seed of the protocol: classifier, then :func:`evaluate_methods`. Returns results and info."""
    _check_config(config)
    train, tests = _check_train(train), _check_tests(tests)
    num_classes = check_num_classes(num_classes)
    seed = check_integer(seed, "seed", minimum=0)
    t0 = time.perf_counter()
    clf = train_classifier(
        train,
        num_classes,
        kind=config.classifier_kind,
        epochs=config.classifier_epochs,
        lr=config.classifier_lr,
        batch_size=config.batch_size,
        seed=seed,
        progress=progress,
        options=config.classifier_options,
        need_dropout="mc_dropout" in config.baselines,
    )
    info = {"seed": seed, "classifier_seconds": time.perf_counter() - t0}
    info["train_acc"] = float(correctness_labels(clf, train)[0].mean())
    return evaluate_methods(clf, train, tests, config, seed=seed, progress=progress), info


def run_trust_experiment(
    train: DataSplit,
    tests: Mapping[str, DataSplit],
    num_classes: int,
    config: TrustConfig,
    seeds: Sequence[int] = (0, 1, 2),
    *,
    executor: Any = None,
    progress: bool = False,
) -> tuple[list[MethodResult], list[dict[str, float]]]:
    """All seeds of the protocol (fanned out through ``run_tasks``); results in seed order."""
    from ..executors import run_tasks

    _check_config(config)
    train, tests = _check_train(train), _check_tests(tests)
    num_classes = check_num_classes(num_classes)
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Sequence) or not seeds:
        raise ValueError(f"seeds: expected a non-empty sequence of integers, got {seeds!r}")
    seeds = [check_integer(s, "seeds", minimum=0) for s in seeds]
    res = run_tasks(
        run_seed,
        [(train, tests, num_classes, config, int(s), progress) for s in seeds],
        executor=executor,
    )
    results = [r for rs, _ in res for r in rs]
    return results, [info for _, info in res]


def alpha_neg_ablation(
    classifier: torch.nn.Module,
    train: DataSplit,
    test: DataSplit,
    alphas: Sequence[float],
    config: TrustConfig,
    *,
    alpha_pos: float = 1.0,
    seed: int = 0,
) -> list[dict[str, float]]:
    """Luo Fig. 4b/c: SS oracles for each α⁻ (α⁺ fixed); final training loss, test TPR and TNR."""
    _check_config(config)
    train, test = _check_train(train), _check_train(test, "test")
    if isinstance(alphas, (str, bytes)) or not isinstance(alphas, Sequence) or not alphas:
        raise ValueError(f"alphas: expected a non-empty sequence of α⁻ > 0, got {alphas!r}")
    alphas = [check_positive(a, "alphas") for a in alphas]
    alpha_pos = check_positive(alpha_pos, "alpha_pos")
    seed = check_integer(seed, "seed", minimum=0)
    o = correctness_labels(classifier, test)[0]
    train = fit_subset(train, config.fit_size, seed)
    rows = []
    for a in alphas:
        oracle = TrustOracle(
            classifier,
            loss="ss",
            loss_params={"alpha_pos": alpha_pos, "alpha_neg": float(a)},
            head=config.head,
            backbone=config.backbone,
            freeze_layers=config.freeze_layers,
            epochs=config.oracle_epochs,
            lr=config.oracle_lr,
            batch_size=config.batch_size,
            seed=seed,
        ).fit(train)
        m = trust_metrics(o, oracle.predict_trust(test))
        rows.append(
            {
                "alpha_neg": float(a),
                "alpha_pos": alpha_pos,
                "train_loss": oracle.history_[-1],
                "tpr": m["tpr"],
                "tnr": m["tnr"],
                "auroc": m["auroc"],
                "fpr95": m["fpr95"],
            }
        )
    return rows
