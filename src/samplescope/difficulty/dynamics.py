"""Training-dynamics difficulty measures as :func:`samplescope.fit` callbacks (higher = harder).

The callbacks are thin users of the framework-agnostic :class:`DynamicsRecorder`
(:mod:`samplescope.difficulty.recorder`, usable from any training loop): they feed it and
read its scores, so ``fit`` and any other loop fed the same batches give the same numbers.
Each callback records, for every epoch ``e`` and sample ``i``, the per-sample loss (and its
named terms when ``loss_fn`` returns a dict), ``p_e[y_i]``, the logit margin
``z_y - max_{j≠y} z_j`` and whether the prediction is right, from one of two sources:

- ``source="batches"``: the training mini-batch outputs as they are computed (no extra
  pass; a sample drawn several times in an epoch, even within one batch as with
  ``weight_mode="sampler"``, contributes the mean of its draws to the per-epoch traces,
  every draw to AUM, and every draw as one presentation, in batch order, to forgetting);
- ``source="eval"``: one eval-mode pass over ``split`` (default: the training split; any
  other split such as a test set, as Arriaga did) at every epoch end, shared between
  callbacks through ``state.evaluate``; ``include_initial=True`` adds the untrained model.
  This is the paper's definition (the model ``θ_e`` at each epoch end) and costs one
  forward pass over ``split`` per epoch (measured +25% to +45% of training time on CPU,
  ``benchmarks/grad_norm.py``); ``"batches"`` costs under 10%.

Scores (``.scores()`` → ``{column: (N,)}``, keyed by ``.sample_ids``):

- :class:`ActionScore` (Arriaga & Valdenegro-Toro 2020, eq. 1): ``A(x) = Σ_e L(y, m(x; θ_e))``
  → ``action_score``, plus ``action_score_<term>`` for each named loss term.
- :class:`Cartography` (Swayamdipta et al. 2020): confidence ``μ = mean_e p_e[y]``,
  variability ``σ = std_e p_e[y]``, correctness ``= mean_e 1[argmax = y]``; as difficulties
  ``cartography_confidence = 1 - μ``, ``cartography_variability = σ``,
  ``cartography_correctness = 1 - correctness``.
- :class:`AUM` (Pleiss et al. 2020): area under the margin ``mean_t (z_y - max_{j≠y} z_j)``
  over every training update in which the sample appears → ``aum`` = ``-AUM``.
- :class:`ForgettingEvents` (Toneva et al. 2019): number of correct → wrong transitions
  between consecutive presentations; samples never predicted right get ``E`` (epochs)
  → ``forgetting``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_choice
from ..data.split import as_split
from ..training.callbacks import BatchResult, Callback
from .recorder import DynamicsRecorder
from .registry import register_measure

__all__ = [
    "DynamicsCallback",
    "DynamicsRecorder",
    "ActionScore",
    "Cartography",
    "AUM",
    "ForgettingEvents",
    "TrainingDynamics",
    "DYNAMICS_COLUMNS",
]

DYNAMICS_COLUMNS = (
    "action_score",
    "cartography_confidence",
    "cartography_variability",
    "cartography_correctness",
    "aum",
    "forgetting",
)

# read through to the recorder (the traces and counters of earlier releases)
_DELEGATED = frozenset(
    {"loss_", "p_y_", "margin_", "correct_", "terms_", "aum_sum_", "aum_count_"}
    | {"forgetting_count_", "ever_correct_", "confidence_", "variability_", "correctness_", "aum_"}
    | {"action_scores", "cartography_scores", "aum_scores", "forgetting_scores", "loss_scores"}
)


class DynamicsCallback(Callback):
    """A :func:`samplescope.fit` callback feeding a :class:`DynamicsRecorder` (``.recorder``).

    ``source="batches"`` passes every training batch (positions in the training split, the
    batch logits, labels, per-sample losses and terms) to the recorder; ``source="eval"``
    passes one eval-mode pass over ``split`` per epoch end (``include_initial=True``: also
    the untrained model). ``history=True`` (default, as before) keeps the ``(E, N)`` traces
    ``loss_``, ``p_y_``, ``margin_``, ``correct_``, ``terms_``; ``history=False`` keeps memory
    ``O(N)``. Every score and attribute of the recorder is reachable on the callback.
    """

    def __init__(
        self,
        source: str = "batches",
        split: Any = None,
        *,
        include_initial: bool = False,
        history: bool = True,
    ) -> None:
        check_choice(source, "source", ("batches", "eval"))
        if source == "batches" and (split is not None or include_initial):
            raise ValueError("source: split= and include_initial= need source='eval'")
        if split is not None:  # checked now, not at the first epoch end
            split = as_split(split)
            if len(split) == 0:
                raise ValueError("split: expected at least one sample, got 0")
        self.source = source
        self.split = split
        self.include_initial = include_initial
        self.history = history
        self.recorder: DynamicsRecorder | None = None
        self._epoch = 0

    def __getattr__(self, name: str) -> Any:
        if name in _DELEGATED:
            return getattr(self._rec(), name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _rec(self) -> DynamicsRecorder:
        rec = self.__dict__.get("recorder")
        if rec is None or rec.epochs_recorded == 0:
            raise ValueError(
                "callback: expected a finished fit (no epoch recorded yet); pass it to fit(callbacks=[...])"
            )
        return rec

    @property
    def sample_ids(self) -> np.ndarray | None:
        rec = self.__dict__.get("recorder")
        return None if rec is None else rec.sample_ids

    @property
    def epochs_recorded(self) -> int:
        rec = self.__dict__.get("recorder")
        return 0 if rec is None else rec.epochs_recorded

    # -- recording ---------------------------------------------------------------------------
    def on_fit_start(self, state: Any) -> None:
        self.recorder, self._epoch = None, 0
        if self.source == "batches":
            self.recorder = DynamicsRecorder(state.train.sample_id, history=self.history)
        elif self.include_initial:
            self._record_eval(state)

    def on_batch_end(self, state: Any, batch: BatchResult) -> None:
        if self.source != "batches":
            return
        rec = self.recorder
        assert rec is not None
        if rec._epoch is None:
            rec._epoch = self._epoch
        if rec._terms is None:
            rec._set_terms(list(batch.terms))
        rec._record(batch.positions, batch.logits.detach(), batch.labels, batch.losses, batch.terms)

    def on_epoch_end(self, state: Any) -> None:
        if self.source == "eval":
            self._record_eval(state)
        elif self.recorder is not None:
            if self.recorder._epoch is None:  # an epoch without batches
                self.recorder._epoch = self._epoch
            self.recorder.end_epoch()
        self._epoch += 1

    def _record_eval(self, state: Any) -> None:
        ev = state.evaluate(self.split if self.split is not None else state.train)
        if self.recorder is None:
            self.recorder = DynamicsRecorder(ev.sample_ids, history=self.history)
        self.recorder.update(
            ev.sample_ids,
            ev.logits,
            ev.labels,
            epoch=self.recorder.epochs_recorded,
            losses=ev.losses,
            loss_terms=ev.terms or None,
        )
        self.recorder.end_epoch()

    # -- scores ------------------------------------------------------------------------------
    def scores(self) -> dict[str, np.ndarray]:
        """Every score of the recorder but the loss-trajectory summaries, ``{column: (N,)}``
        aligned with ``sample_ids`` (see :data:`DYNAMICS_COLUMNS`)."""
        rec = self._rec()
        out: dict[str, np.ndarray] = {}
        out.update(rec.action_scores())
        out.update(rec.cartography_scores())
        out.update(rec.aum_scores())
        out.update(rec.forgetting_scores())
        return out

    def table(self, columns: Any = None) -> Any:
        """The recorder's :class:`~samplescope.io.ScoreTable` (all its columns by default)."""
        return self._rec().table(columns)


