"""Executors for every fan-out; vectorised many-model training; streaming scoring.

- :func:`run_tasks` / :func:`make_executor` / :func:`executor_context`: one ``executor=``
  argument (in-process, local process pool, Dask, Ray, any ``concurrent.futures.Executor``);
- :func:`parse_executor`: the shared ``--executor/--scheduler/--workers`` option parser;
- :func:`fit_many`, :func:`heldout_logits`, :func:`vectorized_oof_probs`: M small MLPs
  trained at once with stacked weights (same results as one by one);
- :func:`stream_scores` with :class:`LogitScorer` / :class:`StochasticScorer` and the
  sources :class:`NpySource` / :class:`SyntheticPool`: million-sample pools to Parquet in
  bounded memory.
"""

from .executors import (
    EXECUTOR_NAMES,
    DaskExecutor,
    InProcessExecutor,
    RayExecutor,
    executor_context,
    executor_workers,
    make_executor,
    run_tasks,
)
from .options import ExecutorSpec, parse_executor
from .streaming import (
    ArraySource,
    LogitScorer,
    NpySource,
    StochasticScorer,
    StreamResult,
    SyntheticPool,
    iter_source,
    stream_scores,
)
from .vectorized import (
    ManyModels,
    can_vectorize,
    fit_many,
    heldout_logits,
    should_vectorize,
    vectorized_oof_probs,
)

__all__ = [
    "EXECUTOR_NAMES",
    "ArraySource",
    "DaskExecutor",
    "ExecutorSpec",
    "InProcessExecutor",
    "LogitScorer",
    "ManyModels",
    "NpySource",
    "RayExecutor",
    "StochasticScorer",
    "StreamResult",
    "SyntheticPool",
    "can_vectorize",
    "executor_context",
    "executor_workers",
    "fit_many",
    "heldout_logits",
    "iter_source",
    "make_executor",
    "parse_executor",
    "run_tasks",
    "should_vectorize",
    "stream_scores",
    "vectorized_oof_probs",
]
