"""Query/teach active learning over an unlabelled pool, with a person (or an oracle) labelling.

    learner = ActiveLearner(model, pool_x, acquisition="mutual_information", batch_mode="power")
    ids = learner.query(10)          # sample ids to label (never repeated, never lost)
    learner.teach(ids, labels)       # the answers; the next query retrains from scratch
    learner.save("state.npz"); learner.load("state.npz")

``model`` is one of

- an adapter with ``fit(train: DataSplit, seed)`` and ``probs(split, seed) -> (S, N, C)``
  (:class:`MCDropoutLearner` for any ``nn.Module`` factory, :class:`SklearnLearner`);
- a scikit-learn classifier (has ``predict_proba``): wrapped in :class:`SklearnLearner`
  (S = 1; pass ``SklearnLearner(est, committee=5)`` for BALD through a bootstrap committee);
- a zero-argument factory returning an ``nn.Module``: wrapped in :class:`MCDropoutLearner`.

The first query (nothing labelled yet) is the **initial set**: uniform random or TypiClust
(``initial="typiclust"``, Hacohen et al. 2022) — no model, no labels needed. Later queries
retrain the model on the labels taught so far, score a random ``pool_subset`` of the
unlabelled, not-yet-queried ids with the acquisition, and pick ``n`` with ``batch_mode``
(:mod:`samplescope.active.batch`). Every random choice of query t is a function of
``(seed, t)``, so a saved and reloaded learner queries exactly what the original would.
Queried ids stay *pending* until taught, and are never queried again. ``stopping`` rules
(:mod:`samplescope.active.stopping`) are checked before each model-based query; once one
fires, ``query`` returns no ids and ``stopped_by`` names it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from .._validation import check_choice, check_ids, check_integer, check_labels
from ..data.split import DataSplit, as_input_array
from ..io import atomic_path
from .acquisitions import get_acquisition
from .batch import BatchContext, batch_mode_needs_model, list_batch_modes, select_batch
from .pool import Pool
from .stopping import check_rules, first_stop
from .typiclust import typiclust

__all__ = ["ActiveLearner", "step_seed"]


def step_seed(seed: int, step: int, salt: int) -> int:
    """The seed of random choice ``salt`` at query/step ``step`` (a function of all three)."""
    return int(np.random.SeedSequence([seed, step + 1, salt]).generate_state(1)[0])


def _as_model(model: Any) -> Any:
    if callable(getattr(model, "fit", None)) and callable(getattr(model, "probs", None)):
        return model
    if callable(getattr(model, "predict_proba", None)):
        from .sklearn_learner import SklearnLearner

        return SklearnLearner(model)
    if callable(model):
        from .learners import MCDropoutLearner

        return MCDropoutLearner(model)
    raise ValueError(
        "model: expected an active learner (fit/probs), a scikit-learn classifier "
        f"(predict_proba) or an nn.Module factory, got {type(model).__name__}"
    )


def _pool_split(pool: Any, sample_ids: Any) -> DataSplit:
    if isinstance(pool, DataSplit):
        if sample_ids is not None:
            raise ValueError("sample_ids: the pool DataSplit carries its own sample_id")
        return DataSplit(pool.x, np.zeros(len(pool), dtype=np.int64), pool.sample_id)
    x = as_input_array(pool, "pool")
    ids = np.arange(len(x)) if sample_ids is None else check_ids(sample_ids, "sample_ids")
    if len(ids) != len(x):
        raise ValueError(f"sample_ids: expected {len(x)} ids (one per pool row), got {len(ids)}")
    return DataSplit(x, np.zeros(len(x), dtype=np.int64), ids)


def _flat_features(x: np.ndarray, dim: int = 50, seed: int = 0) -> np.ndarray:
    """Inputs flattened, reduced to ``dim`` principal components when wider (for TypiClust)."""
    f = x.reshape(len(x), -1).astype(np.float64)
    if f.shape[1] <= dim or len(f) <= dim:
        return f
    from sklearn.decomposition import PCA

    return PCA(dim, random_state=seed).fit_transform(f)


class ActiveLearner:
    """Pool-based active learning driven by ``query(n)`` / ``teach(ids, labels)``.

    Args:
        model: see the module docstring.
        pool: unlabelled inputs ``(N, ...)`` or a :class:`DataSplit` (its labels are ignored).
        sample_ids: ids of the pool rows (default ``0..N-1``).
        acquisition: a registered acquisition name (``list_acquisitions()``).
        batch_mode: a registered batch mode (``list_batch_modes()``).
        initial: ``"random"`` or ``"typiclust"`` for the first query.
        pool_subset: candidates scored per query (a random subset; None = all).
        num_classes: if given, taught labels must lie in ``[0, num_classes)``.
        stopping: a list of :class:`StoppingRule`.
        stop_set: inputs ``(M, ...)`` whose predictions :class:`StabilizingPredictions` follows.
        batch_options: e.g. ``{"beta": 1.0}`` (stochastic), ``{"diversity": 0.5}``,
            ``{"batchbald_candidates": 200, "batchbald_samples": 500}``.
        seed: seeds every random choice.
    """

    def __init__(
        self,
        model: Any,
        pool: Any,
        *,
        sample_ids: Any = None,
        acquisition: str = "mutual_information",
        batch_mode: str = "topk",
        initial: str = "random",
        pool_subset: int | None = None,
        num_classes: int | None = None,
        stopping: Any = None,
        stop_set: Any = None,
        batch_options: dict[str, Any] | None = None,
        seed: int = 0,
    ) -> None:
        self.model = _as_model(model)
        self.pool_split = _pool_split(pool, sample_ids)
        self.acquisition = get_acquisition(acquisition)
        self.batch_mode = check_choice(batch_mode, "batch_mode", list_batch_modes())
        self.initial = check_choice(initial, "initial", ("random", "typiclust"))
        self.pool_subset = (
            None if pool_subset is None else check_integer(pool_subset, "pool_subset")
        )
        self.num_classes = (
            None if num_classes is None else check_integer(num_classes, "num_classes", minimum=2)
        )
        self.stopping = check_rules(stopping)
        self.stop_set = (
            None
            if stop_set is None
            else DataSplit(
                as_input_array(
                    stop_set.x if isinstance(stop_set, DataSplit) else stop_set, "stop_set"
                ),
                np.zeros(len(stop_set), dtype=np.int64),
                np.arange(len(stop_set)),
            )
        )
        if batch_options is not None and not isinstance(batch_options, dict):
            raise ValueError(f"batch_options: expected a dict, got {batch_options!r}")
        self.batch_options = dict(batch_options or {})
        self.seed = check_integer(seed, "seed", minimum=0)
        self.pool = Pool(self.pool_split.sample_id)
        self.pending: list[int] = []
        self.round = 0  # queries made so far (the t of step_seed)
        self.stopped_by: str | None = None
        self.last_query: dict[str, Any] = {}
        self.always_score = False  # score even with a model-free acquisition (label filters)
        self._fitted_n = -1

    # --- training --------------------------------------------------------------------------

    def labelled_split(self) -> DataSplit:
        """The labelled pool rows with the labels taught (``DataSplit``)."""
        ids = self.pool.labelled_ids
        return self.pool_split.subset(self.pool_split.positions(ids)).with_labels(self.pool.labels)

    def fit(self, seed: int | None = None) -> ActiveLearner:
        """Retrain the model from scratch on the labels taught so far."""
        if self.pool.n_labelled == 0:
            raise ValueError("teach: no labels yet; query() the initial set and teach() it first")
        s = step_seed(self.seed, self.round, 2) % 2**31 if seed is None else int(seed)
        self.model.fit(self.labelled_split(), s)
        self._fitted_n = self.pool.n_labelled + self.pool.n_rejected
        return self

    def _ensure_fitted(self) -> None:
        if self._fitted_n != self.pool.n_labelled + self.pool.n_rejected:
            self.fit()

    def predict_proba(self, x: Any, *, seed: int = 0) -> np.ndarray:
        """Mean predictive probabilities ``(N, C)`` of the current model on inputs ``x``."""
        self._ensure_fitted()
        xa = x.x if isinstance(x, DataSplit) else as_input_array(x, "x")
        split = DataSplit(xa, np.zeros(len(xa), dtype=np.int64), np.arange(len(xa)))
        return self.model.probs(split, seed).mean(axis=0)

    def evaluate(self, test: Any, seed: int = 0) -> dict[str, float]:
        """The model's metrics on a labelled ``test`` split (optional; needs ``model.evaluate``)."""
        self._ensure_fitted()
        return self.model.evaluate(test, seed)

    # --- query / teach ---------------------------------------------------------------------

    def available_ids(self) -> np.ndarray:
        """Unlabelled ids not queried yet (ascending)."""
        unl = self.pool.unlabelled_ids
        return unl[~np.isin(unl, np.asarray(self.pending, dtype=np.int64))]

    def _initial_query(self, n: int, t: int) -> np.ndarray:
        avail = self.available_ids()
        n = min(n, len(avail))
        if self.initial == "random":
            rng = np.random.default_rng(step_seed(self.seed, t, 1))
            return np.sort(rng.choice(avail, size=n, replace=False))
        pos = self.pool_split.positions(avail)
        feats = _flat_features(self.pool_split.x[pos], seed=self.seed)
        return avail[typiclust(feats, n, seed=step_seed(self.seed, t, 1) % 2**31)]

    def query(self, n: int, *, step: int | None = None) -> np.ndarray:
        """Sample ids ``(<= n,)`` to label next, best first (empty once a stopping rule fired).

        ``step``: the step index seeding this query's random choices (default: the number of
        queries so far).
        """
        n = check_integer(n, "n")
        t = self.round if step is None else check_integer(step, "step", minimum=-1)
        self.last_query = {}
        if self.stopped_by is not None or len(self.available_ids()) == 0:
            return np.zeros(0, dtype=np.int64)
        if self.pool.n_labelled == 0:
            ids = self._initial_query(n, t)
        else:
            ids = self._model_query(n, t)
            if self.stopped_by is not None:
                return np.zeros(0, dtype=np.int64)
        self.pending.extend(int(i) for i in ids)
        self.round = max(self.round, t) + 1
        return ids

    def _model_query(self, n: int, t: int) -> np.ndarray:
        self._ensure_fitted()
        rng = np.random.default_rng(step_seed(self.seed, t, 4))
        avail = self.available_ids()
        m = len(avail) if self.pool_subset is None else min(self.pool_subset, len(avail))
        cand_ids = np.sort(rng.choice(avail, size=m, replace=False))
        cand = self.pool_split.subset(self.pool_split.positions(cand_ids))
        probs = mean_p = None
        needs = self.acquisition.needs_model and batch_mode_needs_model(self.batch_mode)
        if needs or self.always_score:
            seed5 = step_seed(self.seed, t, 5) % 2**31
            consistent = self.batch_mode == "batchbald"
            if callable(getattr(self.model, "score", None)):  # e.g. an analytic last layer
                scores, mean_p, probs = self.model.score(
                    cand, self.acquisition, seed5, rng, consistent_masks=consistent
                )
            else:
                probs = self.model.probs(cand, seed5, consistent_masks=consistent)
                if self.acquisition.stochastic and probs.shape[0] < 2:
                    raise ValueError(
                        f"acquisition: {self.acquisition.name!r} needs several predictive "
                        "samples (MC dropout, a committee or an ensemble); the model gives one"
                    )
                scores, mean_p = self.acquisition.fn(probs, rng), probs.mean(axis=0)
        else:
            scores = self.acquisition.fn(np.full((1, m, 2), 0.5), rng)
        if self.stopping:
            info: dict[str, Any] = {"n_labelled": self.pool.n_labelled, "scores": scores}
            if self.stop_set is not None:
                info["stop_predictions"] = self.model.probs(self.stop_set, 0).mean(0).argmax(1)
            self.stopped_by = first_stop(self.stopping, info)
            if self.stopped_by is not None:
                return np.zeros(0, dtype=np.int64)
        lab = self.pool_split.subset(self.pool_split.positions(self.pool.labelled_ids))
        ctx = BatchContext(
            scores=scores,
            k=min(n, m),
            seed=step_seed(self.seed, t, 6) % 2**31,
            probs=probs,
            features=lambda: self._features(cand),
            embeddings=(lambda: self.model.embeddings(cand))
            if callable(getattr(self.model, "embeddings", None))
            else None,
            labelled_features=lambda: self._features(lab),
            options=self.batch_options,
        )
        pos = select_batch(self.batch_mode, ctx)
        self.last_query = {
            "ids": cand_ids[pos],
            "positions": pos,
            "candidate_ids": cand_ids,
            "scores": scores,
            "mean_probs": mean_p,
        }
        return cand_ids[pos]

    def _features(self, split: DataSplit) -> np.ndarray:
        if self.batch_options.get("features", "pixels") == "penultimate" and callable(
            getattr(self.model, "features", None)
        ):
            return self.model.features(split)
        return split.x.reshape(len(split), -1).astype(np.float64)

    def teach(self, ids: Any, labels: Any, *, step: int | None = None) -> None:
        """Record ``labels`` for unlabelled ``ids`` (queried or not); the model is retrained
        before the next query."""
        ids = check_ids(ids, "ids", allow_empty=True)
        labels = check_labels(labels, "labels", n=len(ids), allow_empty=True)
        if self.num_classes is not None and len(labels) and labels.max() >= self.num_classes:
            raise ValueError(
                f"labels: expected classes in [0, {self.num_classes}), got {int(labels.max())}"
            )
        self.pool.acquire(ids, labels, step=self.round - 1 if step is None else step)
        done = set(ids.tolist())
        self.pending = [i for i in self.pending if i not in done]

    def reject(self, ids: Any, labels: Any, *, step: int | None = None) -> None:
        """Queried ``ids`` whose ``labels`` are distrusted: never trained on, never re-queried."""
        ids = check_ids(ids, "ids", allow_empty=True)
        self.pool.reject(ids, labels, step=self.round - 1 if step is None else step)
        done = set(ids.tolist())
        self.pending = [i for i in self.pending if i not in done]

    # --- persistence -----------------------------------------------------------------------

    def state_meta(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "acquisition": self.acquisition.name,
            "batch_mode": self.batch_mode,
            "round": self.round,
            "pending": list(self.pending),
            "stopped_by": self.stopped_by,
            "stopping": {r.name: r.state_dict() for r in self.stopping},
        }

    def load_meta(self, meta: dict[str, Any]) -> None:
        if meta.get("seed") != self.seed or (
            get_acquisition(str(meta.get("acquisition"))).name != self.acquisition.name
        ):
            raise ValueError(
                f"checkpoint: written with seed={meta.get('seed')}, acquisition="
                f"{meta.get('acquisition')!r}; expected {self.seed}, {self.acquisition.name!r}"
            )
        self.round = int(meta.get("round", 0))
        self.pending = [int(i) for i in meta.get("pending", [])]
        self.stopped_by = meta.get("stopped_by")
        for r in self.stopping:
            r.load_state_dict(meta.get("stopping", {}).get(r.name, {}))
        self._fitted_n = -1

    def save(self, path: str | os.PathLike) -> None:
        """Write pool + pending queries + query counter + rule states to ``path`` (.npz)."""
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.savez_compressed(
                fh,
                meta=np.asarray(json.dumps(self.state_meta())),
                **{f"pool_{k}": v for k, v in self.pool.state_dict().items()},
            )

    def load(self, path: str | os.PathLike) -> ActiveLearner:
        """Restore a :meth:`save`'d state (same pool ids, seed and acquisition)."""
        if not isinstance(path, (str, os.PathLike)) or not Path(path).is_file():
            raise ValueError(f"path: expected a saved ActiveLearner state (.npz), got {path!r}")
        with np.load(Path(path), allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            pool = Pool.from_state_dict({k[5:]: z[k] for k in z.files if k.startswith("pool_")})
        if not np.array_equal(pool.universe, self.pool.universe):
            raise ValueError(f"path: {path} holds a different pool (its sample ids differ)")
        self.pool = pool
        self.load_meta(meta)
        return self

    def __repr__(self) -> str:
        return (
            f"ActiveLearner({self.acquisition.name}, {self.batch_mode}, {self.pool!r}, "
            f"pending={len(self.pending)}, round={self.round})"
        )
