"""Training-dynamics difficulty measures, recorded by trainer callbacks (all higher = harder).

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
import torch

from .._validation import check_choice
from ..data.split import as_split
from ..training.callbacks import BatchResult, Callback
from .registry import register_measure

__all__ = [
    "DynamicsRecorder",
    "ActionScore",
    "Cartography",
    "AUM",
    "ForgettingEvents",
    "TrainingDynamics",
    "DYNAMICS_COLUMNS",
]

_KEYS = ("loss", "p_y", "margin", "correct")

DYNAMICS_COLUMNS = (
    "action_score",
    "cartography_confidence",
    "cartography_variability",
    "cartography_correctness",
    "aum",
    "forgetting",
)


def _py_margin_correct(logits: torch.Tensor | np.ndarray, labels: Any) -> tuple[np.ndarray, ...]:
    z = torch.as_tensor(logits, dtype=torch.float64)
    y = torch.as_tensor(labels, dtype=torch.int64)
    rows = torch.arange(len(y))
    lp = torch.log_softmax(z, dim=1)
    zy = z[rows, y]
    other = z.clone()
    other[rows, y] = -torch.inf
    top = other.max(1).values
    return lp[rows, y].exp().numpy(), (zy - top).numpy(), (z.argmax(1) == y).numpy()


class DynamicsRecorder(Callback):
    """Records per-epoch, per-sample loss/terms, ``p[y]``, margin and correctness.

    Attributes (after training): ``sample_ids (N,)``; ``loss_``, ``p_y_``, ``margin_``,
    ``correct_`` ``(E, N)`` (NaN where a sample was not drawn in an epoch); ``terms_``
    ``{name: (E, N)}``; ``aum_sum_``, ``aum_count_`` ``(N,)`` per-update margin sums;
    ``forgetting_count_``, ``ever_correct_`` ``(N,)``.
    """

    def __init__(
        self, source: str = "batches", split: Any = None, *, include_initial: bool = False
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
        self._rows: dict[str, list[np.ndarray]] = {}
        self._term_rows: dict[str, list[np.ndarray]] = {}
        self.sample_ids: np.ndarray | None = None

    # -- recording ---------------------------------------------------------------------------
    def on_fit_start(self, state: Any) -> None:
        self._rows = {k: [] for k in _KEYS}
        self._term_rows = {}
        if self.source == "batches":
            n = len(state.train)
            self.sample_ids = state.train.sample_id.copy()
            self._init_counters(n)
            dev = state.device
            self._t_prev = torch.zeros(n, dtype=torch.bool, device=dev)
            self._t_ever = torch.zeros(n, dtype=torch.bool, device=dev)
            self._t_forget = torch.zeros(n, dtype=torch.float64, device=dev)
        elif self.include_initial:
            self._record_eval(state)

    def _init_counters(self, n: int) -> None:
        self.aum_sum_, self.aum_count_ = np.zeros(n), np.zeros(n)
        self._prev = np.zeros(n, dtype=bool)
        self.forgetting_count_ = np.zeros(n)
        self.ever_correct_ = np.zeros(n, dtype=bool)

    def on_epoch_start(self, state: Any) -> None:
        if self.source == "batches":
            n, dev = len(state.train), state.device
            self._acc = torch.zeros(n, len(_KEYS), dtype=torch.float64, device=dev)
            self._tacc: torch.Tensor | None = None
            self._term_names: list[str] = []
            self._cnt = torch.zeros(n, dtype=torch.float64, device=dev)

    def on_batch_end(self, state: Any, batch: BatchResult) -> None:
        if self.source != "batches":
            return
        pos = batch.positions
        z = batch.logits.detach()
        y = batch.labels
        rows = torch.arange(len(y), device=z.device)
        zy = z[rows, y]
        top2 = z.topk(2, dim=1)
        correct = top2.indices[:, 0] == y
        margin = zy - torch.where(correct, top2.values[:, 1], top2.values[:, 0])
        p_y = torch.log_softmax(z, dim=1)[rows, y].exp()
        vals = torch.stack([batch.losses.detach(), p_y, margin, correct.to(z.dtype)], 1)
        self._acc.index_add_(0, pos, vals.double())
        if batch.terms:
            if self._tacc is None:
                self._term_names = list(batch.terms)
                self._tacc = torch.zeros(
                    len(self._cnt), len(self._term_names), dtype=torch.float64, device=z.device
                )
            t = torch.stack([batch.terms[k].detach() for k in self._term_names], 1)
            self._tacc.index_add_(0, pos, t.double())
        self._cnt.index_add_(0, pos, torch.ones(len(pos), dtype=torch.float64, device=z.device))
        self._update_forgetting(pos, correct)

    def _update_forgetting(self, pos: torch.Tensor, correct: torch.Tensor) -> None:
        """Forgetting state after one batch, each occurrence of a position one presentation.

        A position drawn k times in the batch (sampling with replacement) is k successive
        observations in batch order: ``prev -> c_1 -> ... -> c_k``. The occurrences are
        grouped by a stable sort, so each one's predecessor is the previous occurrence in the
        batch (or the state before the batch for the first); the transitions are summed with
        ``index_add_`` and only the last occurrence writes ``prev`` (no repeated index is
        ever written with different values, which would keep an arbitrary one).
        """
        sp, order = torch.sort(pos, stable=True)
        sc = correct[order]
        first = torch.ones_like(sc)
        first[1:] = sp[1:] != sp[:-1]
        last = torch.ones_like(sc)
        last[:-1] = first[1:]
        before = torch.empty_like(sc)
        before[1:] = sc[:-1]
        before = torch.where(first, self._t_prev[sp], before)
        self._t_forget.index_add_(0, sp, (before & ~sc).double())
        self._t_prev[sp[last]] = sc[last]
        self._t_ever[sp[sc]] = True

    def on_epoch_end(self, state: Any) -> None:
        if self.source == "eval":
            self._record_eval(state)
            return
        acc = self._acc.cpu().numpy()
        cnt_raw = self._cnt.cpu().numpy()
        self.aum_sum_ += acc[:, 2]
        self.aum_count_ += cnt_raw
        self.forgetting_count_ = self._t_forget.cpu().numpy().copy()
        self.ever_correct_ = self._t_ever.cpu().numpy().copy()
        with np.errstate(invalid="ignore", divide="ignore"):
            cnt = np.where(cnt_raw > 0, cnt_raw, np.nan)
            for j, k in enumerate(_KEYS):
                self._rows[k].append(acc[:, j] / cnt)
            if self._tacc is not None:
                tacc = self._tacc.cpu().numpy()
                for j, k in enumerate(self._term_names):
                    self._term_rows.setdefault(k, []).append(tacc[:, j] / cnt)

    def _record_eval(self, state: Any) -> None:
        ev = state.evaluate(self.split if self.split is not None else state.train)
        p_y, margin, correct = _py_margin_correct(ev.logits, ev.labels)
        if self.sample_ids is None or not self._rows["loss"]:
            self.sample_ids = ev.sample_ids.copy()
            self._init_counters(len(ev.sample_ids))
        self._rows["loss"].append(ev.losses.astype(np.float64))
        self._rows["p_y"].append(p_y)
        self._rows["margin"].append(margin)
        self._rows["correct"].append(correct.astype(np.float64))
        for k, v in ev.terms.items():
            self._term_rows.setdefault(k, []).append(v.astype(np.float64))
        self.aum_sum_ += margin
        self.aum_count_ += 1
        self.forgetting_count_ += self._prev & ~correct
        self._prev = correct
        self.ever_correct_ |= correct

    # -- traces ------------------------------------------------------------------------------
    def _trace(self, key: str) -> np.ndarray:
        rows = self._rows.get(key) or []
        if not rows:
            raise ValueError(
                "callback: expected a finished fit (no epoch recorded yet); pass it to fit(callbacks=[...])"
            )
        return np.stack(rows)

    @property
    def loss_(self) -> np.ndarray:
        return self._trace("loss")

    @property
    def p_y_(self) -> np.ndarray:
        return self._trace("p_y")

    @property
    def margin_(self) -> np.ndarray:
        return self._trace("margin")

    @property
    def correct_(self) -> np.ndarray:
        return self._trace("correct")

    @property
    def terms_(self) -> dict[str, np.ndarray]:
        return {k: np.stack(v) for k, v in self._term_rows.items()}

    @property
    def epochs_recorded(self) -> int:
        return len(self._rows.get("loss") or [])

    # -- scores ------------------------------------------------------------------------------
    def action_scores(self) -> dict[str, np.ndarray]:
        out = {"action_score": np.nansum(self.loss_, axis=0)}
        for k, v in self.terms_.items():
            out[f"action_score_{k}"] = np.nansum(v, axis=0)
        return out

    def cartography_scores(self) -> dict[str, np.ndarray]:
        py = self.p_y_
        with np.errstate(invalid="ignore"):
            conf = np.nanmean(py, axis=0)
            var = np.nanstd(py, axis=0)
            corr = np.nanmean(self.correct_, axis=0)
        self.confidence_, self.variability_, self.correctness_ = conf, var, corr
        return {
            "cartography_confidence": 1.0 - conf,
            "cartography_variability": var,
            "cartography_correctness": 1.0 - corr,
        }

    def aum_scores(self) -> dict[str, np.ndarray]:
        self._trace("margin")
        with np.errstate(invalid="ignore", divide="ignore"):
            aum = self.aum_sum_ / self.aum_count_
        self.aum_ = aum
        return {"aum": -aum}

    def forgetting_scores(self) -> dict[str, np.ndarray]:
        E = self.epochs_recorded
        f = self.forgetting_count_.astype(np.float64).copy()
        f[~self.ever_correct_] = E
        return {"forgetting": f}

    def scores(self) -> dict[str, np.ndarray]:
        """Every score this callback defines, ``{column: (N,)}`` aligned with ``sample_ids``."""
        out: dict[str, np.ndarray] = {}
        out.update(self.action_scores())
        out.update(self.cartography_scores())
        out.update(self.aum_scores())
        out.update(self.forgetting_scores())
        return out


class ActionScore(DynamicsRecorder):
    """Arriaga & Valdenegro-Toro (2020): ``A(x) = Σ_epochs L(y, m(x; θ_e))``, per named term too.

    Default ``source="eval"`` over the training split; pass ``split=test`` to score a test set.
    """

    def __init__(
        self, split: Any = None, *, source: str = "eval", include_initial: bool = False
    ) -> None:
        super().__init__(source, split, include_initial=include_initial)

    def scores(self) -> dict[str, np.ndarray]:
        return self.action_scores()


class Cartography(DynamicsRecorder):
    """Swayamdipta et al. (2020) dataset cartography (as difficulties, see the module docstring)."""

    def scores(self) -> dict[str, np.ndarray]:
        return self.cartography_scores()


class AUM(DynamicsRecorder):
    """Pleiss et al. (2020) area under the margin; score ``aum = -AUM`` (higher = harder)."""

    def scores(self) -> dict[str, np.ndarray]:
        return self.aum_scores()


class ForgettingEvents(DynamicsRecorder):
    """Toneva et al. (2019) forgetting events; never-learned samples get the number of epochs."""

    def scores(self) -> dict[str, np.ndarray]:
        return self.forgetting_scores()


class TrainingDynamics(DynamicsRecorder):
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
