"""Shared pieces of the weighting experiments (issue 4): data, models, cached gen_error, runs.

Budget: MNIST subsets (a few thousand training images), a one-hidden-layer MLP (784-256-10),
Adam 1e-3, batch 64, CPU with one thread. Every finished run is appended to a JSONL file and
skipped on rerun (resumable). Not part of the package.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent / "src"))
os.environ.setdefault("SAMPLESCOPE_DATA_DIR", str(ROOT.parent.parent / "shared" / "data"))
torch.set_num_threads(1)

from samplescope.cli.train_cmds import per_class_accuracy  # noqa: E402
from samplescope.data import DataSplit, load_dataset, make_imbalanced  # noqa: E402
from samplescope.io import ScoreTable  # noqa: E402
from samplescope.models import mlp  # noqa: E402
from samplescope.training import predict_logits  # noqa: E402
from samplescope.weighting import WeightRecorder, fit_weighted  # noqa: E402

HIDDEN = (256,)
BATCH = 64
LR = 1e-3


def model_fn(seed: int) -> torch.nn.Module:
    """The experiments' model: MLP 784-256-10 (top-level, picklable)."""
    torch.manual_seed(seed)
    return mlp((1, 28, 28), 10, hidden=HIDDEN)


def mnist() -> Any:
    return load_dataset("mnist")


def balanced_subset(split: DataSplit, per_class: int, seed: int) -> DataSplit:
    rng = np.random.default_rng(seed)
    idx = [rng.choice(np.flatnonzero(split.y == c), per_class, replace=False) for c in range(10)]
    return split.subset(np.sort(np.concatenate(idx)))


def imbalanced_train(per_class: int, ratio: float, seed: int) -> DataSplit:
    """``per_class`` images per class, then an exponential long tail with ``ratio`` (Cui 2019)."""
    s = balanced_subset(mnist().train, per_class, seed)
    if ratio == 1:
        return s
    return s.subset(make_imbalanced(s.y, ratio, "exponential", seed, num_classes=10))


def gen_error_table(
    split: DataSplit, cache: Path, *, seed: int, epochs: int, folds: int = 5, repeats: int = 2
) -> ScoreTable:
    """``samplescope.difficulty.generalization_error`` of the split (cached as parquet)."""
    if cache.is_file():
        return ScoreTable.load(cache)
    from samplescope.difficulty import generalization_error

    res = generalization_error(
        split,
        10,
        folds=folds,
        repeats=repeats,
        model_fn=model_fn,
        epochs=epochs,
        batch_size=BATCH,
        lr=LR,
        seed=seed,
        progress=False,
        checkpoint_dir=cache.with_suffix(".ckpt"),
    )
    cache.parent.mkdir(parents=True, exist_ok=True)
    res.table.save(cache)
    import shutil

    shutil.rmtree(cache.with_suffix(".ckpt"), ignore_errors=True)  # the parquet is the cache now
    return res.table


def train_eval(
    train: DataSplit,
    test: DataSplit,
    scheme: str,
    *,
    seed: int,
    epochs: int,
    params: dict[str, Any] | None = None,
    difficulty: np.ndarray | None = None,
    per_epoch: bool = False,
    mask: np.ndarray | None = None,
) -> dict[str, Any]:
    """Train the MLP with ``scheme``; test accuracy, balanced accuracy, per-class accuracy.

    With a boolean ``mask (N,)`` (e.g. the noisy labels), also the share of the applied weight
    on the masked samples per epoch (``mask_weight_share``), from a :class:`WeightRecorder`.
    """
    model = model_fn(seed)
    rec = WeightRecorder()
    res = fit_weighted(
        model,
        train,
        scheme,
        params=params,
        difficulty=difficulty,
        num_classes=10,
        epochs=epochs,
        batch_size=BATCH,
        lr=LR,
        seed=seed,
        progress=False,
        val=test if per_epoch else None,
        callbacks=[rec],
    )
    pred = predict_logits(model, test).argmax(1)
    acc_c = per_class_accuracy(pred, test.y, 10)
    out = {
        "test_acc": float((pred == test.y).mean()),
        "balanced_acc": float(np.nanmean(acc_c)),
        "per_class_acc": acc_c.tolist(),
    }
    if per_epoch:
        out["val_acc_curve"] = [h["val_acc"] for h in res.history]
    if mask is not None:
        out["mask_weight_share"] = [rec.share(mask, e) for e in range(len(res.history))]
    return out


class ResultLog:
    """Append-only JSONL of finished runs, keyed by a string; rerunning skips finished keys."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.rows: dict[str, dict[str, Any]] = {}
        if path.is_file():
            for line in path.read_text().splitlines():
                if line.strip():
                    r = json.loads(line)
                    self.rows[r["key"]] = r

    def __contains__(self, key: str) -> bool:
        return key in self.rows

    def add(self, key: str, row: dict[str, Any]) -> None:
        row = {"key": key, **row}
        with open(self.path, "a") as fh:
            fh.write(json.dumps(row) + "\n")
        self.rows[key] = row


def mean_std(values: list[float]) -> str:
    a = np.asarray(values, dtype=float)
    return f"{a.mean():.4f} ± {a.std(ddof=1) if len(a) > 1 else 0.0:.4f}"
