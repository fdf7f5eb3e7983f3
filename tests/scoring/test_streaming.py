"""Streaming scores equal in-memory scores; Parquet written atomically; sources and scorers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from samplescope.active.acquisitions import acquisition_scores
from samplescope.data import load_dataset
from samplescope.difficulty import get_measure
from samplescope.io import ScoreTable
from samplescope.models import mlp
from samplescope.scoring import (
    LogitScorer,
    NpySource,
    StochasticScorer,
    SyntheticPool,
    stream_scores,
)
from samplescope.training import predict_logits
from samplescope.uncertainty import decompose


@pytest.fixture(scope="module")
def digits_small():
    return load_dataset("digits").train.subset(np.arange(257))


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    return mlp((1, 8, 8), 10, (32,), dropout=0.5).eval()


def _read(path):
    return pd.read_parquet(path)


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(chunk=st.integers(1, 300))
def test_streaming_equals_in_memory(tmp_path_factory, digits_small, net, chunk):
    s = digits_small
    out = tmp_path_factory.mktemp("s") / "scores.parquet"
    res = stream_scores(LogitScorer(net), (c for c in _chunks(s, chunk)), out, progress=False)
    df = _read(out)
    assert res.rows == len(s) == len(df)
    z = predict_logits(net, s.x)
    np.testing.assert_array_equal(df["sample_id"], s.sample_id)
    np.testing.assert_array_equal(df["label"], s.y)
    np.testing.assert_allclose(df["loss"], get_measure("loss").fn(z, s.y), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(df["margin"], get_measure("margin").fn(z, s.y), rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(df["pred"], z.argmax(1))
    assert ScoreTable.load(out).measures  # the ScoreTable layout


def _chunks(s, size):
    for lo in range(0, len(s), size):
        yield s.x[lo : lo + size], s.y[lo : lo + size], s.sample_id[lo : lo + size]


def test_npy_memmap_sharded_equals_inprocess(tmp_path, digits_small, net):
    x_path, y_path = tmp_path / "x.npy", tmp_path / "y.npy"
    np.save(x_path, digits_small.x)
    np.save(y_path, digits_small.y)
    src = NpySource(x_path, y_path)
    assert isinstance(src.x, np.memmap)
    scorer = StochasticScorer(net, samples=8, seed=3)
    a = stream_scores(scorer, src, tmp_path / "a.parquet", chunk_size=64, progress=False)
    b = stream_scores(
        scorer,
        src,
        tmp_path / "b.parquet",
        chunk_size=64,
        shard_size=100,
        executor="process",
        workers=2,
        progress=False,
    )
    assert a.rows == b.rows == len(digits_small)
    pd.testing.assert_frame_equal(_read(a.path), _read(b.path))
    assert not (tmp_path / "b.parquet.parts").exists()


def test_stochastic_columns_match_references(tmp_path, digits_small, net):
    """Columns against issue 5's decomposition and issue 6's acquisitions on the same probs."""
    from samplescope.uncertainty import predict_stochastic
    from samplescope.uncertainty.masks import mix_seed

    x = digits_small.x[:100]
    scorer = StochasticScorer(net, samples=10, seed=1)
    cols = scorer(x, None, 0)
    p = predict_stochastic(net, x, samples=10, seed=mix_seed(1, 0))
    d = decompose(p)
    np.testing.assert_allclose(cols["predictive_entropy"], d["predictive_entropy"], atol=1e-5)
    np.testing.assert_allclose(cols["mutual_information"], d["mutual_information"], atol=1e-5)
    np.testing.assert_allclose(cols["variation_ratio"], acquisition_scores("variation_ratio", p))
    np.testing.assert_allclose(cols["mean_std"], acquisition_scores("mean_std", p), atol=1e-5)
    mi = cols["mutual_information"]
    assert (mi >= 0).all() and (mi <= cols["predictive_entropy"] + 1e-9).all()
    assert mi.max() > 0  # dropout active: the passes disagree somewhere


def test_synthetic_pool_chunks(digits_small):
    base = (digits_small.x, digits_small.y)
    pool = SyntheticPool(1000, base, noise=0.2, seed=4)
    chunks = list(pool.chunks(0, len(pool), 300))
    assert [len(c[1]) for c in chunks] == [300, 300, 300, 100]
    again = list(SyntheticPool(1000, base, noise=0.2, seed=4).chunks(0, 1000, 300))
    for c, d in zip(chunks, again, strict=True):
        np.testing.assert_array_equal(c[1], d[1])
    x = np.concatenate([c[1] for c in chunks])
    assert x.min() >= 0 and x.max() <= 1
    tiled = np.arange(1000) % len(digits_small)
    np.testing.assert_array_equal(np.concatenate([c[2] for c in chunks]), digits_small.y[tiled])
    noise = np.abs(x - digits_small.x[tiled])
    assert 0.05 < noise.mean() < 0.2  # noise 0.2, partly clipped
    clean = np.concatenate(
        [c[1] for c in SyntheticPool(1000, base, noise=0.0).chunks(0, 1000, 300)]
    )
    np.testing.assert_array_equal(clean, digits_small.x[tiled])


def test_unlabelled_pool_uses_pred_as_label(tmp_path, digits_small, net):
    out = stream_scores(LogitScorer(net), digits_small.x, tmp_path / "u.parquet", progress=False)
    df = _read(out.path)
    np.testing.assert_array_equal(df["label"], df["pred"])
    assert "loss" not in df  # label-dependent measures need labels


class _Boom:
    def __init__(self, after):
        self.after = after

    def __call__(self, x, y, start):
        if start >= self.after:
            raise RuntimeError("scorer died")
        return {"pred": np.zeros(len(x), dtype=np.int64)}


def test_failed_run_keeps_previous_file(tmp_path, digits_small):
    out = tmp_path / "s.parquet"
    stream_scores(_Boom(10**9), digits_small.x, out, chunk_size=50, progress=False)
    before = out.read_bytes()
    with pytest.raises(RuntimeError, match="scorer died"):
        stream_scores(_Boom(100), digits_small.x, out, chunk_size=50, progress=False)
    assert out.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["s.parquet"]  # no temp file left


def test_bad_inputs(tmp_path, digits_small, net):
    with pytest.raises(ValueError, match="out: expected a .parquet"):
        stream_scores(LogitScorer(net), digits_small.x, tmp_path / "s.csv")
    with pytest.raises(ValueError, match="source: expected at least one sample"):
        stream_scores(LogitScorer(net), iter([]), tmp_path / "s.parquet", progress=False)
    with pytest.raises(ValueError, match="chunk_size"):
        stream_scores(LogitScorer(net), digits_small.x, tmp_path / "s.parquet", chunk_size=0)
    with pytest.raises(ValueError, match="sharded scoring"):
        stream_scores(
            LogitScorer(net), iter([digits_small.x]), tmp_path / "s.parquet", executor="process"
        )
    with pytest.raises(ValueError, match="scorer: expected column"):
        stream_scores(
            lambda x, y, s: {"pred": np.zeros(3)},
            digits_small.x,
            tmp_path / "s.parquet",
            progress=False,
        )
    with pytest.raises(ValueError, match="path: expected an existing"):
        NpySource(tmp_path / "missing.npy")
    with pytest.raises(ValueError, match="measures: expected 'logits'"):
        LogitScorer(net, measures=("gen_error",))
