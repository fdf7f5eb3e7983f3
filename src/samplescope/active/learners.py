"""Learners for the active-learning loop: retrain from scratch, predict, score, evaluate.

``MCDropoutLearner`` wraps a model factory (e.g. Gal's CNN): ``fit`` builds a fresh model
(seeded) and trains it with :func:`samplescope.training.fit`; predictions are MC-dropout
samples ``(T, N, C)`` when ``bayesian=True`` (Gal 2017), else the eval-mode softmax
``(1, N, C)`` (the deterministic CNN of Gal's §5.2). ``LastLayerLearner`` adds the
Bayesian last layer of the report (§4) on the frozen penultimate features.

Training budget: ``updates`` gradient steps per retrain (epochs = ceil(updates /
batches per epoch), at least ``min_epochs``), or a fixed ``epochs`` if given — retraining
cost then stays bounded while the labelled set grows. Gal's own protocol is
``epochs=50, batch_size=128, dense_l2=3.5`` (Keras code of Gal et al. 2017: Adam, an L2
penalty ``(c / N) Σ w²`` on the weight of the 128-unit dense layer only).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from .._validation import check_choice, check_integer, check_num_classes, check_positive
from ..data.split import DataSplit, as_split
from ..functional import label_nll, softmax
from ..models import features_and_logits
from ..training import fit
from ..training.callbacks import Callback
from .acquisitions import Acquisition
from .badge import badge_embeddings
from .bayes_last_layer import BayesianLastLayer
from .fast_fit import fast_fit
from .mc import deterministic_probs, mc_probs

__all__ = ["MCDropoutLearner", "LastLayerLearner"]


def _check_test_labels(test: DataSplit, num_classes: int) -> None:
    if len(test) and int(test.y.max()) >= num_classes:
        raise ValueError(
            f"test: expected labels in [0, {num_classes}) (the model's classes), "
            f"got labels up to {int(test.y.max())}"
        )


class MCDropoutLearner:
    """Retrain-from-scratch classifier with MC-dropout (or deterministic) predictions.

    Args:
        model_fn: ``() -> nn.Module`` returning a fresh, untrained model (logits ``(B, C)``).
        epochs: fixed epochs per retrain (overrides ``updates``).
        updates: gradient steps per retrain when ``epochs`` is None.
        min_epochs: lower bound on epochs in the ``updates`` mode.
        batch_size, lr, weight_decay, optimizer: passed to :func:`samplescope.training.fit`.
        mc_samples: T, MC-dropout samples for scoring and for test evaluation.
        bayesian: MC dropout at scoring and test time (False = deterministic eval-mode model).
        balanced_batches: use ceil(n / ceil(n / batch_size)) as the batch size so every batch
            of an epoch has (nearly) the same size; otherwise the last batch of each epoch can
            hold 2-4 samples (e.g. n = 130 with batch 64), and its noisy Adam step, repeated
            every epoch, visibly degrades the retrained model at such n.
        dense_l2: Gal's ``c``: adds ``(c / N) Σ w²`` (N = labelled set size, Keras ``l2``
            convention, gradient ``2 c w / N``) for the weight of the first ``nn.Linear``
            layer only; 0 disables it. ``weight_decay`` still applies to all parameters.
        device: torch device for training, scoring and evaluation (``"cuda"`` on a GPU).
        early_stop_loss: stop a retrain early once an epoch's mean training loss on the
            labelled set is below this (0 = never; at least ``min_epochs`` are run): the
            CPU protocol trains long enough for big labelled sets without over-spending on
            small ones that are fitted after a few epochs.
        trainer: ``"fit"`` (:func:`samplescope.training.fit`, epochs as above) or ``"fast"``
            (:func:`samplescope.active.fast_fit.fast_fit`: ``updates`` Adam steps at most,
            ``min_epochs`` passes at least, early stopping at ``early_stop_loss``; the CPU
            protocol — no ``dense_l2``, no custom optimizer).
        feature_layer: where :meth:`features` / :meth:`embeddings` read ``h(x)`` (a
            sub-module name; None = the input of the last ``nn.Linear``, any ``nn.Module``;
            :mod:`samplescope.models.features`).
    """

    def __init__(
        self,
        model_fn: Callable[[], nn.Module],
        *,
        epochs: int | None = None,
        updates: int = 60,
        min_epochs: int = 1,
        batch_size: int = 64,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        optimizer: str = "adam",
        mc_samples: int = 20,
        bayesian: bool = True,
        eval_batch_size: int = 1024,
        balanced_batches: bool = True,
        dense_l2: float = 0.0,
        device: str | torch.device = "cpu",
        early_stop_loss: float = 0.0,
        feature_layer: str | None = None,
        trainer: str = "fit",
    ) -> None:
        if not callable(model_fn):
            raise ValueError(f"model_fn: expected a zero-argument model factory, got {model_fn!r}")
        self.model_fn = model_fn
        self.epochs = None if epochs is None else check_integer(epochs, "epochs")
        self.updates = check_integer(updates, "updates")
        self.min_epochs = check_integer(min_epochs, "min_epochs")
        self.batch_size = check_integer(batch_size, "batch_size")
        self.lr = check_positive(lr, "lr")
        self.weight_decay = check_positive(weight_decay, "weight_decay", strict=False)
        if not callable(optimizer):
            check_choice(optimizer, "optimizer", ("adam", "adamw", "sgd"))
        self.optimizer = optimizer
        self.mc_samples = check_integer(mc_samples, "mc_samples")
        self.bayesian = bool(bayesian)
        self.eval_batch_size = check_integer(eval_batch_size, "eval_batch_size")
        self.balanced_batches = bool(balanced_batches)
        self.dense_l2 = check_positive(dense_l2, "dense_l2", strict=False)
        try:
            self.device = torch.device(device)
        except (RuntimeError, TypeError) as exc:
            raise ValueError(
                f"device: expected a torch device such as 'cpu' or 'cuda:0', got {device!r}"
            ) from exc
        self.early_stop_loss = check_positive(early_stop_loss, "early_stop_loss", strict=False)
        if feature_layer is not None and (not isinstance(feature_layer, str) or not feature_layer):
            raise ValueError(
                f"feature_layer: expected a sub-module name or None, got {feature_layer!r}"
            )
        self.feature_layer = feature_layer
        self.trainer = check_choice(trainer, "trainer", ("fit", "fast"))
        if self.trainer == "fast" and (self.dense_l2 or self.optimizer != "adam"):
            raise ValueError(
                "trainer: 'fast' trains with plain Adam; use trainer='fit' for dense_l2 / other optimizers"
            )
        self.model_: nn.Module | None = None
        self.epochs_run_: int = 0

    @classmethod
    def gal_protocol(
        cls, model_fn: Callable[[], nn.Module] | None = None, **overrides: Any
    ) -> MCDropoutLearner:
        """Gal et al. (2017)'s training as in their Keras code: ``gal_cnn``, 50 epochs of batch
        128 per retrain, Adam 1e-3, L2 ``(3.5 / N) Σ w²`` on the dense layer, T = 20 MC
        samples (the paper code used 100); ``overrides`` replace any of these (e.g.
        ``device="cuda"``, ``bayesian=False``)."""
        from ..models import gal_cnn

        kw: dict[str, Any] = {
            "epochs": 50,
            "batch_size": 128,
            "lr": 1e-3,
            "dense_l2": 3.5,
            "mc_samples": 20,
        }
        kw.update(overrides)
        return cls(model_fn if model_fn is not None else gal_cnn, **kw)

    def batch_size_for(self, n: int) -> int:
        if not self.balanced_batches:
            # n = k·batch + 1 would leave a one-sample batch, which the trainer merges into the
            # previous one; sidestep that path (it fails when k = 1) with one more per batch
            return self.batch_size + 1 if n > 1 and n % self.batch_size == 1 else self.batch_size
        return max(1, math.ceil(n / max(1, math.ceil(n / self.batch_size))))

    def epochs_for(self, n: int) -> int:
        if self.epochs is not None:
            return int(self.epochs)
        per_epoch = max(1, math.ceil(n / self.batch_size_for(n)))
        return max(self.min_epochs, math.ceil(self.updates / per_epoch))

    def fit(self, train: DataSplit, seed: int) -> MCDropoutLearner:
        """Build a fresh model (``torch.manual_seed(seed)``) and train it on ``train``."""
        torch.manual_seed(seed)
        model = self.model_fn()
        if self.trainer == "fast":
            n = len(train)
            self.epochs_run_ = fast_fit(
                model,
                train.x,
                train.y,
                updates=self.updates,
                batch_size=self.batch_size,
                lr=self.lr,
                weight_decay=self.weight_decay,
                early_stop_loss=self.early_stop_loss,
                min_updates=self.min_epochs * max(1, n // min(self.batch_size, n)),
                seed=seed,
                device=self.device,
            )
            self.model_ = model.eval()
            return self
        callbacks = (
            [] if self.early_stop_loss == 0 else [_EarlyStop(self.early_stop_loss, self.min_epochs)]
        )
        res = fit(
            model,
            train,
            epochs=self.epochs_for(len(train)),
            batch_size=self.batch_size_for(len(train)),
            lr=self.lr,
            weight_decay=self.weight_decay,
            optimizer=self._optimizer(model, len(train)),
            seed=seed,
            progress=False,
            eval_batch_size=self.eval_batch_size,
            device=self.device,
            callbacks=callbacks,
        )
        self.epochs_run_ = len(res.history)
        self.model_ = model.eval()
        return self

    def _optimizer(self, model: nn.Module, n: int) -> Any:
        """The optimizer name, or with ``dense_l2`` a factory putting Gal's L2 on one layer."""
        if self.dense_l2 == 0:
            return self.optimizer
        dense = next((m for m in model.modules() if isinstance(m, nn.Linear)), None)
        if dense is None:
            raise ValueError("dense_l2: expected the model to have an nn.Linear layer, found none")
        l2 = 2.0 * self.dense_l2 / max(1, n)  # d/dw of (c/N) Σ w²
        name, lr, wd = self.optimizer, self.lr, self.weight_decay
        if name not in ("adam", "sgd"):
            # the Keras penalty is a loss term, i.e. coupled L2: AdamW's decay is not it
            raise ValueError(f"optimizer: expected 'adam' or 'sgd' with dense_l2, got {name!r}")
        penalised = dense.weight

        def make(params: Any) -> torch.optim.Optimizer:
            params = list(params)
            groups = [
                {"params": [penalised], "weight_decay": wd + l2},
                {"params": [p for p in params if p is not penalised], "weight_decay": wd},
            ]
            if name == "sgd":
                return torch.optim.SGD(groups, lr=lr, momentum=0.9)
            # Adam adds weight_decay·w to the gradient: the Keras l2 penalty exactly
            return torch.optim.Adam(groups, lr=lr)

        return make

    def _model(self) -> nn.Module:
        if self.model_ is None:
            raise ValueError("learner: call fit(train, seed) before predicting")
        return self.model_

    def probs(self, split: DataSplit, seed: int, *, consistent_masks: bool = False) -> np.ndarray:
        """``(T, N, C)`` MC-dropout probabilities, or ``(1, N, C)`` for a deterministic learner."""
        model = self._model()
        if self.bayesian:
            return mc_probs(
                model,
                split.x,
                samples=self.mc_samples,
                batch_size=self.eval_batch_size,
                seed=seed,
                consistent_masks=consistent_masks,
                device=self.device,
            )
        return deterministic_probs(
            model, split.x, batch_size=self.eval_batch_size, device=self.device
        )

    def features(self, split: DataSplit) -> np.ndarray:
        """Eval-mode features ``h(x)`` ``(N, D)`` at ``feature_layer`` (any ``nn.Module``)."""
        return self._features_and_probs(split)[0]

    def _features_and_probs(self, split: DataSplit) -> tuple[np.ndarray, np.ndarray]:
        h, z = features_and_logits(
            self._model(),
            split.x,
            layer=self.feature_layer,
            batch_size=self.eval_batch_size,
            device=self.device,
        )
        return h.numpy().astype(np.float64), softmax(z.numpy().astype(np.float64), axis=1)

    def embeddings(self, split: DataSplit) -> np.ndarray:
        """BADGE gradient embeddings ``(p - e_ŷ) ⊗ h(x)`` ``(N, C·D)`` (eval mode; Ash 2020)."""
        h, p = self._features_and_probs(split)
        return badge_embeddings(p, h)

    def score(
        self,
        split: DataSplit,
        acquisition: Acquisition,
        seed: int,
        rng: np.random.Generator,
        *,
        consistent_masks: bool = False,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(scores (N,), mean probs (N, C), probs (S, N, C))`` on the candidate ``split``."""
        p = self.probs(split, seed, consistent_masks=consistent_masks)
        return acquisition.fn(p, rng), p.mean(axis=0), p

    def evaluate(self, test: DataSplit, seed: int) -> dict[str, float]:
        """Test accuracy and NLL (MC-averaged predictive for a Bayesian learner)."""
        test = as_split(test)
        pbar = self.probs(test, seed).mean(axis=0)
        _check_test_labels(test, pbar.shape[1])
        acc = float((pbar.argmax(1) == test.y).mean())
        nll = float(label_nll(pbar, test.y).mean())
        return {"accuracy": acc, "nll": nll}


class _EarlyStop(Callback):
    """Stop training once an epoch's mean training loss is below ``tol`` (after ``min_epochs``)."""

    def __init__(self, tol: float, min_epochs: int) -> None:
        self.tol, self.min_epochs = tol, min_epochs

    def on_epoch_end(self, state: Any) -> None:
        if len(state.history) >= self.min_epochs and state.history[-1]["train_loss"] < self.tol:
            state.stop = True


class LastLayerLearner(MCDropoutLearner):
    """Gal's CNN trained as usual, then a :class:`BayesianLastLayer` fitted on its frozen
    penultimate features of the labelled set. ``predictive_variance`` (alias
    ``predictive_trace``) = trace of the analytic predictive covariance; other acquisitions
    see softmax(predictive mean) as ``(1, N, C)``;
    ``evaluate`` reports the regression RMSE and the accuracy of argmax of the predictive mean.
    """

    def __init__(
        self,
        model_fn: Callable[[], nn.Module],
        *,
        method: str = "analytic",
        noise_var: float = 0.1,
        prior_var: float = 1.0,
        num_classes: int = 10,
        **kw: Any,
    ) -> None:
        super().__init__(model_fn, **kw)
        self.head = BayesianLastLayer(method, noise_var=noise_var, prior_var=prior_var)
        self.num_classes = check_num_classes(num_classes)

    def fit(self, train: DataSplit, seed: int) -> LastLayerLearner:
        super().fit(train, seed)
        self.head.fit(self.features(train), train.y, num_classes=self.num_classes)
        return self

    def score(
        self,
        split: DataSplit,
        acquisition: Acquisition,
        seed: int,
        rng: np.random.Generator,
        *,
        consistent_masks: bool = False,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        f = self.features(split)
        mean, var = self.head.predict(f)
        p = softmax(mean, axis=1)
        if acquisition.name == "predictive_variance":
            return var.sum(axis=1), p, p[None]
        return acquisition.fn(p[None], rng), p, p[None]

    def evaluate(self, test: DataSplit, seed: int) -> dict[str, float]:
        test = as_split(test)
        f = self.features(test)
        mean, var = self.head.predict(f)
        _check_test_labels(test, mean.shape[1])
        return {
            "accuracy": float((mean.argmax(1) == test.y).mean()),
            "rmse": self.head.rmse(f, test.y),
            "mean_pred_var": float(var.sum(axis=1).mean()),
        }
