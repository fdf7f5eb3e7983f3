"""Trustworthiness oracle on a frozen classifier (Corbière et al. 2019; Luo et al. 2021).

The oracle learns to predict whether a frozen classifier's prediction on ``x`` is correct:

- correctness labels ``o`` ``(N,)`` and the true-class probability ``p_true`` (for TCP)
  (:mod:`samplescope.trust.correctness`): ``correctness="insample"`` — the deployed classifier
  on ``data`` (Luo eq. 2); ``"holdout"`` — the deployed classifier on ``validation``, a split
  it did not train on (the oracle trains on it); ``"crossfit"`` — each sample of ``data``
  labelled by an out-of-fold model of :func:`samplescope.training.crossfit` (same
  architecture and training as the deployed classifier, ``crossfit_config``), so the oracle
  sees the errors a model makes on samples it did not fit. The classifier is never modified;
- the backbone (:mod:`samplescope.trust.backbones`): for an ``nn.Sequential`` a copy of its
  trunk, fine-tuned (``backbone="finetune"``, Luo; ``freeze_layers=k`` keeps the first ``k``
  layers frozen and precomputed) or frozen; for **any** ``nn.Module`` a copy read at
  ``layer`` by a forward hook (default: the input of the last ``nn.Linear``);
- the head (:mod:`samplescope.trust.heads`): Luo's hyperplane ``z = (wᵀh + b)/‖w‖``, a
  plain linear layer, or the MSP-anchored ``z = a·logit(s_MSP) + b + wᵀh`` (``w = 0`` at
  start: the untrained oracle ranks exactly as MCP). The anchor is the MSP of the model that
  made the labelled prediction at training time (the out-of-fold model for crossfit) and of
  the deployed classifier at prediction time;
- the loss comes from the trust-loss registry (``ce``, ``focal``, ``tcp``, ``ss``); every loss
  works with every head.

Scores: ``predict_trust(data)`` → ``σ(z)`` ``(N,)`` in [0, 1], **higher = more trustworthy**.

Training uses its own short loop (Adam/SGD over shuffled mini-batches of the precomputed
frozen-prefix features, or the inputs, with the precomputed targets ``o``, ``p_true``) rather than
:func:`samplescope.training.fit`, whose ``(x, y)`` contract has no slot for the
per-sample correctness targets.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from .._validation import check_array, check_choice, check_integer, check_positive
from ..data.split import as_split
from ..models import resolve_layer
from ..training import FoldConfig
from ..training.checks import forward_checked, probe_classes, renamed_argument
from .backbones import LogitStatsBackbone, build_backbone, logit_stats
from .correctness import (
    CORRECTNESS,
    CorrectnessTargets,
    classifier_fold_config,
    crossfit_correctness,
    targets_from_logits,
    warn_few_errors,
)
from .heads import HEADS, make_head, msp_logit
from .losses import TrustLoss, get_trust_loss

__all__ = ["TrustOracle", "correctness_labels", "inputs_of"]


def inputs_of(data: Any) -> np.ndarray:
    """Input array ``(N, ...)`` float32 of ``data`` (an array, a DataSplit, ``(x, y)`` or a Dataset)."""
    if isinstance(data, (np.ndarray, torch.Tensor)):
        x = check_array(data, "data", ndim=tuple(range(2, 6)), dtype=np.float32)
    else:
        x = as_split(data).x
    if len(x) == 0:
        raise ValueError("data: expected at least one sample, got 0")
    return x


def _require_module(classifier: Any) -> nn.Module:
    if not isinstance(classifier, nn.Module):
        raise ValueError(
            f"classifier: expected an nn.Module returning logits, got {type(classifier).__name__}"
        )
    return classifier


@torch.no_grad()
def _batched(
    fn: Any, x: np.ndarray | torch.Tensor, batch_size: int, device: torch.device
) -> torch.Tensor:
    out = []
    for lo in range(0, len(x), batch_size):
        xb = torch.as_tensor(x[lo : lo + batch_size], device=device)
        out.append((forward_checked(fn, xb) if lo == 0 else fn(xb)).float().cpu())
    return torch.cat(out)


def correctness_labels(
    classifier: nn.Module, data: Any, *, batch_size: int = 1024, device: str | torch.device = "cpu"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(o, p_true, logits)`` of a frozen classifier on a labelled split (eval mode, no grad).

    ``o`` ``(N,)`` int64 = 1[argmax logits = y]; ``p_true`` ``(N,)`` = softmax(logits)[y];
    ``logits`` ``(N, C)``. The classifier's train/eval mode is restored afterwards.
    """
    clf = _require_module(classifier)
    split = as_split(data)
    batch_size = check_integer(batch_size, "batch_size")
    if len(split) == 0:
        raise ValueError("data: expected at least one sample, got 0")
    probe_classes(clf, split.x, int(split.y.max()), device=device)
    dev = torch.device(device)
    was = clf.training
    clf.eval()
    try:
        logits = _batched(clf, split.x, batch_size, dev).double()
    finally:
        clf.train(was)
    y = torch.as_tensor(split.y)
    o = (logits.argmax(1) == y).long()
    p_true = logits.softmax(1).gather(1, y[:, None]).squeeze(1)
    return o.numpy(), p_true.numpy(), logits.numpy()


