"""A framework-agnostic training-dynamics recorder: feed it batches from any loop.

``rec.update(sample_ids, logits, labels, epoch=e, losses=None, loss_terms=None)`` after each
training step (PyTorch Lightning, the Hugging Face ``Trainer``, a hand-written loop or
:func:`samplescope.fit`), then ``rec.table()`` → a :class:`~samplescope.io.ScoreTable`.
For every sample ``i`` and epoch ``e`` the recorder keeps the epoch mean of its draws of the
per-sample loss ``ℓ`` (default cross-entropy of ``logits``; the sum of ``loss_terms`` when
they are given), ``p_e[y_i]``, the margin ``z_y - max_{j≠y} z_j`` and ``1[argmax = y]``.

Columns (all higher = harder; the papers' formulas, see :mod:`samplescope.difficulty.dynamics`):

- ``action_score`` = ``Σ_e ℓ_e`` (Arriaga & Valdenegro-Toro 2020), ``action_score_<term>`` per
  named loss term;
- ``cartography_confidence`` = ``1 - mean_e p_e[y]``, ``cartography_variability`` =
  ``std_e p_e[y]``, ``cartography_correctness`` = ``1 - mean_e 1[argmax = y]`` (Swayamdipta
  et al. 2020);
- ``aum`` = ``-mean_t margin_t`` over every update in which the sample appears (Pleiss et al.
  2020);
- ``forgetting``: correct → wrong transitions between consecutive presentations, in order
  (a sample drawn twice in one batch is two presentations); never-learned samples get the
  number of epochs (Toneva et al. 2019);
- loss trajectory: ``loss_mean``, ``loss_std`` (over epochs), ``loss_first``, ``loss_last``
  and ``loss_slope`` (least-squares slope of ``ℓ_e`` against the epoch index ``0..E-1``;
  0 for a sample seen in one epoch only).

Memory: ``O(N · (16 + 2K))`` float64 running sums for N samples and K loss terms, whatever
the number of epochs (on the CPU, whatever device trains: each batch's ``(B, C)`` logits are
copied over, and the per-batch work is a few numpy operations). ``history=True`` also keeps the ``(E, N)`` per-epoch traces
(``loss_``, ``p_y_``, ``margin_``, ``correct_``, ``terms_``) and then computes
``cartography_variability`` two-pass from them (bit for bit ``np.nanstd``); without
history it is Welford's running variance (equal to float precision). Sample ids are any
int64; they are learned as they arrive unless ``sample_ids=`` fixes the set (and the row
order) up front.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_ids
from ..io.scores import ScoreTable
from .recorder_ops import as_array, batch_stats, forgetting_update

__all__ = ["DynamicsRecorder", "RECORDER_COLUMNS"]

RECORDER_COLUMNS = (
    "action_score",
    "cartography_confidence",
    "cartography_variability",
    "cartography_correctness",
    "aum",
    "forgetting",
    "loss_mean",
    "loss_std",
    "loss_first",
    "loss_last",
    "loss_slope",
)
_KEYS = ("loss", "p_y", "margin", "correct")
# running per-sample sums over closed epochs (float64), by column of ``_run``
_RUN = ("n_ep", "loss", "p_y", "correct", "py_mean", "py_m2", "l_mean", "l_m2")
_RUN += ("l_first", "l_last", "se", "se2", "sex", "aum_sum", "aum_cnt", "forget")


class DynamicsRecorder:
    """Per-sample training dynamics from ``update`` calls; see the module docstring.

    Args:
        sample_ids: optional ids ``(N,)`` of every sample to be seen (fixes the rows and their
            order; an unknown id in ``update`` is then a ``ValueError``). Default: learned.
        history: keep the ``(E, N)`` per-epoch traces (memory ``O(E · N)``).
    """

    def __init__(self, sample_ids: Any = None, *, history: bool = False) -> None:
        if not isinstance(history, bool):
            raise ValueError(f"history: expected True or False, got {history!r}")
        self.history = history
        self._fixed = sample_ids is not None
        self._n, self._cap = 0, 0
        self._bufs: dict[str, np.ndarray] = {}  # capacity buffers; the attributes view [:n]
        self._index: dict[int, int] = {}  # sample id -> row
        self._lo, self._hi = None, None  # id range seen
        self._range: int | None = None  # lo when the ids are exactly lo..lo+N-1
        self._offmap: np.ndarray | None = None  # row of id lo + k (contiguous ids)
        self._terms: list[str] | None = None
        self._epoch: int | None = None  # the open epoch's user number
        self._closed = 0  # epochs closed so far (their index is 0..closed-1)
        self._rows: dict[str, list[np.ndarray]] = {k: [] for k in _KEYS}
        self._term_rows: dict[str, list[np.ndarray]] = {}
        if self._fixed:
            self._alloc(check_ids(sample_ids, "sample_ids", allow_empty=False))

    # -- storage -----------------------------------------------------------------------------
    def _specs(self) -> dict[str, tuple[tuple[int, ...], Any, Any]]:
        m = len(self._terms or [])
        return {
            "_ids": ((), 0, np.int64),
            "_run": ((len(_RUN),), 0.0, np.float64),
            "_acc": ((len(_KEYS) + m + 1,), 0.0, np.float64),  # + the draw count, last column
            "_tsum": ((m,), 0.0, np.float64),
            "_stamp": ((), 0, np.int64),
            "_prev": ((), False, bool),
            "_ever": ((), False, bool),
            "_labels": ((), -1, np.int64),
        }

    def _alloc(self, new_ids: np.ndarray) -> None:
        """Append rows for ``new_ids`` (unique, unseen); buffers double when full (amortised)."""
        n, k = self._n, len(new_ids)
        if n + k > self._cap:
            cap = max(n + k, 2 * self._cap, 64)
            for name, (shape, fill, dtype) in self._specs().items():
                buf = np.full((cap, *shape), fill, dtype=dtype)
                if n:
                    buf[:n] = getattr(self, name)
                self._bufs[name] = buf
            self._cap = cap
        self._n = n + k
        for name, buf in self._bufs.items():
            setattr(self, name, buf[: self._n])
        self._ids[n:] = new_ids
        self._run[n:, _RUN.index("l_first")] = np.nan
        index = self._index
        for j, i in enumerate(new_ids.tolist()):
            index[i] = n + j
        lo, hi = int(new_ids.min()), int(new_ids.max())
        self._lo = lo if self._lo is None else min(self._lo, lo)
        self._hi = hi if self._hi is None else max(self._hi, hi)
        self._range = self._lo if self._hi - self._lo + 1 == self._n else None
        self._offmap = None

    def _positions(self, ids: np.ndarray, lo: int, hi: int) -> np.ndarray:
        """Row positions of ``ids`` (``lo``/``hi``: their min and max), learning new ones."""
        r = self._range
        if r is not None and lo >= r and hi < r + self._n:  # contiguous ids: no lookup
            if self._offmap is None:
                self._offmap = np.empty(self._n, dtype=np.int64)
                self._offmap[self._ids - r] = np.arange(self._n)
            return self._offmap[ids - r]
        get = self._index.get
        rows = np.fromiter((get(i, -1) for i in ids.tolist()), dtype=np.int64, count=len(ids))
        missing = rows < 0
        if not missing.any():
            return rows
        if self._fixed:
            bad = ids[missing][:5].tolist()
            raise ValueError(f"sample_ids: expected ids among the recorder's sample_ids, got {bad}")
        new, first = np.unique(ids[missing], return_index=True)
        self._alloc(new[np.argsort(first)])  # rows in order of first appearance
        return self._positions(ids, lo, hi)

    # -- recording ---------------------------------------------------------------------------
    def update(
        self,
        sample_ids: Any,
        logits: Any,
        labels: Any,
        *,
        epoch: int,
        losses: Any = None,
        loss_terms: dict[str, Any] | None = None,
    ) -> None:
        """Record one batch: ids ``(B,)``, logits ``(B, C)``, labels ``(B,)`` at ``epoch``.

        Arrays or tensors (on any device). ``losses`` ``(B,)``: the per-sample training loss
        (default: cross-entropy of ``logits``, or the sum of ``loss_terms`` ``{name: (B,)}``
        when given). ``epoch`` is any non-decreasing integer; a larger one closes the open
        epoch (so does :meth:`end_epoch`).
        """
        if isinstance(epoch, bool) or not isinstance(epoch, (int, np.integer)):
            raise ValueError(f"epoch: expected an integer, got {epoch!r}")
        z = as_array(logits, "logits")
        if z.ndim != 2 or z.shape[1] < 2 or z.dtype.kind != "f":
            raise ValueError(f"logits: expected floats (B, C) with C >= 2, got {z.shape} {z.dtype}")
        b = z.shape[0]
        if b == 0:
            raise ValueError("logits: expected at least one row, got shape (0, C)")
        if not np.isfinite(z).all():
            raise ValueError("logits: expected finite values, got NaN or inf")
        ids, y = as_array(sample_ids, "sample_ids"), as_array(labels, "labels")
        for name, t in (("sample_ids", ids), ("labels", y)):
            if t.shape != (b,) or t.dtype.kind not in "iu":
                raise ValueError(
                    f"{name}: expected {b} integers (one per logit row), got {t.shape} {t.dtype}"
                )
        ids, y = ids.astype(np.int64, copy=False), y.astype(np.int64, copy=False)
        id_lo, id_hi = int(ids.min()), int(ids.max())
        if id_lo < 0:
            raise ValueError(f"sample_ids: expected non-negative ids, got {id_lo}")
        y_lo, y_hi = int(y.min()), int(y.max())
        if y_lo < 0 or y_hi >= z.shape[1]:
            raise ValueError(f"labels: expected classes in [0, {z.shape[1]}), got {y_lo}..{y_hi}")
        if loss_terms is not None and (not isinstance(loss_terms, dict) or not loss_terms):
            raise ValueError("loss_terms: expected a non-empty dict {name: (B,)} or None")
        terms = {k: as_array(v, f"loss_terms[{k!r}]") for k, v in (loss_terms or {}).items()}
        if losses is None:
            loss = sum(terms.values()) if terms else None  # None: cross-entropy, in _record
        else:
            loss = as_array(losses, "losses")
        for name, t in (("losses", loss), *((f"loss_terms[{k!r}]", v) for k, v in terms.items())):
            if t is not None and (
                t.shape != (b,) or t.dtype.kind != "f" or not np.isfinite(t).all()
            ):
                raise ValueError(f"{name}: expected {b} finite floats, got {t.shape} {t.dtype}")
        if self._epoch is not None and epoch < self._epoch:
            raise ValueError(
                f"epoch: expected a non-decreasing epoch (>= {self._epoch}), got {epoch}"
            )
        if self._epoch is not None and epoch > self._epoch:
            self.end_epoch()
        self._epoch = int(epoch)
        if self._terms is None and self._n == 0:
            self._terms = list(terms)
        elif self._terms is None or (terms and list(terms) != self._terms):
            self._set_terms(list(terms))
        if self._terms and not terms:
            raise ValueError(
                f"loss_terms: expected the terms {self._terms} of earlier batches, got None"
            )
        self._record(self._positions(ids, id_lo, id_hi), z, y, loss, terms)

    def _set_terms(self, names: list[str]) -> None:
        if self._terms:  # terms named in an earlier batch must stay the same
            raise ValueError(
                f"loss_terms: expected the terms {self._terms} of earlier batches, got {names}"
            )
        if self._closed or self._acc[:, -1].any():
            raise ValueError("loss_terms: expected terms from the first batch on, got them later")
        self._terms = names
        specs = self._specs()
        for name in ("_acc", "_tsum"):
            shape, fill, dtype = specs[name]
            self._bufs[name] = np.full((self._cap, *shape), fill, dtype=dtype)
            setattr(self, name, self._bufs[name][: self._n])

    def _record(self, pos: Any, z: Any, y: Any, loss: Any, terms: dict[str, Any]) -> None:
        """Add one batch at row positions ``pos`` (also the fit callbacks' entry point).

        Arrays or tensors; ``loss=None``: the cross-entropy of ``z``."""
        pos, z, y = as_array(pos, "pos"), as_array(z, "logits"), as_array(y, "labels")
        p_y, margin, correct, ce = batch_stats(z, y)
        b, k = len(y), len(_KEYS)
        vals = np.empty((b, self._acc.shape[1]))
        vals[:, 0] = ce if loss is None else as_array(loss, "losses")
        vals[:, 1], vals[:, 2], vals[:, 3], vals[:, -1] = p_y, margin, correct, 1.0
        for j, name in enumerate(self._terms or []):
            vals[:, k + j] = as_array(terms[name], name)
        rows = np.arange(b)
        self._stamp[pos] = rows  # each position once in the batch? then plain fancy indexing
        forget = self._run[:, _RUN.index("forget")]
        if (self._stamp[pos] == rows).all():
            self._acc[pos] += vals
            forget[pos] += self._prev[pos] & ~correct
            self._prev[pos] = correct
            self._ever[pos] |= correct
        else:  # repeats (sampling with replacement): in batch order
            np.add.at(self._acc, pos, vals)
            forgetting_update(self._prev, self._ever, forget, pos, correct)
        self._labels[pos] = y

    def end_epoch(self) -> None:
        """Close the open epoch (its per-sample means join the running sums); no-op if none."""
        if self._epoch is None:
            return
        self._epoch = None
        e = float(self._closed)
        self._closed += 1
        acc, cnt, r = self._acc[:, :-1], self._acc[:, -1], self._run
        seen = cnt > 0
        c = _RUN.index
        r[:, c("aum_sum")] += acc[:, 2]
        r[:, c("aum_cnt")] += cnt
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(seen[:, None], acc / cnt[:, None], np.nan)
        if self.history:
            for j, k in enumerate(_KEYS):
                self._rows[k].append(mean[:, j].copy())
            for j, k in enumerate(self._terms or []):
                self._term_rows.setdefault(k, []).append(mean[:, len(_KEYS) + j].copy())
        m0 = np.where(seen[:, None], mean, 0.0)
        n_new = r[:, c("n_ep")] + seen
        r[:, c("n_ep")] = n_new
        for key, j in (("loss", 0), ("p_y", 1), ("correct", 3)):
            r[:, c(key)] += m0[:, j]
        self._tsum += m0[:, len(_KEYS) :]
        for mu, m2, j in (("py_mean", "py_m2", 1), ("l_mean", "l_m2", 0)):  # Welford
            delta = m0[:, j] - r[:, c(mu)]
            r[:, c(mu)] += np.where(seen, delta / np.maximum(n_new, 1), 0.0)
            r[:, c(m2)] += np.where(seen, delta * (m0[:, j] - r[:, c(mu)]), 0.0)
        x = m0[:, 0]
        first = r[:, c("l_first")]
        r[:, c("l_first")] = np.where(seen & np.isnan(first), x, first)
        r[:, c("l_last")] = np.where(seen, x, r[:, c("l_last")])
        r[:, c("se")] += seen * e
        r[:, c("se2")] += seen * e * e
        r[:, c("sex")] += x * e
        self._acc[:] = 0.0

    # -- results -----------------------------------------------------------------------------
    @property
    def epochs_recorded(self) -> int:
        """Closed epochs plus the open one."""
        return self._closed + (self._epoch is not None)

    @property
    def sample_ids(self) -> np.ndarray:
        """``(N,)`` int64, the order of every per-sample array."""
        return self._ids.copy()

    @property
    def labels(self) -> np.ndarray:
        """``(N,)`` the last label seen per sample (-1 if never seen)."""
        return self._labels.copy()

    def _require(self) -> None:
        self.end_epoch()
        if self._closed == 0:
            raise ValueError("recorder: expected at least one update(...) before asking for scores")

    def _col(self, name: str) -> np.ndarray:
        return self._run[:, _RUN.index(name)].copy()

    def _trace(self, key: str) -> np.ndarray:
        if not self.history:
            raise ValueError(f"{key}_: expected a recorder made with history=True")
        self._require()
        rows = self._rows[key] if key in self._rows else self._term_rows[key]
        out = np.full((len(rows), self._n), np.nan)
        for i, row in enumerate(rows):
            out[i, : len(row)] = row
        return out

    loss_ = property(lambda self: self._trace("loss"), doc="``(E, N)`` epoch-mean loss.")
    p_y_ = property(lambda self: self._trace("p_y"), doc="``(E, N)`` epoch-mean ``p[y]``.")
    margin_ = property(lambda self: self._trace("margin"), doc="``(E, N)`` epoch-mean margin.")
    correct_ = property(lambda self: self._trace("correct"), doc="``(E, N)`` epoch accuracy.")

    @property
    def terms_(self) -> dict[str, np.ndarray]:
        """``{name: (E, N)}`` epoch-mean loss terms (history only)."""
        return {k: self._trace(k) for k in self._terms or []}

    @property
    def aum_sum_(self) -> np.ndarray:
        self.end_epoch()
        return self._col("aum_sum")

    @property
    def aum_count_(self) -> np.ndarray:
        self.end_epoch()
        return self._col("aum_cnt")

    @property
    def forgetting_count_(self) -> np.ndarray:
        return self._col("forget")

    @property
    def ever_correct_(self) -> np.ndarray:
        return self._ever.copy()

    def action_scores(self) -> dict[str, np.ndarray]:
        """``action_score`` ``(N,)`` = Σ_e ℓ_e, and ``action_score_<term>`` per loss term."""
        self._require()
        out = {"action_score": self._col("loss")}
        tsum = self._tsum
        for j, k in enumerate(self._terms or []):
            out[f"action_score_{k}"] = tsum[:, j]
        return out

    def cartography_scores(self) -> dict[str, np.ndarray]:
        """Confidence, variability and correctness as difficulties (see the module docstring)."""
        self._require()
        n = self._col("n_ep")
        with np.errstate(invalid="ignore", divide="ignore"):
            conf = self._col("p_y") / n
            corr = self._col("correct") / n
            if self.history:
                var = np.nanstd(self._trace("p_y"), axis=0)
            else:
                var = np.where(n > 0, np.sqrt(self._col("py_m2") / n), np.nan)
        self.confidence_, self.variability_, self.correctness_ = conf, var, corr
        return {
            "cartography_confidence": 1.0 - conf,
            "cartography_variability": var,
            "cartography_correctness": 1.0 - corr,
        }

    def aum_scores(self) -> dict[str, np.ndarray]:
        """``aum`` = ``-mean_t margin_t`` over every update (AUM of Pleiss et al., negated)."""
        self._require()
        with np.errstate(invalid="ignore", divide="ignore"):
            self.aum_ = self._col("aum_sum") / self._col("aum_cnt")
        return {"aum": -self.aum_}

    def forgetting_scores(self) -> dict[str, np.ndarray]:
        """``forgetting`` counts; never-learned samples get the number of epochs."""
        self._require()
        f = self._col("forget").copy()
        f[~self.ever_correct_] = self._closed
        return {"forgetting": f}

    def loss_scores(self) -> dict[str, np.ndarray]:
        """Loss-trajectory summaries ``loss_mean``/``_std``/``_first``/``_last``/``_slope``."""
        self._require()
        n = self._col("n_ep")
        se, se2, sex, sx = self._col("se"), self._col("se2"), self._col("sex"), self._col("loss")
        with np.errstate(invalid="ignore", divide="ignore"):
            den = n * se2 - se * se
            slope = np.where((n >= 2) & (den > 0), (n * sex - se * sx) / den, 0.0)
            return {
                "loss_mean": np.where(n > 0, self._col("l_mean"), np.nan),
                "loss_std": np.where(n > 0, np.sqrt(self._col("l_m2") / n), np.nan),
                "loss_first": self._col("l_first"),
                "loss_last": np.where(n > 0, self._col("l_last"), np.nan),
                "loss_slope": slope,
            }

    def scores(self) -> dict[str, np.ndarray]:
        """Every column, ``{name: (N,)}`` aligned with :attr:`sample_ids` (closes the open epoch)."""
        out: dict[str, np.ndarray] = {}
        for part in (self.action_scores, self.cartography_scores, self.aum_scores):
            out.update(part())
        out.update(self.forgetting_scores())
        out.update(self.loss_scores())
        return out

    def table(self, columns: Any = None) -> ScoreTable:
        """A :class:`ScoreTable` of ``columns`` (default all; rows in :attr:`sample_ids` order,
        sorted by id when the ids were learned). Samples never seen are left out."""
        sc = self.scores()
        if columns is not None:
            unknown = [c for c in columns if c not in sc]
            if isinstance(columns, str) or unknown:
                raise ValueError(f"columns: expected names among {sorted(sc)}, got {columns!r}")
            sc = {c: sc[c] for c in columns}
        labels, ids = self.labels, self.sample_ids
        keep = labels >= 0
        order = np.flatnonzero(keep)
        if not self._fixed:
            order = order[np.argsort(ids[order], kind="stable")]
        return ScoreTable.from_arrays(
            ids[order], labels[order], **{k: v[order] for k, v in sc.items()}
        )
