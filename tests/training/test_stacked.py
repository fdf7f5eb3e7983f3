"""Vectorised training equals training the models one by one with ``samplescope.training.fit``."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import torch

from samplescope.data import load_dataset
from samplescope.models import default_model, mlp, small_cnn
from samplescope.training import FoldConfig, crossfit, fit, heldout_logits, predict_logits
from samplescope.training.stacked import can_vectorize, fit_many, should_vectorize


def _seedless(fn, seed):
    return fn()


def vectorized_oof_probs(fn, data, num_classes, *, folds=5, repeats=1, seed=0, **kw):
    """Out-of-fold probabilities (R, N, C) of the cross-fitting engine for a factory ``fn()``."""
    train = {k: kw.pop(k) for k in ("epochs", "batch_size") if k in kw}
    config = FoldConfig(num_classes, model_fn=functools.partial(_seedless, fn), **train)
    return crossfit(data, config, folds=folds, repeats=repeats, seed=seed, **kw).oof_probs


@pytest.fixture(scope="module")
def small():
    tr = load_dataset("digits").train
    return tr.subset(np.arange(300))


def _sequential(fn, split, idx, seeds, **kw):
    out = []
    for i, s in zip(idx, seeds, strict=True):
        torch.manual_seed(s)
        net = fn()
        res = fit(net, split.subset(i), seed=s, progress=False, **kw)
        out.append((net, res.history))
    return out


CONFIGS = [
    dict(optimizer="adam", lr=1e-3, weight_decay=0.0, scheduler=None, dropout=0.0),
    dict(optimizer="adamw", lr=2e-3, weight_decay=0.05, scheduler="cosine", dropout=0.3),
    dict(optimizer="sgd", lr=2e-2, weight_decay=1e-3, scheduler=None, dropout=0.2),
    dict(optimizer="adam", lr=1e-3, weight_decay=1e-3, scheduler="cosine", dropout=0.5),
]


@pytest.mark.parametrize(
    "cfg", CONFIGS, ids=lambda c: f"{c['optimizer']}-{c['scheduler']}-{c['dropout']}"
)
def test_equals_sequential_uneven_folds(small, cfg):
    cfg = dict(cfg)
    fn = functools.partial(mlp, (1, 8, 8), 10, (32, 16), cfg.pop("dropout"))
    rng = np.random.default_rng(1)
    # uneven sizes -> uneven batch counts (5, 6, 7 batches of 32, plus a merged singleton)
    sizes = (150, 170, 193, 225)
    idx = [np.sort(rng.choice(len(small), size=n, replace=False)) for n in sizes]
    seeds = [11, 12, 13, 14]
    kw = dict(epochs=3, batch_size=32, **cfg)
    many = fit_many(fn, small, idx, seeds=seeds, vectorize=True, exact=True, **kw)
    assert many.vectorized and len(many) == 4
    ref = _sequential(fn, small, idx, seeds, **kw)
    z = many.predict_logits(small.x)
    assert z.shape == (4, len(small), 10)
    for m, (net, hist) in enumerate(ref):
        np.testing.assert_allclose(z[m], predict_logits(net, small.x), rtol=0, atol=1e-5)
        assert [h["train_loss"] for h in many.history[m]] == pytest.approx(
            [h["train_loss"] for h in hist], abs=1e-5
        )
        for a, b in zip(many.modules()[m].parameters(), net.parameters(), strict=True):
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), atol=1e-6)
    # the models differ from each other (seeds and rows matter)
    assert np.abs(z[0] - z[1]).max() > 1e-3


@pytest.fixture
def one_thread():
    prev = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(prev)


def test_exact_mode_bit_identical(small, one_thread):
    fn = functools.partial(mlp, (1, 8, 8), 10, (16,), 0.25)
    idx = [np.arange(0, 250), np.arange(40, 300)]
    many = fit_many(fn, small, idx, seeds=[5, 6], epochs=2, batch_size=32, exact=True)
    fused = fit_many(fn, small, idx, seeds=[5, 6], epochs=2, batch_size=32, exact=False)
    ref = _sequential(fn, small, idx, [5, 6], epochs=2, batch_size=32)
    z, zf = many.predict_logits(small.x), fused.predict_logits(small.x)
    for m, (net, _) in enumerate(ref):
        # op-by-op Adam: the arithmetic of torch.optim; what is left is the summation order of
        # bmm vs nn.Linear's addmm, which depends on the BLAS kernels the CPU selects
        # (bit-identical on some machines, ~6e-8 apart on others)
        np.testing.assert_allclose(z[m], predict_logits(net, small.x), rtol=0, atol=1e-6)
        np.testing.assert_allclose(zf[m], z[m], atol=1e-4)  # fused Adam: rounding only


def test_ensemble_seeds_int_and_grouping_invariance(small):
    fn = functools.partial(mlp, (1, 8, 8), 10, (16,))
    a = fit_many(fn, small, seeds=[0, 1, 2, 3, 4], epochs=2, batch_size=64)
    b = fit_many(
        fn,
        small,
        None,
        seeds=[0, 1, 2, 3, 4],
        epochs=2,
        batch_size=64,
        executor="process",
        workers=2,
    )
    assert a.vectorized and b.vectorized
    np.testing.assert_allclose(a.predict_logits(small.x), b.predict_logits(small.x), atol=1e-6)
    c = fit_many(fn, small, [np.arange(len(small))] * 3, seeds=7, epochs=1)  # 7, 8, 9
    d = fit_many(fn, small, [np.arange(len(small))] * 3, seeds=[7, 8, 9], epochs=1)
    np.testing.assert_array_equal(c.predict_logits(small.x), d.predict_logits(small.x))


def test_fallback_for_conv_nets_equals_fit(small):
    fn = functools.partial(small_cnn, 10, 1, 8, 0.0)
    assert not can_vectorize(fn())
    idx = [np.arange(0, 200), np.arange(100, 300)]
    many = fit_many(fn, small, idx, seeds=[3, 4], epochs=1, batch_size=64)
    assert not many.vectorized
    ref = _sequential(fn, small, idx, [3, 4], epochs=1, batch_size=64)
    z = many.predict_logits(small.x)
    for m, (net, _) in enumerate(ref):
        np.testing.assert_allclose(z[m], predict_logits(net, small.x), atol=1e-6)
    with pytest.raises(ValueError, match="vectorize=True needs"):
        fit_many(fn, small, idx, seeds=[3, 4], epochs=1, vectorize=True)


def test_heldout_logits_match_generalization_error(small):
    """Independent reference: issue 3's generalization_error trains the folds one by one."""
    from samplescope.difficulty.generalization import generalization_error, stratified_fold_ids

    K, R, seed = 3, 2, 5
    g = generalization_error(
        small, 10, folds=K, repeats=R, epochs=2, seed=seed, progress=False, vectorize=False
    )
    fid = stratified_fold_ids(small.y, K, R, seed)
    pairs, seeds = [], []
    for r in range(R):
        for k in range(K):
            pairs.append((np.flatnonzero(fid[r] != k), np.flatnonzero(fid[r] == k)))
            seeds.append(seed * 10007 + r * K + k)
    fn = functools.partial(default_model, small.x.shape[1:], 10)
    outs = heldout_logits(fn, small, pairs, seeds=seeds, epochs=2, exact=True)
    got = np.full_like(g.oof_logits, np.nan)
    for i, ((_, te), o) in enumerate(zip(pairs, outs, strict=True)):
        got[i // K, te] = o
    np.testing.assert_allclose(got, g.oof_logits, atol=1e-5)


def test_seeded_model_fn(small):
    def make(seed):
        return mlp((1, 8, 8), 10, (8 + seed % 2 * 0,))

    a = fit_many(make, small, [np.arange(200)] * 2, seeds=[1, 2], epochs=1, seeded_model_fn=True)
    b = fit_many(lambda: make(0), small, [np.arange(200)] * 2, seeds=[1, 2], epochs=1)
    np.testing.assert_array_equal(a.predict_logits(small.x), b.predict_logits(small.x))


def test_oof_probs_are_heldout_distributions(small):
    fn = functools.partial(mlp, (1, 8, 8), 10, (16,))
    p = vectorized_oof_probs(fn, small, 10, folds=3, repeats=2, seed=0, epochs=2)
    assert p.shape == (2, len(small), 10)
    np.testing.assert_allclose(p.sum(-1), 1.0, atol=1e-9)
    assert not np.allclose(p[0], p[1])  # different splits and seeds per repeat


def test_should_vectorize_rules():
    net = mlp((1, 8, 8), 10)
    assert should_vectorize(net, 5)
    assert not should_vectorize(net, 1)
    assert not should_vectorize(net, 5, optimizer="rmsprop")
    assert not should_vectorize(small_cnn(10, 1, 8), 5)
    assert not should_vectorize(net, 10, memory_budget=10_000)
    # compute-bound (235k params x batch 128): with op-by-op Adam stacking would only tie;
    # with the default fused step it wins (benchmarks/vectorized.py)
    assert not should_vectorize(mlp((1, 28, 28), 10), 5, exact=True)
    assert should_vectorize(mlp((1, 28, 28), 10), 5)
    assert should_vectorize(mlp((1, 28, 28), 10, (32,)), 5, exact=True)
    bn = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 8), torch.nn.BatchNorm1d(8))
    assert not can_vectorize(bn)


