"""Shared pieces of the difficulty experiments (issue 3): data, model, cached K-fold runs.

Budget: MNIST / Fashion-MNIST subsets (2,000 training images), an MLP 784-128-10, Adam 1e-3,
batch 128, 8 epochs per fit, one CPU thread. The papers used CIFAR-10 and ResNet-32; we keep
the protocol (stratified 5-fold cross-validation, here repeated R times) at a smaller scale.
K-fold fits are checkpointed under ``runs/difficulty/`` and every finished (setting, seed)
row is appended to a JSONL file, so a killed run resumes. Not part of the package.
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
REPO = ROOT.parent
sys.path.insert(0, str(REPO / "src"))
os.environ.setdefault("SAMPLESCOPE_DATA_DIR", str(REPO.parent / "shared" / "data"))
torch.set_num_threads(1)

from samplescope.data import DataSplit, load_dataset  # noqa: E402
from samplescope.difficulty import GenErrorResult, generalization_error  # noqa: E402

HIDDEN = (128,)
EPOCHS = 8
BATCH = 128
LR = 1e-3
SEEDS = (0, 1, 2)


def model_fn(seed: int) -> torch.nn.Module:
    """MLP 784-128-10 (top-level, picklable)."""
    from samplescope.models import mlp

    torch.manual_seed(seed)
    return mlp((1, 28, 28), 10, hidden=HIDDEN)


_CACHE: dict[str, Any] = {}


def dataset(name: str = "mnist") -> Any:
    if name not in _CACHE:
        _CACHE[name] = load_dataset(name)
    return _CACHE[name]


def balanced_subset(split: DataSplit, per_class: int, seed: int) -> DataSplit:
    rng = np.random.default_rng(seed)
    idx = [rng.choice(np.flatnonzero(split.y == c), per_class, replace=False) for c in range(10)]
    return split.subset(np.sort(np.concatenate(idx)))


def kfold(
    split: DataSplit,
    tag: str,
    *,
    folds: int = 5,
    repeats: int = 2,
    seed: int = 0,
    epochs: int = EPOCHS,
) -> GenErrorResult:
    """Repeated stratified K-fold generalization error, checkpointed under runs/difficulty/<tag>."""
    ck = REPO / "runs" / "difficulty" / tag
    return generalization_error(
        split,
        10,
        folds=folds,
        repeats=repeats,
        model_fn=model_fn,
        epochs=epochs,
        batch_size=BATCH,
        lr=LR,
        seed=seed,
        checkpoint_dir=ck,
        progress=False,
    )


def load_rows(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def append_row(path: Path, row: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        fh.write(json.dumps(row, default=float) + "\n")


def done(rows: list[dict[str, Any]], **key: Any) -> dict[str, Any] | None:
    for r in rows:
        if all(r.get(k) == v for k, v in key.items()):
            return r
    return None


def mean_std(values: Any) -> str:
    v = np.asarray(values, dtype=float)
    return f"{v.mean():.3f} ± {v.std(ddof=1) if len(v) > 1 else 0.0:.3f}"
