"""gen_error_fast (issue 14): hand computation, determinism, executor independence, wiring."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.stats import rankdata

from samplescope.data import DataSplit, as_split
from samplescope.difficulty import (
    FAST_AUM_WEIGHT,
    FAST_GEN_ERROR_COLUMNS,
    TrainingDynamics,
    compute_measures,
    fast_generalization_error,
    get_measure,
    rank_combine,
)
from samplescope.models import mlp
from samplescope.training import (
    FoldConfig,
    LambdaCallback,
    crossfit,
    fit,
    fit_seed,
    fold_assignments,
    predict_logits,
)
from samplescope.training.stacked import fit_many

EPOCHS, BATCH = 3, 16


def _mf(seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    return mlp((8,), 3, hidden=(16,))


@pytest.fixture(scope="module")
def tiny() -> DataSplit:
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 20)
    x = (rng.normal(size=(60, 8)) + y[:, None] * 0.8).astype(np.float32)
    return as_split((x, y))


def _fast(data, **kw):
    return fast_generalization_error(
        data, 3, model_fn=_mf, epochs=EPOCHS, batch_size=BATCH, lr=1e-2, seed=3, **kw
    )


def test_against_a_hand_computation(tiny):
    """Every column from 4 one-by-one fits, a numpy margin recorder and numpy formulas."""
    res = _fast(tiny)
    assert res.stacked
    y, n = tiny.y, len(tiny)
    fold_ids = fold_assignments(y, 2, 2, 3)
    np.testing.assert_array_equal(res.fold_ids, fold_ids)
    logp = np.empty((2, n, 3))
    m_sum, m_cnt = np.zeros(n), np.zeros(n)
    for r in range(2):
        for k in range(2):
            train, held = np.flatnonzero(fold_ids[r] != k), np.flatnonzero(fold_ids[r] == k)
            net = _mf(fit_seed(3, r, k, 2))

            def rec(state, batch, train=train):
                z = batch.logits.double().numpy()
                yy = batch.labels.numpy()
                other = z.copy()
                other[np.arange(len(yy)), yy] = -np.inf
                rows = train[batch.positions.numpy()]
                np.add.at(m_sum, rows, z[np.arange(len(yy)), yy] - other.max(1))
                np.add.at(m_cnt, rows, 1.0)

            fit(
                net,
                tiny.subset(train),
                epochs=EPOCHS,
                batch_size=BATCH,
                lr=1e-2,
                seed=fit_seed(3, r, k, 2),
                callbacks=[LambdaCallback(on_batch_end=rec)],
                progress=False,
            )
            z = predict_logits(net, tiny.subset(held))
            logp[r, held] = z - np.log(np.exp(z).sum(1, keepdims=True))
    # every sample: held out once and trained on once per repeat, every epoch
    np.testing.assert_array_equal(m_cnt, 2 * EPOCHS)
    np.testing.assert_array_equal(res.margin_count.sum(0), m_cnt)
    rows = np.arange(n)
    heldout = -logp[:, rows, y].mean(0)
    g = np.exp(logp).prod(0) ** 0.5  # unnormalised geometric mean of the 2 repeats
    bias = -np.log(g[rows, y] / g.sum(1))
    aum = -m_sum / m_cnt
    t = res.table
    np.testing.assert_allclose(t.column("gen_error_fast_heldout"), heldout, atol=1e-5)
    np.testing.assert_allclose(t.column("gen_error_fast_bias"), bias, atol=1e-5)
    np.testing.assert_allclose(t.column("gen_error_fast_variance"), heldout - bias, atol=1e-5)
    np.testing.assert_allclose(t.column("gen_error_fast_aum"), aum, atol=1e-5)
    # the combination: the k-th smallest rank mean gets the k-th smallest held-out loss
    hv, av = t.column("gen_error_fast_heldout"), t.column("gen_error_fast_aum")
    q = FAST_AUM_WEIGHT * rankdata(av) + (1 - FAST_AUM_WEIGHT) * rankdata(hv)
    want = np.empty(n)
    for k, i in enumerate(sorted(range(n), key=lambda i: (q[i], i))):
        want[i] = sorted(hv)[k]
    np.testing.assert_array_equal(t.column("gen_error_fast"), want)


def test_heldout_part_is_the_2x2_crossfit(tiny):
    res = _fast(tiny)
    cfg = FoldConfig(3, epochs=EPOCHS, batch_size=BATCH, lr=1e-2, model_fn=_mf)
    cf = crossfit(tiny, cfg, folds=2, repeats=2, seed=3, vectorize=True)
    np.testing.assert_array_equal(res.oof_logits, cf.oof_logits)


def test_stacked_margins_equal_the_aum_callback(tiny):
    """fit_many(record_margins=True) vs the difficulty AUM recorder on one-by-one fits."""
    idx = [np.arange(0, 40), np.arange(20, 60)]
    many = fit_many(
        lambda: mlp((8,), 3, hidden=(16,)),
        tiny,
        idx,
        seeds=[5, 6],
        epochs=EPOCHS,
        batch_size=BATCH,
        lr=1e-2,
        vectorize=True,
        record_margins=True,
    )
    for m, (i, s) in enumerate(zip(idx, [5, 6], strict=True)):
        torch.manual_seed(s)
        net = mlp((8,), 3, hidden=(16,))
        dyn = TrainingDynamics(source="batches")
        fit(net, tiny.subset(i), epochs=EPOCHS, batch_size=BATCH, lr=1e-2, seed=s,
            callbacks=[dyn], progress=False)  # fmt: skip
        np.testing.assert_allclose(many.margin_sum[m, i], dyn.aum_sum_, atol=1e-4)
        np.testing.assert_array_equal(many.margin_count[m, i], dyn.aum_count_)
        rest = np.setdiff1d(np.arange(len(tiny)), i)
        assert not many.margin_count[m, rest].any()


def test_one_by_one_path_equals_stacked(tiny):
    a, b = _fast(tiny), _fast(tiny, vectorize=False)
    assert a.stacked and not b.stacked
    for c in FAST_GEN_ERROR_COLUMNS[1:]:
        np.testing.assert_allclose(a.table.column(c), b.table.column(c), atol=1e-5)


def test_deterministic_under_a_seed(tiny):
    a, b, c = (
        _fast(tiny),
        _fast(tiny),
        fast_generalization_error(
            tiny, 3, model_fn=_mf, epochs=EPOCHS, batch_size=BATCH, lr=1e-2, seed=4
        ),
    )
    for col in FAST_GEN_ERROR_COLUMNS:
        np.testing.assert_array_equal(a.table.column(col), b.table.column(col))
    assert not np.allclose(a.table.column("gen_error_fast"), c.table.column("gen_error_fast"))


@pytest.mark.slow
def test_independent_of_the_executor(tiny):
    a = _fast(tiny)
    b = _fast(tiny, executor="process", workers=2)  # two stacked groups of 2 models
    c = _fast(tiny, vectorize=False, executor="process", workers=2)  # 4 one-by-one fits
    for other in (b, c):
        for col in FAST_GEN_ERROR_COLUMNS[1:]:
            np.testing.assert_allclose(a.table.column(col), other.table.column(col), atol=1e-5)
        # the combination is a rank statistic: the same order, hence the same values
        np.testing.assert_array_equal(
            np.argsort(a.table.column("gen_error_fast"), kind="stable"),
            np.argsort(other.table.column("gen_error_fast"), kind="stable"),
        )


def test_rank_combine_by_hand():
    h = np.array([0.1, 0.5, 0.2, 0.9])
    a = np.array([3.0, 0.0, 1.0, 2.0])
    np.testing.assert_array_equal(rank_combine(h, a, 0.0), h)
    # weight 1: the order of the AUM, the values of the held-out losses
    np.testing.assert_array_equal(rank_combine(h, a, 1.0), [0.9, 0.1, 0.2, 0.5])
    # weight 0.5: q = (ranks 1,3,2,4 + ranks 4,1,2,3) / 2 = 2.5, 2, 2, 3.5
    np.testing.assert_array_equal(rank_combine(h, a, 0.5), [0.5, 0.1, 0.2, 0.9])


def test_registry_and_compute_measures(tiny):
    for c in FAST_GEN_ERROR_COLUMNS:
        assert get_measure(c).kind == "kfold"
    res = compute_measures(
        tiny,
        3,
        ["gen_error_fast", "gen_error_fast_bias", "gen_error_fast_variance", "loss"],
        model_fn=_mf,
        epochs=EPOCHS,
        batch_size=BATCH,
        lr=1e-2,
        seed=3,
        progress=False,
    )
    assert res.gen is None and res.fast is not None
    ref = _fast(tiny)
    for c in ("gen_error_fast", "gen_error_fast_bias", "gen_error_fast_variance"):
        np.testing.assert_array_equal(res.table.column(c), ref.table.column(c))
    via_registry = get_measure("gen_error_fast")(
        tiny, 3, model_fn=_mf, epochs=EPOCHS, batch_size=BATCH, lr=1e-2, seed=3
    )
    np.testing.assert_array_equal(via_registry, ref.table.column("gen_error_fast"))


def test_planted_hard_samples_rank_first():
    """Flipped labels of well-separated classes: their gen_error_fast is the highest."""
    rng = np.random.default_rng(1)
    y = np.repeat(np.arange(3), 40)
    x = (rng.normal(size=(120, 8)) * 0.3 + np.eye(3, 8)[y] * 3).astype(np.float32)
    flipped = np.arange(0, 120, 12)
    y_noisy = y.copy()
    y_noisy[flipped] = (y[flipped] + 1) % 3
    res = fast_generalization_error(
        as_split((x, y_noisy)), 3, model_fn=_mf, epochs=10, batch_size=16, lr=1e-2
    )
    top = np.argsort(-res.table.column("gen_error_fast"))[: len(flipped)]
    assert set(top) == set(flipped)


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        (dict(repeats=0), "repeats"),
        (dict(aum_weight=1.5), "aum_weight"),
        (dict(vectorize="yes"), "vectorize"),
        (dict(lr=-1.0), "lr"),
        (dict(num_classes=1), "num_classes"),
    ],
)
def test_bad_inputs(tiny, kw, match):
    args = dict(num_classes=3, model_fn=_mf, epochs=1)
    args.update(kw)
    with pytest.raises(ValueError, match=match):
        fast_generalization_error(tiny, **args)
    with pytest.raises(ValueError, match="aum_score"):
        rank_combine(np.zeros(3), np.zeros(4))


def test_a_zero_argument_model_factory_is_accepted_as_everywhere_else() -> None:
    """One model_fn convention (issue 17): ``seed -> nn.Module`` or ``() -> nn.Module``."""
    import samplescope as ss

    split = ss.load_dataset("digits").train.subset(np.arange(120))

    def seeded(seed: int) -> torch.nn.Module:
        torch.manual_seed(seed)
        return mlp(64, 10, hidden=(16,))

    def zero_arg() -> torch.nn.Module:
        return mlp(64, 10, hidden=(16,))

    a = fast_generalization_error(split, 10, model_fn=seeded, epochs=1, seed=0)
    b = fast_generalization_error(split, 10, model_fn=zero_arg, epochs=1, seed=0)
    assert a.table.df.shape == b.table.df.shape
    assert np.isfinite(b.table.df["gen_error_fast"]).all()
    with pytest.raises(ValueError, match="model_fn"):
        fast_generalization_error(split, 10, model_fn=3, epochs=1)