def test_bad_inputs(small):
    fn = functools.partial(mlp, (1, 8, 8), 10, (8,))
    with pytest.raises(ValueError, match="seeds: expected 2 seeds"):
        fit_many(fn, small, [np.arange(10), np.arange(20)], seeds=[1, 2, 3])
    with pytest.raises(ValueError, match=r"index_sets\[1\]: expected positions"):
        fit_many(fn, small, [np.arange(10), np.arange(400)], seeds=[1, 2])
    with pytest.raises(ValueError, match=r"index_sets\[0\]: expected a non-empty"):
        fit_many(fn, small, [np.array([], dtype=int)], seeds=[1])
    with pytest.raises(ValueError, match="seeds: expected a sequence"):
        fit_many(fn, small, None, seeds=3)
    with pytest.raises(ValueError, match="epochs"):
        fit_many(fn, small, seeds=[1, 2], epochs=0)
    with pytest.raises(ValueError, match="vectorize: expected"):
        fit_many(fn, small, seeds=[1, 2], vectorize="yes")
    with pytest.raises(ValueError, match="folds"):
        heldout_logits(fn, small, [])


def test_auto_skips_very_unequal_training_sets(small):
    fn = functools.partial(mlp, (1, 8, 8), 10, (8,))
    uneven = fit_many(fn, small, [np.arange(50), np.arange(250)], seeds=[1, 2], epochs=1)
    even = fit_many(fn, small, [np.arange(200), np.arange(250)], seeds=[1, 2], epochs=1)
    assert not uneven.vectorized and even.vectorized


