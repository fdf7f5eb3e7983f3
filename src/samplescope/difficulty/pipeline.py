"""End-to-end difficulty scoring of a training split: train a model, score every sample."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from torch import nn

from ..data.split import DataSplit, as_split
from ..io.scores import ScoreTable
from ..models.nets import default_model
from ..training.trainer import fit, predict_logits
from .registry import get_measure

__all__ = ["DifficultyRun", "score_split"]


@dataclass
class DifficultyRun:
    """The scores, the trained model and its training history."""

    table: ScoreTable
    model: nn.Module
    history: list[dict[str, float]]


def score_split(
    split: Any,
    num_classes: int,
    *,
    measures: Sequence[str] = ("loss", "confidence", "margin", "entropy"),
    model: nn.Module | None = None,
    model_kind: str | None = None,
    epochs: int = 10,
    batch_size: int = 128,
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    seed: int = 0,
    device: str = "cpu",
    progress: bool = True,
    val: Any = None,
) -> DifficultyRun:
    """Train ``model`` (default: :func:`default_model`) on ``split`` and score each of its samples.

    Only ``"logits"`` measures are computed here (from the final model's logits on the
    training samples); other kinds are produced by their own estimators.
    """
    s: DataSplit = as_split(split)
    ms = [get_measure(m) for m in measures]
    bad = [m.name for m in ms if m.kind != "logits"]
    if bad:
        raise ValueError(f"measures: score_split computes 'logits' measures only, got {bad}")
    if model is None:
        import torch

        torch.manual_seed(seed)
        model = default_model(s.x.shape[1:], num_classes, kind=model_kind)
    res = fit(
        model,
        s,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        weight_decay=weight_decay,
        seed=seed,
        device=device,
        progress=progress,
        val=val,
    )
    logits = predict_logits(model, s, device=device)
    scores = {m.name: m.fn(logits, s.y) for m in ms}
    table = ScoreTable.from_arrays(s.sample_id, s.y, true_label=s.true_y, **scores)
    return DifficultyRun(table, model, res.history)
