"""generalization_error: cleanlab reference, decomposition identities, planted noise/imbalance, resume."""

from __future__ import annotations

import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import log_softmax
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from samplescope.data import inject_label_noise, make_imbalanced
from samplescope.difficulty import (
    GEN_ERROR_COLUMNS,
    decompose_cross_entropy,
    generalization_error,
    get_measure,
    stratified_fold_ids,
)


def _lr() -> LogisticRegression:
    return LogisticRegression(max_iter=100, tol=1e-3)


def test_matches_cleanlab_oof_probs_and_self_confidence(digits):
    from cleanlab.count import estimate_cv_predicted_probabilities
    from cleanlab.rank import get_label_quality_scores

    s = digits.train.subset(np.arange(600))
    x = s.x.reshape(len(s), -1)
    res = generalization_error(s, 10, folds=5, repeats=1, estimator=_lr(), seed=3, progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = estimate_cv_predicted_probabilities(x, s.y, clf=_lr(), cv_n_folds=5, seed=3)
    np.testing.assert_allclose(res.oof_probs[0], ref, atol=1e-6)
    sc = get_label_quality_scores(s.y, ref, method="self_confidence")
    # higher = harder: oof_loss = -log(self_confidence)
    np.testing.assert_allclose(np.exp(-res.table.column("oof_loss")), sc, atol=1e-6)
    # one repeat: the generalization error is the plain out-of-fold loss, no variance
    np.testing.assert_allclose(res.table.column("gen_error"), res.table.column("oof_loss"))
    np.testing.assert_allclose(res.table.column("gen_variance"), 0.0, atol=1e-12)


def test_every_sample_held_out_once_per_repeat_stratified():
    y = np.repeat(np.arange(4), [40, 30, 20, 10])
    f = stratified_fold_ids(y, 5, 3, seed=0)
    assert f.shape == (3, 100) and set(np.unique(f)) == set(range(5))
    for r in range(3):
        for k in range(5):  # stratified: each fold holds 1/5 of every class
            np.testing.assert_array_equal(np.bincount(y[f[r] == k], minlength=4), [8, 6, 4, 2])
    assert not np.array_equal(f[0], f[1])  # repeats use different splits


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 5), st.integers(1, 6), st.integers(2, 5), st.integers(0, 10_000))
def test_decomposition_identity(R, N, C, seed):
    rng = np.random.default_rng(seed)
    lp = log_softmax(rng.normal(scale=3, size=(R, N, C)), axis=2)
    y = rng.integers(0, C, N)
    d = decompose_cross_entropy(lp, y)
    np.testing.assert_allclose(
        d["gen_bias"] + d["gen_variance"], d["gen_error"], rtol=1e-10, atol=1e-10
    )
    assert (d["gen_variance"] >= 0).all() and (d["gen_bias"] >= 0).all()
    # variance = mean_r KL(p_bar || p_r), computed directly
    m = lp.mean(0)
    lpbar = m - np.log(np.exp(m).sum(1, keepdims=True))
    kl = (np.exp(lpbar)[None] * (lpbar[None] - lp)).sum(2).mean(0)
    np.testing.assert_allclose(d["gen_variance"], kl, atol=1e-10)
    np.testing.assert_allclose(d["gen_error"], -lp[:, np.arange(N), y].mean(0))


W = np.random.default_rng(0).normal(size=(64, 10))


def fixed_fold(train, heldout, seed, config):
    """Ignores the training data: every repeat gives the same prediction (zero variance)."""
    return heldout.x.reshape(len(heldout), -1) @ W


def seeded_fold(train, heldout, seed, config):
    return heldout.x.reshape(len(heldout), -1) @ W + np.random.default_rng(seed).normal(
        size=(len(heldout), 10)
    )


def test_analytic_limit_identical_models_have_zero_variance(digits):
    res = generalization_error(
        digits.train, 10, folds=3, repeats=4, fold_fn=fixed_fold, progress=False
    )
    t = res.table
    np.testing.assert_allclose(t.column("gen_variance"), 0.0, atol=1e-9)
    np.testing.assert_allclose(t.column("margin_var"), 0.0, atol=1e-9)
    np.testing.assert_allclose(t.column("gen_bias"), t.column("gen_error"), atol=1e-9)
    np.testing.assert_allclose(t.column("gen_error_eq6"), np.exp(t.column("margin_mean")))
    z = digits.train.x.reshape(len(digits.train), -1) @ W
    np.testing.assert_allclose(t.column("gen_error"), get_measure("loss").fn(z, digits.train.y))
    np.testing.assert_allclose(t.column("margin_mean"), get_measure("margin").fn(z, digits.train.y))
    assert set(GEN_ERROR_COLUMNS) <= set(t.measures)


def test_variance_grows_with_disagreement_and_eq6(digits):
    res = generalization_error(
        digits.train, 10, folds=3, repeats=5, fold_fn=seeded_fold, progress=False
    )
    t = res.table
    assert t.column("gen_variance").min() > 0
    np.testing.assert_allclose(
        t.column("gen_bias") + t.column("gen_variance"), t.column("gen_error")
    )
    nm = -(
        res.oof_logits[:, np.arange(len(digits.train)), digits.train.y]
        - np.max(
            np.where(np.eye(10, dtype=bool)[digits.train.y][None], -np.inf, res.oof_logits), axis=2
        )
    )
    np.testing.assert_allclose(t.column("margin_var"), nm.var(0, ddof=1))
    np.testing.assert_allclose(
        t.column("gen_error_eq6"), np.exp(nm.mean(0) + nm.var(0, ddof=1) / 2)
    )


