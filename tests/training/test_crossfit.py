"""The cross-fitting engine: folds and seeds as documented, stacked = one by one, fused within
1e-5 of exact on the benchmark workload, group checkpoints survive a kill, models on request,
executors give the same logits, bad input is a ValueError."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

import samplescope.training.cross_fitting as cf
from samplescope.data import load_dataset
from samplescope.models import mlp
from samplescope.training import FoldConfig, crossfit, fit_seed, fold_assignments, predict_logits


@pytest.fixture(scope="module")
def small():
    return load_dataset("digits").train.subset(np.arange(360))


def _mlp(seed: int) -> torch.nn.Module:
    return mlp((1, 8, 8), 10, (24,))


CONFIG = FoldConfig(10, epochs=2, batch_size=64, model_fn=_mlp)


def test_folds_and_seed_scheme(small):
    fid = fold_assignments(small.y, 4, 3, seed=7)
    assert fid.shape == (3, len(small))
    for r in range(3):  # repeat r is sklearn's StratifiedKFold(random_state=seed + r)
        skf = StratifiedKFold(4, shuffle=True, random_state=7 + r)
        for k, (_, held) in enumerate(skf.split(small.y, small.y)):
            np.testing.assert_array_equal(np.flatnonzero(fid[r] == k), np.sort(held))
    assert not np.array_equal(fid[0], fid[1])
    assert fit_seed(7, 2, 1, 4) == 7 * 10007 + 2 * 4 + 1
    res = crossfit(small, CONFIG, folds=4, repeats=2, seed=7)
    np.testing.assert_array_equal(res.fold_ids, fid[:2])
    assert res.seeds.tolist() == [[fit_seed(7, r, k, 4) for k in range(4)] for r in range(2)]
    assert res.oof_logits.shape == (2, len(small), 10)
    np.testing.assert_allclose(res.oof_probs.sum(-1), 1.0, atol=1e-9)


def test_stacked_exact_equals_one_by_one_and_fused_is_close(small):
    seq = crossfit(small, CONFIG, folds=3, repeats=2, seed=1, vectorize=False)
    exact = crossfit(small, CONFIG, folds=3, repeats=2, seed=1, vectorize=True, exact=True)
    fused = crossfit(small, CONFIG, folds=3, repeats=2, seed=1)
    np.testing.assert_allclose(exact.oof_logits, seq.oof_logits, rtol=0, atol=1e-5)
    np.testing.assert_allclose(fused.oof_probs, exact.oof_probs, rtol=0, atol=1e-5)
    # each out-of-fold row comes from the model that did not see it: re-fit one by hand
    from samplescope.training import fit

    r, k = 1, 2
    train = small.subset(np.flatnonzero(seq.fold_ids[r] != k))
    held = small.subset(np.flatnonzero(seq.fold_ids[r] == k))
    net = CONFIG.build(tuple(small.x.shape[1:]), int(seq.seeds[r, k]))
    fit(net, train, epochs=2, batch_size=64, seed=int(seq.seeds[r, k]), progress=False)
    np.testing.assert_allclose(predict_logits(net, held), seq.oof_logits[r, seq.fold_ids[r] == k])


def test_fused_default_within_1e5_on_the_benchmark_workload():
    """digits, K = 5, E = 5, default MLP (benchmarks/kfold_vs_cleanlab.py's workload)."""
    ds = load_dataset("digits").train
    cfg = FoldConfig(10, epochs=5, batch_size=128)
    exact = crossfit(ds, cfg, folds=5, exact=True, vectorize=True)
    fused = crossfit(ds, cfg, folds=5)
    assert np.abs(fused.oof_probs - exact.oof_probs).max() < 1e-5


class _KilledError(RuntimeError):
    pass


def test_stacked_groups_checkpoint_and_resume_after_a_kill(small, tmp_path, monkeypatch):
    reference = crossfit(small, CONFIG, folds=3, repeats=3, seed=2)
    real, calls = cf._stacked_group_task, []

    def dies_in_second_group(*args, **kwargs):
        calls.append(len(args[2]))
        if len(calls) == 2:
            raise _KilledError("killed")
        return real(*args, **kwargs)

    monkeypatch.setattr(cf, "_stacked_group_task", dies_in_second_group)
    with pytest.raises(_KilledError):
        crossfit(small, CONFIG, folds=3, repeats=3, seed=2, checkpoint_dir=tmp_path)
    saved = sorted(p.name for p in tmp_path.glob("fit_*.npy"))
    assert saved == ["fit_r0_k0.npy", "fit_r0_k1.npy", "fit_r0_k2.npy"]  # one group of K fits
    calls.clear()
    monkeypatch.setattr(
        cf, "_stacked_group_task", lambda *a, **k: (calls.append(len(a[2])), real(*a, **k))[1]
    )
    resumed = crossfit(small, CONFIG, folds=3, repeats=3, seed=2, checkpoint_dir=tmp_path)
    assert calls == [3, 3]  # only the two unfinished repeats were trained
    assert len(list(tmp_path.glob("fit_*.npy"))) == 9
    # stacking 3 or 9 models at once trains each the same way
    np.testing.assert_allclose(resumed.oof_logits, reference.oof_logits, rtol=0, atol=1e-6)
    with pytest.raises(ValueError, match="checkpoint_dir: .* different run"):
        crossfit(small, CONFIG, folds=3, repeats=3, seed=3, checkpoint_dir=tmp_path)


@pytest.mark.parametrize("vectorize", [True, False])
def test_models_on_request_predict_their_oof_rows(small, tmp_path, vectorize):
    res = crossfit(
        small,
        CONFIG,
        folds=3,
        repeats=1,
        vectorize=vectorize,
        return_models=True,
        checkpoint_dir=tmp_path,
    )
    for k in range(3):
        held = res.fold_ids[0] == k
        np.testing.assert_allclose(
            predict_logits(res.models[0][k], small.x[held]), res.oof_logits[0, held], atol=1e-5
        )
    again = crossfit(
        small,
        CONFIG,
        folds=3,
        repeats=1,
        vectorize=vectorize,
        return_models=True,
        checkpoint_dir=tmp_path,
    )  # every fit comes back from the checkpoints, models included
    for k in range(3):
        for a, b in zip(
            again.models[0][k].parameters(), res.models[0][k].parameters(), strict=True
        ):
            torch.testing.assert_close(a, b)


def test_sklearn_estimator_and_models(small):
    cfg = FoldConfig(10, estimator=LogisticRegression(max_iter=200))
    res = crossfit(small, cfg, folds=3, return_models=True)
    assert hasattr(res.models[0][0], "coef_")
    held = res.fold_ids[0] == 0
    p = res.models[0][0].predict_proba(small.x[held].reshape(held.sum(), -1))
    np.testing.assert_allclose(res.oof_probs[0, held], p, atol=1e-6)


def test_process_pool_equals_in_process(small):
    a = crossfit(small, CONFIG, folds=3, repeats=2, seed=4)
    b = crossfit(small, CONFIG, folds=3, repeats=2, seed=4, executor="process", workers=2)
    np.testing.assert_allclose(a.oof_logits, b.oof_logits, rtol=0, atol=1e-6)
    c = crossfit(
        small, CONFIG, folds=3, repeats=2, seed=4, vectorize=False, executor="process", workers=2
    )
    np.testing.assert_allclose(a.oof_logits, c.oof_logits, rtol=0, atol=1e-5)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(folds=1), "folds: expected an integer >= 2"),
        (dict(repeats=0), "repeats: expected an integer >= 1"),
        (dict(folds=500), "folds: expected at most"),
        (dict(group_size=0), "group_size"),
        (dict(vectorize="yes"), "vectorize: expected"),
        (dict(precision="fp16"), "precision: expected one of"),
        (dict(fold_fn=functools.partial(print), return_models=True), "return_models"),
    ],
)
def test_bad_inputs(small, kwargs, match):
    with pytest.raises(ValueError, match=match):
        crossfit(small, CONFIG, **kwargs)
    with pytest.raises(ValueError, match="num_classes"):
        crossfit(small, FoldConfig(1))