class ActionScore(DynamicsCallback):
    """Arriaga & Valdenegro-Toro (2020): ``A(x) = Σ_epochs L(y, m(x; θ_e))``, per named term too.

    Default ``source="eval"`` over the training split; pass ``split=test`` to score a test set.
    """

    def __init__(
        self,
        split: Any = None,
        *,
        source: str = "eval",
        include_initial: bool = False,
        history: bool = True,
    ) -> None:
        super().__init__(source, split, include_initial=include_initial, history=history)

    def scores(self) -> dict[str, np.ndarray]:
        return self._rec().action_scores()


class Cartography(DynamicsCallback):
    """Swayamdipta et al. (2020) dataset cartography (as difficulties, see the module docstring)."""

    def scores(self) -> dict[str, np.ndarray]:
        return self._rec().cartography_scores()


class AUM(DynamicsCallback):
    """Pleiss et al. (2020) area under the margin; score ``aum = -AUM`` (higher = harder)."""

    def scores(self) -> dict[str, np.ndarray]:
        return self._rec().aum_scores()


class ForgettingEvents(DynamicsCallback):
    """Toneva et al. (2019) forgetting events; never-learned samples get the number of epochs."""

    def scores(self) -> dict[str, np.ndarray]:
        return self._rec().forgetting_scores()


class TrainingDynamics(DynamicsCallback):
    """All of the above from one recorder: ``scores()`` has every :data:`DYNAMICS_COLUMNS` column."""


register_measure(
    "action_score",
    "dynamics",
    "Arriaga 2020: sum over epochs of the per-sample loss (per term too)",
)(ActionScore)
register_measure(
    "cartography_confidence", "dynamics", "Swayamdipta 2020: 1 - mean over epochs of p[y]"
)(Cartography)
register_measure(
    "cartography_variability", "dynamics", "Swayamdipta 2020: std over epochs of p[y]"
)(Cartography)
register_measure(
    "cartography_correctness",
    "dynamics",
    "Swayamdipta 2020: 1 - fraction of epochs predicted right",
)(Cartography)
register_measure(
    "aum", "dynamics", "Pleiss 2020: minus the mean logit margin over training updates"
)(AUM)
register_measure(
    "forgetting", "dynamics", "Toneva 2019: correct->wrong transitions (never learned = epochs)"
)(ForgettingEvents)