# --------------------------------------------------------------------------------------------
# precision="bf16": mixed-precision stacked training
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def digits_600():
    return load_dataset("digits").train.subset(np.arange(600))


def test_bf16_trains_as_well_as_fp32(digits_600):
    """Same folds and seeds: bf16 matmuls change the rounding, not the model's quality.

    Measured (digits, 3 x 5 configs): OOF accuracy within 0.005 of fp32, mean |dp| 1e-4 to
    1e-3, while fp32 with another seed moves the probabilities by a mean |dp| of 1-2.6e-2.
    """
    fn = functools.partial(mlp, (1, 8, 8), 10, (256, 128))
    kw = dict(folds=3, seed=0, epochs=5, batch_size=64)
    p32 = vectorized_oof_probs(fn, digits_600, 10, **kw)[0]
    pbf = vectorized_oof_probs(fn, digits_600, 10, precision="bf16", **kw)[0]
    other = vectorized_oof_probs(fn, digits_600, 10, **{**kw, "seed": 100})[0]
    y = digits_600.y
    acc32, accbf = (p32.argmax(1) == y).mean(), (pbf.argmax(1) == y).mean()
    assert acc32 > 0.7  # the models learned something: the comparison means something
    assert abs(accbf - acc32) <= 0.02
    np.testing.assert_allclose(pbf.sum(-1), 1.0, atol=1e-9)
    d_bf, d_seed = np.abs(pbf - p32).mean(), np.abs(other - p32).mean()
    assert 0 < d_bf < 5e-3  # bf16 really ran (differs), and only by rounding
    assert d_bf < 0.25 * d_seed  # far less than what another seed changes


def test_bf16_deterministic_and_fp32_masters(digits_600):
    fn = functools.partial(mlp, (1, 8, 8), 10, (64,), 0.2)  # dropout draws stay seeded
    idx = [np.arange(0, 500), np.arange(100, 600)]
    kw = dict(seeds=[3, 4], epochs=2, batch_size=64, precision="bf16")
    a = fit_many(fn, digits_600, idx, **kw)
    b = fit_many(fn, digits_600, idx, **kw)
    assert a.vectorized
    assert all(w.dtype == torch.float32 for w in a.weights)
    za = a.predict_logits(digits_600.x)
    assert za.dtype == np.float64
    np.testing.assert_array_equal(za, b.predict_logits(digits_600.x))
    c = fit_many(fn, digits_600, idx, **{**kw, "precision": "fp32"})
    assert not np.array_equal(za, c.predict_logits(digits_600.x))


def test_bf16_auto_stacks_compute_bound_mlps(digits_600):
    """exact fp32 "auto" trains an MNIST-size MLP one by one; bf16 exists only stacked."""
    net = mlp((1, 28, 28), 10)
    assert not should_vectorize(net, 5, exact=True)
    assert should_vectorize(net, 5, precision="bf16")
    fn = functools.partial(mlp, (1, 8, 8), 10, (16,))
    uneven = fit_many(
        fn, digits_600, [np.arange(50), np.arange(250)], seeds=[1, 2], epochs=1, precision="bf16"
    )
    assert uneven.vectorized


def test_bad_precision(small):
    fn = functools.partial(mlp, (1, 8, 8), 10, (8,))
    cnn = functools.partial(small_cnn, 10, 1, 8, 0.0)
    idx = [np.arange(100), np.arange(100, 200)]
    with pytest.raises(ValueError, match="precision: expected one of"):
        fit_many(fn, small, idx, seeds=[1, 2], precision="fp16")
    with pytest.raises(ValueError, match="precision: expected one of"):
        heldout_logits(fn, small, [(idx[0], idx[1])], precision="bfloat16")
    with pytest.raises(ValueError, match="precision: expected one of"):
        vectorized_oof_probs(fn, small, 10, precision="half")
    with pytest.raises(ValueError, match="precision: 'bf16' needs the stacked trainer"):
        fit_many(fn, small, idx, seeds=[1, 2], precision="bf16", vectorize=False)
    with pytest.raises(ValueError, match="precision: 'bf16' needs the stacked trainer"):
        fit_many(cnn, small, idx, seeds=[1, 2], precision="bf16")
