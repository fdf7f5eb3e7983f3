"""The active-learning loop with atomic per-step checkpoints (Gal, Islam & Ghahramani 2017, §5.1).

Per step t = 0..steps:
  1. retrain the learner from scratch on the labelled set (seed derived from (seed, t));
  2. evaluate on the test split (MC dropout at test time for a Bayesian learner), record
     the accuracy against the number of labels;
  3. (t < steps) query ``per_step`` ids through the :class:`ActiveLearner` it is built on
     (a random subset of the unlabelled pool by sample id, scored, a batch picked by the
     batch mode; stopping rules checked first), ask the oracle, optionally filter
     distrusted labels, and move the ids in the :class:`Pool`;
  4. write the checkpoint (pool + history + next step) atomically.

Every random choice of step t is a function of ``(seed, t)`` only, so a run killed at any
moment and resumed from its checkpoint ends with the same labelled set as an uninterrupted
run; labels received are written in the same atomic checkpoint as the pool move, so none
is lost. Positions in the scored subset are mapped back to sample ids before anything is
labelled (Baal's experiment helper labels subset positions as pool indices).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .._validation import check_choice, check_integer, check_number
from ..data.split import DataSplit, as_split
from ..io import atomic_path
from .acquisitions import get_acquisition
from .batch import list_batch_modes
from .kmeans_init import balanced_random_initial_set, kmeans_initial_set
from .noise_filter import LabelFilter
from .oracle import GroundTruthOracle, LabelOracle
from .pool import Pool
from .session import ActiveLearner, step_seed

__all__ = ["ActiveLoop"]

_STATE_FILE = "state.npz"


_seed = step_seed


def _check_split(split: Any, name: str) -> DataSplit:
    if isinstance(split, (str, bytes)) or split is None:
        raise ValueError(f"{name}: expected a DataSplit or (x, y) arrays, got {split!r}")
    try:
        s = as_split(split)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from exc
    if len(s) == 0:
        raise ValueError(f"{name}: expected at least one sample, got 0")
    return s


class ActiveLoop:
    """Pool-based active learning with retrain-from-scratch and checkpoint/resume.

    Args:
        learner: e.g. :class:`MCDropoutLearner` (``fit``, ``score``, ``evaluate``, ``features``).
        pool_split: the unlabelled pool (its ``y`` is what the default oracle answers).
        test: the evaluation split (clean labels).
        acquisition: a registered acquisition name.
        initial: size of the initial labelled set (class-balanced, ``initial // C`` per class).
        initial_method: ``"balanced"`` (Gal: random, balanced), ``"kmeans"`` (report §5.2),
            ``"random"`` (uniform, label-free) or ``"typiclust"`` (Hacohen et al. 2022).
        per_step: labels queried per step; steps: number of acquisition steps.
        pool_subset: size of the random pool subset scored per step (None = whole pool).
        oracle: answers label queries (default: the pool split's labels).
        label_filter: optional :class:`LabelFilter` rejecting distrusted labels.
        batch_mode: a registered batch mode (:mod:`samplescope.active.batch`): ``"topk"``,
            ``"batchbald"`` (pre-select the top max(10k, 100) by the acquisition's score,
            then greedy BatchBALD on the joint mutual information, with consistent dropout
            masks), ``"diverse"`` (cosine penalty ``diversity``), ``"power"`` /
            ``"softmax"`` / ``"softrank"`` (stochastic, ``batch_options["beta"]``),
            ``"badge"``, ``"typiclust"``.
        diversity: λ of the cosine-similarity penalty (``batch_mode="diverse"``).
        diversity_features: ``"pixels"`` or ``"penultimate"``.
        noisy_initial: ask the oracle for the initial labels too (default: ground truth).
        checkpoint_dir: where ``state.npz`` lives (None = no checkpointing).
        stopping: :class:`StoppingRule` list checked before each acquisition; the run ends at
            the first that fires (``stopped_by`` and the last record name it).
        stop_set: inputs whose predictions :class:`StabilizingPredictions` follows.
        batch_options: passed to the batch mode (e.g. ``{"beta": 1}``, BatchBALD sizes).
        seed: seeds everything.
        on_step: ``callback(loop, record)`` after each checkpoint.
    """

    def __init__(
        self,
        learner: Any,
        pool_split: DataSplit,
        test: DataSplit,
        *,
        acquisition: str = "mutual_information",
        initial: int = 20,
        initial_method: str = "balanced",
        per_step: int = 10,
        steps: int = 100,
        pool_subset: int | None = 2000,
        oracle: LabelOracle | None = None,
        label_filter: LabelFilter | None = None,
        batch_mode: str = "topk",
        diversity: float = 0.0,
        diversity_features: str = "pixels",
        noisy_initial: bool = False,
        checkpoint_dir: str | os.PathLike | None = None,
        seed: int = 0,
        progress: bool = False,
        on_step: Callable[[ActiveLoop, dict[str, Any]], None] | None = None,
        stopping: Any = None,
        stop_set: Any = None,
        batch_options: dict[str, Any] | None = None,
    ) -> None:
        for hook in ("fit", "score", "evaluate"):
            if not callable(getattr(learner, hook, None)):
                raise ValueError(
                    f"learner: expected an object with fit/score/evaluate (e.g. MCDropoutLearner), "
                    f"got {type(learner).__name__}"
                )
        pool_split, test = _check_split(pool_split, "pool_split"), _check_split(test, "test")
        self.learner = learner
        self.pool_split = pool_split
        self.test = test
        self.acquisition = get_acquisition(acquisition)
        self.initial = check_integer(initial, "initial", maximum=len(pool_split))
        self.initial_method = check_choice(
            initial_method, "initial_method", ("balanced", "kmeans", "random", "typiclust")
        )
        self.per_step = check_integer(per_step, "per_step")
        self.steps = check_integer(steps, "steps", minimum=0)
        self.pool_subset = (
            None if pool_subset is None else check_integer(pool_subset, "pool_subset")
        )
        self.oracle = oracle if oracle is not None else GroundTruthOracle(pool_split)
        self.label_filter = label_filter
        self.batch_mode = check_choice(batch_mode, "batch_mode", list_batch_modes())
        self.diversity = check_number(diversity, "diversity")
        self.diversity_features = check_choice(
            diversity_features, "diversity_features", ("pixels", "penultimate")
        )
        self.noisy_initial = noisy_initial
        self.checkpoint_dir = None if checkpoint_dir is None else Path(checkpoint_dir)
        self.seed = check_integer(seed, "seed", minimum=0)
        if label_filter is not None and not callable(getattr(label_filter, "keep", None)):
            raise ValueError(
                f"label_filter: expected a LabelFilter, got {type(label_filter).__name__}"
            )
        if oracle is not None and not callable(oracle):
            raise ValueError(f"oracle: expected a callable sample_ids -> labels, got {oracle!r}")
        self.progress = progress
        self.on_step = on_step
        opts = {"diversity": self.diversity, "features": self.diversity_features}
        opts.update(batch_options or {})
        self.session = ActiveLearner(
            learner,
            pool_split,
            acquisition=self.acquisition.name,
            batch_mode=self.batch_mode,
            initial="typiclust" if self.initial_method == "typiclust" else "random",
            pool_subset=self.pool_subset,
            stopping=stopping,
            stop_set=stop_set,
            batch_options=opts,
            seed=self.seed,
        )
        self.session.always_score = label_filter is not None
        self._has_pool = False
        self.history: list[dict[str, Any]] = []
        self.next_step = 0

    @property
    def pool(self) -> Pool | None:
        """The labelled / unlabelled bookkeeping (None before the initial set is drawn)."""
        return self.session.pool if self._has_pool else None

    @pool.setter
    def pool(self, pool: Pool | None) -> None:
        self._has_pool = pool is not None
        if pool is not None:
            self.session.pool = pool

    @property
    def stopped_by(self) -> str | None:
        """The stopping rule that ended the run, or None."""
        return self.session.stopped_by

    # --- state -----------------------------------------------------------------------------

    @property
    def state_path(self) -> Path | None:
        return None if self.checkpoint_dir is None else self.checkpoint_dir / _STATE_FILE

    def _initial_pool(self) -> Pool:
        split = self.pool_split
        pool = Pool(split.sample_id)
        classes = np.unique(split.y if split.true_y is None else split.true_y)
        per_class = max(1, self.initial // len(classes))
        truth = split.y if split.true_y is None else split.true_y
        if self.initial_method in ("random", "typiclust"):  # label-free: the learner's query
            self.session.pool = pool
            ids = self.session.query(self.initial, step=-1)
            self.session.pending, self.session.round = [], 0
        elif self.initial_method == "balanced":
            ids = balanced_random_initial_set(
                split.sample_id, truth, per_class, seed=_seed(self.seed, -1, 1)
            )
        else:
            feats = split.x.reshape(len(split), -1)
            ids = kmeans_initial_set(
                split.sample_id, truth, feats, per_class, seed=_seed(self.seed, -1, 1) % 2**31
            )
        labels = self.oracle(ids) if self.noisy_initial else truth[split.positions(ids)]
        pool.acquire(ids, labels, step=-1)
        return pool

    def save(self) -> None:
        """Write pool + history + next step to ``checkpoint_dir/state.npz`` atomically."""
        if self.state_path is None or self.pool is None:
            return
        meta = {
            "next_step": self.next_step,
            "history": self.history,
            "seed": self.seed,
            "acquisition": self.acquisition.name,
            "session": self.session.state_meta(),
        }
        with atomic_path(self.state_path) as tmp, open(tmp, "wb") as fh:
            np.savez_compressed(
                fh,
                meta=np.asarray(json.dumps(meta)),
                **{f"pool_{k}": v for k, v in self.pool.state_dict().items()},
            )

    def _same_acquisition(self, name: Any) -> bool:
        """Whether a checkpoint's acquisition ``name`` (canonical or an old alias) is ours."""
        try:
            return get_acquisition(str(name)).name == self.acquisition.name
        except ValueError:
            return False

    def load(self) -> bool:
        """Restore from the checkpoint if there is one; return whether it was restored."""
        if self.state_path is None or not self.state_path.exists():
            return False
        with np.load(self.state_path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            self.pool = Pool.from_state_dict(
                {k[5:]: z[k] for k in z.files if k.startswith("pool_")}
            )
        if meta.get("seed") != self.seed or not self._same_acquisition(meta.get("acquisition")):
            raise ValueError(
                f"checkpoint: {self.state_path} was written with seed={meta.get('seed')}, "
                f"acquisition={meta.get('acquisition')!r}; expected {self.seed}, {self.acquisition.name!r}"
            )
        if "session" in meta:
            self.session.load_meta(meta["session"])
        self.history = list(meta["history"])
        self.next_step = int(meta["next_step"])
        last = self.history[-1] if self.history else None
        if (
            last is not None
            and "acquired" not in last
            and last["step"] < self.steps
            and self.pool.n_unlabelled
        ):
            # the run was finished with fewer steps and is now extended: redo its final step
            # (evaluation only) as a full step that also acquires
            self.history.pop()
            self.next_step = int(last["step"])
        return True

    @property
    def done(self) -> bool:
        return self.next_step > self.steps or self.stopped_by is not None

    # --- one step --------------------------------------------------------------------------

    def _labelled_split(self) -> DataSplit:
        assert self.pool is not None
        ids = self.pool.labelled_ids
        return self.pool_split.subset(self.pool_split.positions(ids)).with_labels(self.pool.labels)

    def step(self) -> dict[str, Any]:
        """Run step ``next_step`` (train, evaluate, and acquire unless it is the last) and checkpoint."""
        if self.pool is None and not self.load():
            self.pool = self._initial_pool()
        assert self.pool is not None
        t = self.next_step
        t0 = time.perf_counter()
        self.session.fit(_seed(self.seed, t, 2) % 2**31)
        t_fit = time.perf_counter() - t0
        metrics = self.learner.evaluate(self.test, _seed(self.seed, t, 3) % 2**31)
        rec: dict[str, Any] = {
            "step": t,
            "n_labelled": self.pool.n_labelled,
            "n_rejected": self.pool.n_rejected,
            **metrics,
        }
        rec["n_queried"] = rec["n_labelled"] + rec["n_rejected"] - self.initial
        if t < self.steps and self.pool.n_unlabelled > 0:
            ids = self.session.query(self.per_step, step=t)
            self.session.round = 0  # the loop seeds by its step, not by the query count
            self.session.pending = []
            if self.session.stopped_by is not None:
                rec["stopped_by"] = self.session.stopped_by
            else:
                q = self.session.last_query
                labels = self.oracle(ids)
                keep = np.ones(len(ids), dtype=bool)
                if self.label_filter is not None:
                    mean_p = q["mean_probs"]
                    keep = self.label_filter.keep(
                        mean_p[q["positions"]], labels, context_probs=mean_p
                    )
                    rec["tau"] = self.label_filter.threshold(mean_p)
                self.pool.acquire(ids[keep], labels[keep], step=t)
                if (~keep).any():
                    self.pool.reject(ids[~keep], labels[~keep], step=t)
                rec["acquired"] = int(keep.sum())
                rec["rejected"] = int((~keep).sum())
                truth = getattr(self.oracle, "true_labels", None)
                if truth is not None:
                    wrong = labels != truth(ids)
                    rec["noisy_queried"] = int(wrong.sum())
                    rec["noisy_rejected"] = int((wrong & ~keep).sum())
        rec["fit_s"] = round(t_fit, 3)
        rec["step_s"] = round(time.perf_counter() - t0, 3)
        self.history.append(rec)
        self.next_step = t + 1
        self.save()
        if self.on_step is not None:
            self.on_step(self, rec)
        return rec

    def run(self, *, resume: bool = True) -> list[dict[str, Any]]:
        """Run (or, with ``resume``, continue) until ``steps`` acquisitions; return the history."""
        if resume:
            self.load()
        elif self.state_path is not None and self.state_path.exists():
            self.state_path.unlink()
        if self.pool is None:
            self.pool = self._initial_pool()
        from .._progress import progress_bar

        bar = progress_bar(self.steps + 1, self.progress, self.acquisition.name)
        bar.update(min(self.next_step, self.steps + 1))  # steps already done (resume)
        while not self.done:
            rec = self.step()
            bar.set_postfix(n=rec["n_labelled"], acc=f"{rec['accuracy']:.3f}")
            bar.update(1)
        bar.close()
        return self.history
