"""The mini-batch order of every trainer in the library (one function, one seed contract).

:func:`batch_order` is what :func:`samplescope.training.fit` iterates over in an epoch and
what the stacked many-model trainer replays per model, so that model ``m`` trained stacked
sees exactly the batches ``fit(..., seed=seeds[m])`` would.
"""

from __future__ import annotations

import torch

__all__ = ["FitBatchSampler", "batch_order", "steps_per_epoch"]


def batch_order(
    n: int,
    batch_size: int,
    generator: torch.Generator,
    sampler_p: torch.Tensor | None = None,
) -> list[torch.Tensor]:
    """One epoch of mini-batches: row positions in ``[0, n)``, a list of int64 tensors.

    Without ``sampler_p``: ``torch.randperm(n, generator=generator)`` split into chunks of
    ``batch_size``. With ``sampler_p`` ``(n,)`` (non-negative sampling weights): ``n`` draws
    with replacement, ``torch.multinomial(sampler_p, n, replacement=True)`` (a position can
    then appear more than once in a batch). A last batch of one row is merged into the
    previous one (a batch of one breaks BatchNorm). Consumes ``generator``'s state.
    """
    if sampler_p is None:
        order = torch.randperm(n, generator=generator)
    else:
        order = torch.multinomial(sampler_p, n, replacement=True, generator=generator)
    chunks = list(order.split(batch_size))
    if len(chunks) > 1 and len(chunks[-1]) == 1:
        last = chunks.pop()
        chunks[-1] = torch.cat([chunks[-1], last])
    return chunks


def steps_per_epoch(n: int, batch_size: int) -> int:
    """How many batches :func:`batch_order` yields for ``n`` rows (``ceil(n / B)``, less one
    when the last batch would hold a single row)."""
    steps = -(-n // batch_size)
    return steps - 1 if steps > 1 and n % batch_size == 1 else steps


class FitBatchSampler:
    """A torch ``batch_sampler`` yielding, epoch after epoch, exactly the batches of
    ``fit(..., batch_size=batch_size, seed=seed)`` on ``n`` rows (its :func:`batch_order`).

    Give it to any framework's ``DataLoader(dataset, batch_sampler=...)`` (PyTorch
    Lightning, a hand-written loop) to train on the same batches as :func:`samplescope.fit`,
    e.g. to compare their training dynamics. Each ``iter()`` is one epoch.
    """

    def __init__(self, n: int, batch_size: int, seed: int = 0) -> None:
        from .._validation import check_integer

        self.n = check_integer(n, "n")
        self.batch_size = check_integer(batch_size, "batch_size")
        self.generator = torch.Generator().manual_seed(check_integer(seed, "seed", minimum=0))

    def __iter__(self):  # noqa: ANN204
        for b in batch_order(self.n, self.batch_size, self.generator):
            yield b.tolist()

    def __len__(self) -> int:
        return steps_per_epoch(self.n, self.batch_size)
