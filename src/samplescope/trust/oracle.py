"""Trustworthiness oracle on a frozen classifier (Corbière et al. 2019; Luo et al. 2021).

The oracle learns to predict whether a frozen classifier's prediction on ``x`` is correct:

- correctness labels ``o = 1[argmax classifier(x) = y]`` ``(N,)`` (Luo eq. 2) and the
  true-class probability ``p_classifier[y]`` (for TCP) are computed from the classifier at
  fit time, in eval mode and without gradients; the classifier is never modified;
- the backbone is a deep copy of the classifier's trunk (:func:`samplescope.models.split_head`),
  fine-tuned (``backbone="finetune"``, Luo) or frozen (``backbone="frozen"``);
  ``freeze_layers=k`` keeps the first ``k`` trunk layers frozen while fine-tuning the rest
  (their outputs are computed once, which makes CPU fine-tuning cheap);
- the head is Luo's hyperplane ``z = (wᵀh + b)/‖w‖`` or a plain linear layer;
- the loss comes from the trust-loss registry (``ce``, ``focal``, ``tcp``, ``ss``).

Scores: ``predict_trust(data)`` → ``σ(z)`` ``(N,)`` in [0, 1], **higher = more trustworthy**.

Training uses its own short loop (Adam/SGD over shuffled mini-batches of the precomputed
frozen-prefix features with the precomputed targets ``o``, ``p_true``) rather than
:func:`samplescope.training.fit`, whose ``(x, y)`` contract has no slot for the
per-sample correctness targets.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import torch
from torch import nn

from .._validation import check_array, check_choice, check_integer, check_positive
from ..data.split import as_split
from ..models import split_head
from ..training.checks import forward_checked, probe_classes, renamed_argument
from .heads import HEADS, make_head
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


class _Backbone(nn.Module):
    """Frozen prefix (always eval) followed by a trainable suffix."""

    def __init__(self, prefix: nn.Sequential, suffix: nn.Sequential) -> None:
        super().__init__()
        self.prefix = prefix
        self.suffix = suffix
        for p in self.prefix.parameters():
            p.requires_grad_(False)

    def train(self, mode: bool = True) -> _Backbone:
        super().train(mode)
        self.prefix.eval()
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            f = self.prefix(x)
        return self.suffix(f)


class TrustOracle:
    """Learned trustworthiness predictor for a frozen classifier (scikit-learn contract).

    Args:
        classifier: frozen ``nn.Sequential`` returning logits ``(N, C)`` whose last layer is a
            ``Linear`` (its trunk initialises the oracle's backbone).
        loss: registered trust loss name (``"ce"``, ``"focal"``, ``"tcp"``, ``"ss"``) or a
            :class:`~samplescope.trust.losses.TrustLoss`.
        loss_params: keyword arguments of the loss (e.g. ``{"alpha_pos": 1, "alpha_neg": 3}``).
        head: ``"hyperplane"`` (Luo eq. 7) or ``"linear"``.
        backbone: ``"finetune"`` (Luo) or ``"frozen"``.
        freeze_layers: with ``"finetune"``, number of leading trunk layers kept frozen.
        epochs, batch_size, lr, weight_decay: optimisation; ``optimizer`` ``"adam"`` | ``"sgd"``.
        seed: seeds the head initialisation, dropout and the batch order.
        device: torch device; ``batch_size_eval``: chunk size for inference.
        progress: show a tqdm bar over epochs.

    Fitted attributes: ``backbone_``, ``head_``, ``loss_``, ``num_classes_``,
    ``neg_threshold_`` (TNR threshold of the loss: 0.5, 1/K for TCP), ``history_`` (mean
    training loss per epoch), ``train_accuracy_`` (classifier accuracy on the fit data),
    ``n_errors_`` (number of o = 0 training samples).
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
    def _validate(self) -> tuple[nn.Sequential, nn.Linear, TrustLoss, int]:
        clf = _require_module(self.classifier)
        with renamed_argument("model", "classifier"):
            trunk, cls_head = split_head(clf)
        loss = get_trust_loss(self.loss, **(self.loss_params or {}))
        check_choice(self.head, "head", HEADS)
        check_choice(self.backbone, "backbone", ("finetune", "frozen"))
        check_choice(self.optimizer, "optimizer", ("adam", "sgd"))
        for name in ("epochs", "batch_size", "batch_size_eval"):
            check_integer(getattr(self, name), name)
        check_integer(self.seed, "seed", minimum=0)
        check_positive(self.lr, "lr")
        check_positive(self.weight_decay, "weight_decay", strict=False)
        k = len(trunk) if self.backbone == "frozen" else self.freeze_layers
        if not isinstance(k, (int, np.integer)) or not 0 <= k <= len(trunk):
            raise ValueError(f"freeze_layers: expected an integer in [0, {len(trunk)}], got {k!r}")
        return trunk, cls_head, loss, int(k)

    def fit(self, data: Any) -> TrustOracle:
        """Compute correctness labels from the frozen classifier on ``data`` and train the oracle.

        Args:
            data: labelled split (DataSplit, ``(x, y)`` arrays or a torch Dataset), usually the
                classifier's own training split (Luo's protocol).
        Returns:
            self.
        """
        trunk, cls_head, loss, k = self._validate()
        split = as_split(data)
        if len(split) < 2:
            raise ValueError(f"data: expected at least 2 samples, got {len(split)}")
        probe_classes(self.classifier, split.x, int(split.y.max()), device=self.device)
        dev = torch.device(self.device)
        clf = self.classifier
        clf.to(dev)
        was = clf.training
        clf.eval()
        # one pass: frozen-prefix features (of the original trunk = the copy at init), and the
        # classifier's logits for the correctness targets
        feats, logits = [], []
        try:
            with torch.no_grad():
                for lo in range(0, len(split), self.batch_size_eval):
                    xb = torch.as_tensor(split.x[lo : lo + self.batch_size_eval], device=dev)
                    f = trunk[:k](xb)
                    logits.append(cls_head(trunk[k:](f)).double().cpu())
                    feats.append(f.float().cpu())
        finally:
            clf.train(was)
        lg = torch.cat(logits)
        y = torch.as_tensor(split.y)
        num_classes = lg.shape[1]
        if int(y.max()) >= num_classes or int(y.min()) < 0:
            raise ValueError(
                f"data: expected labels in [0, {num_classes}), got [{int(y.min())}, {int(y.max())}]"
            )
        o = (lg.argmax(1) == y).float()
        p_true = lg.softmax(1).gather(1, y[:, None]).squeeze(1).float()
        f_all = torch.cat(feats)

        torch.manual_seed(self.seed)
        gen = torch.Generator().manual_seed(self.seed)
        backbone = _Backbone(copy.deepcopy(trunk[:k]), copy.deepcopy(trunk[k:])).to(dev)
        for p in backbone.suffix.parameters():
            p.requires_grad_(True)
        with torch.no_grad():
            backbone.eval()
            d = backbone.suffix(f_all[:2].to(dev)).reshape(2, -1).shape[1]
        head = make_head(self.head, d).to(dev)
        params = [p for p in backbone.suffix.parameters()] + list(head.parameters())
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
            backbone.train()
            head.train()
            order = torch.randperm(n, generator=gen)
            chunks = list(order.split(int(self.batch_size)))
            if len(chunks) > 1 and len(chunks[-1]) == 1:  # a batch of one breaks BatchNorm
                chunks[-2] = torch.cat([chunks[-2], chunks.pop()])
            tot = 0.0
            for idx in chunks:
                fb = f_all[idx].to(dev)
                h = backbone.suffix(fb).reshape(len(idx), -1)
                z = head(h)
                per = loss(z, o[idx].to(dev), p_true[idx].to(dev))
                batch_loss = per.mean()
                opt.zero_grad(set_to_none=True)
                batch_loss.backward()
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
        self.train_accuracy_ = float(o.mean())
        self.n_errors_ = int((o == 0).sum())
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

        def f(xb: torch.Tensor) -> torch.Tensor:
            return self.head_(self.backbone_(xb).reshape(len(xb), -1))

        return _batched(f, x, self.batch_size_eval, dev).double().numpy()

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
