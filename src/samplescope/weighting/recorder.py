"""Record the per-sample weights a trainer applied, per epoch (a training callback).

``WeightRecorder`` reads ``BatchResult.weights`` (static × dynamic weights, ``None`` =
uniform) at every batch and keeps, for every training position and epoch, the mean weight
the sample received (NaN if it was not drawn that epoch). ``weights_`` has shape
``(E, N)``. Use it to check where a scheme put its mass, e.g. the share of the total weight
on samples with noisy labels.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..training import BatchResult, Callback

if TYPE_CHECKING:
    from ..training import TrainerState

__all__ = ["WeightRecorder"]


class WeightRecorder(Callback):
    """Per-epoch mean applied weight of every training sample: ``weights_ (E, N)``."""

    def on_fit_start(self, state: TrainerState) -> None:
        self._n = len(state.train)
        self._rows: list[np.ndarray] = []
        self._sum = np.zeros(self._n)
        self._cnt = np.zeros(self._n)

    def on_batch_end(self, state: TrainerState, batch: BatchResult) -> None:
        pos = batch.positions.cpu().numpy()
        w = (
            np.ones(len(pos))
            if batch.weights is None
            else batch.weights.detach().cpu().double().numpy()
        )
        np.add.at(self._sum, pos, w)
        np.add.at(self._cnt, pos, 1.0)

    def on_epoch_end(self, state: TrainerState) -> None:
        with np.errstate(invalid="ignore", divide="ignore"):
            self._rows.append(np.where(self._cnt > 0, self._sum / self._cnt, np.nan))
        self._sum = np.zeros(self._n)
        self._cnt = np.zeros(self._n)

    @property
    def weights_(self) -> np.ndarray:
        if not hasattr(self, "_rows"):
            raise ValueError("WeightRecorder: not fitted; pass it to fit(callbacks=[...]) first")
        return np.stack(self._rows) if self._rows else np.zeros((0, self._n))

    def share(self, mask: np.ndarray, epoch: int = -1) -> float:
        """Share of the total weight of ``epoch`` on the samples in boolean ``mask (N,)``."""
        w = np.nan_to_num(self.weights_[epoch])
        return float(w[np.asarray(mask, bool)].sum() / w.sum())