def test_planted_flipped_labels_rank_hardest(digits):
    s = digits.train.subset(np.arange(800))
    y_noisy, noisy = inject_label_noise(s.y, 0.1, "symmetric", 10, seed=1)
    res = generalization_error(
        s.with_labels(y_noisy), 10, folds=4, repeats=1, estimator=_lr(), progress=False
    )
    for col in ("gen_error", "gen_bias", "oof_loss"):
        assert roc_auc_score(noisy, res.table.column(col)) > 0.95
    assert res.table.df["is_noisy"].sum() == noisy.sum()


def test_planted_rare_class_is_harder(digits):
    s = digits.train
    keep = make_imbalanced(s.y, 10.0, "exponential", seed=0)
    sub = s.subset(keep)
    res = generalization_error(
        sub,
        10,
        folds=3,
        repeats=2,
        estimator=LogisticRegression(max_iter=60, C=0.05),
        progress=False,
    )
    err = res.table.column("gen_error")
    per_class = np.array([err[sub.y == c].mean() for c in range(10)])
    assert per_class[7:].mean() > per_class[:3].mean()  # tail classes 7-9 vs head classes 0-2


def test_torch_path_and_executor_equal(digits):
    s = digits.train.subset(np.arange(200))
    kw = dict(folds=2, repeats=1, epochs=1, batch_size=64, progress=False, seed=5)
    a = generalization_error(s, 10, **kw)
    with ThreadPoolExecutor(2) as ex:
        b = generalization_error(s, 10, executor=ex, **kw)
    np.testing.assert_allclose(a.oof_logits, b.oof_logits, atol=1e-5)
    assert a.oof_probs.shape == (1, 200, 10)
    np.testing.assert_allclose(a.oof_probs.sum(2), 1.0)


CALLS: list[int] = []


def counting_fold(train, heldout, seed, config):
    CALLS.append(seed)
    return fixed_fold(train, heldout, seed, config)


def test_checkpoint_resume(digits, tmp_path):
    s = digits.train
    CALLS.clear()
    a = generalization_error(
        s, 10, folds=3, repeats=2, fold_fn=counting_fold, checkpoint_dir=tmp_path, progress=False
    )
    assert len(CALLS) == 6
    (tmp_path / "fit_r1_k2.npy").unlink()  # as if killed before the last fit finished
    CALLS.clear()
    b = generalization_error(
        s, 10, folds=3, repeats=2, fold_fn=counting_fold, checkpoint_dir=tmp_path, progress=False
    )
    assert len(CALLS) == 1
    np.testing.assert_array_equal(a.oof_logits, b.oof_logits)
    with pytest.raises(ValueError, match="checkpoint_dir"):
        generalization_error(
            s,
            10,
            folds=4,
            repeats=2,
            fold_fn=counting_fold,
            checkpoint_dir=tmp_path,
            progress=False,
        )


def bad_shape_fold(train, heldout, seed, config):
    return np.zeros((len(heldout), 3))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(folds=1), "folds"),
        (dict(folds=2.5), "folds"),
        (dict(repeats=0), "repeats"),
        (dict(estimator=object()), "estimator"),
        (dict(estimator=LogisticRegression(), model_fn=lambda s: None), "estimator"),
        (dict(model_fn=3), "model_fn"),
        (dict(epochs=0), "epochs"),
        (dict(fold_fn=bad_shape_fold), "fold_fn"),
        (dict(folds=500), "folds"),
    ],
)
def test_bad_input(digits, kwargs, match):
    with pytest.raises(ValueError, match=match):
        generalization_error(digits.train, 10, progress=False, **kwargs)


def test_bad_data_and_classes():
    x = np.zeros((20, 3), np.float32)
    with pytest.raises(ValueError, match="num_classes"):
        generalization_error((x, np.zeros(20, int)), 1)
    with pytest.raises(ValueError, match="labels"):
        generalization_error((x, np.full(20, 5)), 3)
    with pytest.raises(ValueError, match="data"):
        generalization_error("nope", 3)


@pytest.mark.slow
def test_process_executor_equals_inprocess(digits):
    s = digits.train.subset(np.arange(200))
    kw = dict(folds=2, repeats=2, epochs=1, batch_size=64, progress=False, seed=1)
    a = generalization_error(s, 10, **kw)
    b = generalization_error(s, 10, executor="process", **kw)
    np.testing.assert_allclose(a.oof_logits, b.oof_logits, atol=1e-5)
    np.testing.assert_allclose(a.table.column("gen_error"), b.table.column("gen_error"), atol=1e-5)


def test_fold_tasks_carry_positions_and_the_split_travels_once(digits):
    """Executor tasks hold row positions; the data goes through run_tasks(common=) once
    (on Dask: scattered to every worker instead of embedded in every task)."""
    from samplescope.data.split import DataSplit
    from samplescope.executors import InProcessExecutor

    class Recording(InProcessExecutor):
        def __init__(self):
            self.shared, self.task_args = [], []

        def share(self, obj):
            self.shared.append(obj)
            return obj

        def submit(self, fn, /, *args, **kwargs):
            self.task_args.append(args[1:])  # args[0] is the shared split
            return super().submit(fn, *args, **kwargs)

    s = digits.train.subset(np.arange(240))
    kw = dict(folds=3, repeats=2, epochs=1, batch_size=64, progress=False, seed=2)
    ref = generalization_error(s, 10, vectorize=False, **kw)
    ex = Recording()
    got = generalization_error(s, 10, vectorize=False, executor=ex, **kw)
    np.testing.assert_array_equal(ref.oof_logits, got.oof_logits)
    assert len(ex.shared) == 1 and ex.shared[0] is s
    assert len(ex.task_args) == 6
    for args in ex.task_args:
        assert not any(isinstance(a, DataSplit) for a in args)
