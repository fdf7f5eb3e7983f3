"""Token-id inputs (int64) through active learning: the loop, both trainers, and query/teach."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from samplescope.active import ActiveLearner, ActiveLoop, MCDropoutLearner
from samplescope.data import from_arrays

V, L = 30, 12


class BagOfTokens(nn.Module):
    """``nn.EmbeddingBag`` + dropout + linear head; refuses anything but int64 token ids."""

    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.EmbeddingBag(V, 8, mode="mean")
        self.drop = nn.Dropout(0.3)
        self.head = nn.Linear(8, 2)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        assert tokens.dtype == torch.int64, tokens.dtype
        return self.head(self.drop(self.emb(tokens)))


def _tokens(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Class 1 texts contain tokens 1-3 in their first half: a planted signal."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    x = rng.integers(4, V, (n, L))
    x[y == 1, : L // 2] = rng.integers(1, 4, (int(y.sum()), L // 2))
    return x.astype(np.int64), y


@pytest.mark.parametrize("trainer", ["fit", "fast"])
def test_the_loop_runs_on_token_ids(trainer: str) -> None:
    x, y = _tokens(200)
    pool = from_arrays(x[:150], y[:150])
    test = from_arrays(x[150:], y[150:], sample_id=np.arange(150, 200))
    learner = MCDropoutLearner(BagOfTokens, epochs=3, mc_samples=5, trainer=trainer)
    loop = ActiveLoop(learner, pool, test, initial=10, per_step=10, steps=2, pool_subset=None)
    loop.run()
    assert pool.x.dtype == np.int64


def test_query_teach_on_an_unlabelled_token_pool() -> None:
    x, y = _tokens(120, seed=1)
    learner = ActiveLearner(MCDropoutLearner(BagOfTokens, epochs=3, mc_samples=5), x, seed=0)
    first = learner.query(10)
    learner.teach(first, y[first])
    second = learner.query(10)
    assert len(set(first) | set(second)) == 20