class TrustOracle:
    """Learned trustworthiness predictor for a frozen classifier (scikit-learn contract).

    Args:
        classifier: frozen ``nn.Module`` returning logits ``(N, C)`` (any architecture; an
            ``nn.Sequential`` ending in ``Linear`` keeps Luo's copied-trunk backbone).
        loss: registered trust loss name (``"ce"``, ``"focal"``, ``"tcp"``, ``"ss"``) or a
            :class:`~samplescope.trust.losses.TrustLoss`.
        loss_params: keyword arguments of the loss (e.g. ``{"alpha_pos": 1, "alpha_neg": 3}``).
        head: ``"hyperplane"`` (Luo eq. 7), ``"linear"`` or ``"msp"`` (MSP-anchored).
        backbone: ``"finetune"`` (Luo) or ``"frozen"``.
        freeze_layers: with ``"finetune"`` and an ``nn.Sequential``, leading trunk layers kept
            frozen.
        layer: name of the sub-module whose output is the feature ``h`` (default: the input of
            the last ``nn.Linear``); see :func:`samplescope.models.resolve_layer`.
        features: ``"backbone"`` (``h`` from the copied backbone) or ``"logit_stats"``
            (``h`` = standardised logit statistics of the labelling model — the out-of-fold
            model for crossfit — at training time and of the classifier at prediction time,
            :func:`~samplescope.trust.backbones.logit_stats`; only the head trains).
        correctness: ``"insample"`` | ``"holdout"`` | ``"crossfit"`` (module docstring).
        folds: ``K`` of the cross-fitted labels.
        crossfit_config: the :class:`~samplescope.training.FoldConfig` of the out-of-fold
            models — pass the deployed classifier's training (epochs, lr, ...); default: fresh
            copies of ``classifier`` trained with :class:`FoldConfig`'s defaults.
        epochs, batch_size, lr, weight_decay: optimisation; ``optimizer`` ``"adam"`` | ``"sgd"``.
        seed: seeds the head initialisation, dropout, the batch order and the folds.
        device: torch device; ``batch_size_eval``: chunk size for inference.
        progress: show a tqdm bar over epochs.

    Fitted attributes: ``backbone_``, ``head_``, ``loss_``, ``num_classes_``,
    ``neg_threshold_`` (TNR threshold of the loss: 0.5, 1/K for TCP), ``history_`` (mean
    training loss per epoch), ``train_accuracy_`` (accuracy of the labelling model on the fit
    data), ``n_errors_`` (number of o = 0 training samples), ``targets_``
    (:class:`~samplescope.trust.correctness.CorrectnessTargets`).
    """

    def __init__(
        self,
        classifier: nn.Module,
        *,
        loss: str | TrustLoss = "ss",
        loss_params: dict[str, Any] | None = None,
        head: str = "hyperplane",
        backbone: str = "finetune",
        freeze_layers: int = 0,
        layer: str | None = None,
        features: str = "backbone",
        correctness: str = "insample",
        folds: int = 5,
        crossfit_config: FoldConfig | None = None,
        epochs: int = 5,
        batch_size: int = 128,
        lr: float = 1e-4,
        optimizer: str = "adam",
        weight_decay: float = 0.0,
        seed: int = 0,
        device: str = "cpu",
        batch_size_eval: int = 1024,
        progress: bool = False,
    ) -> None:
        self.classifier = classifier
        self.loss = loss
        self.loss_params = loss_params
        self.head = head
        self.backbone = backbone
        self.freeze_layers = freeze_layers
        self.layer = layer
        self.features = features
        self.correctness = correctness
        self.folds = folds
        self.crossfit_config = crossfit_config
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.seed = seed
        self.device = device
        self.batch_size_eval = batch_size_eval
        self.progress = progress

    # ------------------------------------------------------------------ fitting
    def _validate(self) -> TrustLoss:
        clf = _require_module(self.classifier)
        loss = get_trust_loss(self.loss, **(self.loss_params or {}))
        check_choice(self.head, "head", HEADS)
        check_choice(self.backbone, "backbone", ("finetune", "frozen"))
        check_choice(self.optimizer, "optimizer", ("adam", "sgd"))
        check_choice(self.correctness, "correctness", CORRECTNESS)
        check_choice(self.features, "features", ("backbone", "logit_stats"))
        for name in ("epochs", "batch_size", "batch_size_eval"):
            check_integer(getattr(self, name), name)
        check_integer(self.folds, "folds", minimum=2)
        check_integer(self.seed, "seed", minimum=0)
        check_integer(self.freeze_layers, "freeze_layers", minimum=0)
        check_positive(self.lr, "lr")
        check_positive(self.weight_decay, "weight_decay", strict=False)
        with renamed_argument("model", "classifier"):
            resolve_layer(clf, self.layer)
        if self.crossfit_config is not None and not isinstance(self.crossfit_config, FoldConfig):
            raise ValueError(
                f"crossfit_config: expected a FoldConfig, got {type(self.crossfit_config).__name__}"
            )
        return loss

    def _targets(self, split: Any, logits: torch.Tensor, targets: Any) -> CorrectnessTargets:
        n = len(split)
        if targets is not None:
            if not isinstance(targets, CorrectnessTargets) or len(targets.o) != n:
                raise ValueError(
                    f"targets: expected CorrectnessTargets of {n} samples, got "
                    f"{type(targets).__name__}"
                    + (f" of {len(targets.o)}" if isinstance(targets, CorrectnessTargets) else "")
                )
            return targets
        if self.correctness == "crossfit":
            cfg = self.crossfit_config or classifier_fold_config(self.classifier, logits.shape[1])
            return crossfit_correctness(split, cfg, folds=int(self.folds), seed=int(self.seed))
        return targets_from_logits(logits.numpy(), split.y, str(self.correctness))

    def fit(self, data: Any, *, validation: Any = None, targets: Any = None) -> TrustOracle:
        """Label ``data`` with correctness targets and train the oracle on them.

        Args:
            data: labelled split (DataSplit, ``(x, y)`` arrays or a torch Dataset), usually the
                classifier's own training split (Luo's protocol).
            validation: with ``correctness="holdout"``, the split the oracle trains on instead
                (one the classifier did not train on).
            targets: precomputed :class:`CorrectnessTargets` for the training rows (e.g. one
                :func:`crossfit_correctness` shared by several oracles); overrides
                ``correctness``.
        Returns:
            self.
        """
        loss = self._validate()
        if self.correctness == "holdout" and targets is None:
            if validation is None:
                raise ValueError(
                    'validation: correctness="holdout" needs a validation split the '
                    "classifier did not train on, got None"
                )
            data = validation
        split = as_split(data)
        if len(split) < 2:
            raise ValueError(f"data: expected at least 2 samples, got {len(split)}")
        probe_classes(self.classifier, split.x, int(split.y.max()), device=self.device)
        dev = torch.device(self.device)
        clf = self.classifier.to(dev)
        was = clf.training
        clf.eval()
        try:
            logits = _batched(clf, split.x, int(self.batch_size_eval), dev).double()
        finally:
            clf.train(was)
        num_classes = logits.shape[1]
        y = torch.as_tensor(split.y)
        if int(y.max()) >= num_classes or int(y.min()) < 0:
            raise ValueError(
                f"data: expected labels in [0, {num_classes}), got [{int(y.min())}, {int(y.max())}]"
            )
        torch.manual_seed(self.seed)
        gen = torch.Generator().manual_seed(self.seed)
        was = clf.training
        try:
            backbone, trainable, inputs = build_backbone(
                clf,
                split.x,
                backbone=self.backbone,
                freeze_layers=int(self.freeze_layers),
                layer=self.layer,
                batch_size=int(self.batch_size_eval),
                device=dev,
            )
        finally:
            clf.train(was)
        tg = self._targets(split, logits, targets)
        warn_few_errors(tg.n_errors, len(split), tg.source)
        if self.features == "logit_stats":
            stats = logit_stats(torch.as_tensor(tg.logits))
            backbone = LogitStatsBackbone(clf, stats).to(dev)
            inputs, trainable = backbone.standardise(stats.to(dev)).cpu(), nn.Identity()
        o = torch.as_tensor(tg.o).float()
        p_true = torch.as_tensor(tg.p_true).float()
        anchor = msp_logit(torch.as_tensor(tg.logits)).float()

        with torch.no_grad():
            trainable.eval()
            d = trainable(inputs[:2].to(dev)).shape[1]
        torch.manual_seed(self.seed)
        head = make_head(self.head, d).to(dev)
        params = [p for p in trainable.parameters() if p.requires_grad] + list(head.parameters())
        if self.optimizer == "adam":
            opt: torch.optim.Optimizer = torch.optim.Adam(
                params, lr=self.lr, weight_decay=self.weight_decay
            )
        else:
            opt = torch.optim.SGD(params, lr=self.lr, momentum=0.9, weight_decay=self.weight_decay)

        n = len(split)
        history: list[float] = []
        bar = _bar(self.epochs, self.progress)
        for _ in range(int(self.epochs)):
            trainable.train()
            head.train()
            order = torch.randperm(n, generator=gen)
            chunks = list(order.split(int(self.batch_size)))
            if len(chunks) > 1 and len(chunks[-1]) == 1:  # a batch of one breaks BatchNorm
                chunks[-2] = torch.cat([chunks[-2], chunks.pop()])
            tot = 0.0
            for idx in chunks:
                h = trainable(inputs[idx].to(dev))
                z = head(h, anchor[idx].to(dev))
                per = loss(z, o[idx].to(dev), p_true[idx].to(dev))
                opt.zero_grad(set_to_none=True)
                per.mean().backward()
                opt.step()
                tot += float(per.detach().sum())
            history.append(tot / n)
            if bar is not None:
                bar.set_postfix(loss=f"{history[-1]:.4f}")
                bar.update(1)
        if bar is not None:
            bar.close()
        backbone.eval()
        head.eval()

        self.backbone_ = backbone
        self.head_ = head
        self.loss_ = loss
        self.num_classes_ = int(num_classes)
        self.neg_threshold_ = float(loss.neg_threshold(num_classes))
        self.history_ = history
        self.targets_ = tg
        self.train_accuracy_ = float(tg.o.mean())
        self.n_errors_ = tg.n_errors
        return self

    # --------------------------------------------------------------- prediction
    def _check_fitted(self) -> None:
        if not hasattr(self, "head_"):
            raise ValueError(
                "TrustOracle: this instance is not fitted yet; call fit(data) before predicting"
            )

    def decision_function(self, data: Any) -> np.ndarray:
        """The oracle's discriminative output ``z`` ``(N,)`` (signed distance for the hyperplane head)."""
        self._check_fitted()
        x = inputs_of(data)
        dev = torch.device(self.device)
        self.backbone_.eval()
        self.head_.eval()
        anchor = None
        if getattr(self.head_, "needs_anchor", False):
            clf = self.classifier
            was = clf.training
            clf.eval()
            try:
                anchor = msp_logit(_batched(clf, x, self.batch_size_eval, dev).double()).float()
            finally:
                clf.train(was)
        out = []
        with torch.no_grad():
            for lo in range(0, len(x), self.batch_size_eval):
                xb = torch.as_tensor(x[lo : lo + self.batch_size_eval], device=dev)
                fb = forward_checked(self.backbone_, xb) if lo == 0 else self.backbone_(xb)
                ab = None if anchor is None else anchor[lo : lo + len(xb)].to(dev)
                out.append(self.head_(fb.reshape(len(xb), -1), ab).double().cpu())
        return torch.cat(out).numpy()

    def predict_trust(self, data: Any) -> np.ndarray:
        """Trust ``σ(z)`` ``(N,)`` in [0, 1], higher = more trustworthy."""
        z = self.decision_function(data)
        return 1.0 / (1.0 + np.exp(-z))

    def predict(self, data: Any) -> np.ndarray:
        """Predicted correctness ``(N,)`` int64: 1 where trust > 0.5."""
        return (self.predict_trust(data) > 0.5).astype(np.int64)

    def get_params(self, deep: bool = False) -> dict[str, Any]:
        """The constructor parameters (scikit-learn style)."""
        names = (
            "classifier",
            "loss",
            "loss_params",
            "head",
            "backbone",
            "freeze_layers",
            "layer",
            "features",
            "correctness",
            "folds",
            "crossfit_config",
            "epochs",
            "batch_size",
            "lr",
            "optimizer",
            "weight_decay",
            "seed",
            "device",
            "batch_size_eval",
            "progress",
        )
        return {k: getattr(self, k) for k in names}

    def set_params(self, **params: Any) -> TrustOracle:
        """Set constructor parameters (scikit-learn style)."""
        valid = self.get_params()
        for k, v in params.items():
            if k not in valid:
                raise ValueError(
                    f"params: unknown parameter {k!r}; expected one of {sorted(valid)}"
                )
            setattr(self, k, v)
        return self


def _bar(total: int, enabled: bool) -> Any:
    if not enabled:
        return None
    from .._progress import progress_bar

    return progress_bar(total, True, "oracle epochs")
