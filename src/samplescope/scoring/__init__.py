"""Pool scoring as a capability: score any pool, in bounded memory, to a Parquet ScoreTable.

- :func:`stream_scores` (:mod:`.stream`): chunk by chunk (or shard by shard over an
  executor), written atomically;
- :class:`LogitScorer`, :class:`StochasticScorer` (:mod:`.scorers`): what each chunk gets.

Sources live in :mod:`samplescope.data.sources`, the streaming writer in
:mod:`samplescope.io.parquet_stream`.
"""

from ..data.sources import ArraySource, NpySource, SyntheticPool, iter_source
from .scorers import LogitScorer, StochasticScorer
from .stream import StreamResult, stream_scores

__all__ = [
    "ArraySource",
    "LogitScorer",
    "NpySource",
    "StochasticScorer",
    "StreamResult",
    "SyntheticPool",
    "iter_source",
    "stream_scores",
]
