"""find_label_issues: analytic limits, planted noise, known noise rates, cleanlab, properties, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from samplescope.labels import (
    COUNT_METHODS,
    LABEL_ISSUE_COLUMNS,
    confident_joint,
    count_mixture,
    count_posterior,
    find_label_issues,
    label_issues_from_data,
    label_issues_one_run,
)


def _separable(n_per=40, C=4, k=10, seed=0):
    """Near one-hot probabilities of the true class and ``k`` flipped labels."""
    rng = np.random.default_rng(seed)
    true = np.repeat(np.arange(C), n_per)
    probs = np.full((len(true), C), 0.02 / (C - 1))
    probs[np.arange(len(true)), true] = 0.98
    flipped = rng.choice(len(true), k, replace=False)
    labels = true.copy()
    labels[flipped] = (true[flipped] + rng.integers(1, C, k)) % C
    return labels, probs, true, flipped


def _noisy_blobs(n=3000, C=3, rate=0.2, seed=0):
    """Gaussian blobs, symmetric noise at ``rate``; the exact noisy posterior ``T^T p*(x)``."""
    rng = np.random.default_rng(seed)
    true = rng.integers(0, C, n)
    means = np.eye(C) * 3.0
    x = means[true] + rng.normal(size=(n, C))
    logp = -0.5 * ((x[:, None, :] - means[None]) ** 2).sum(-1)
    pstar = np.exp(logp - logp.max(1, keepdims=True))
    pstar /= pstar.sum(1, keepdims=True)
    T = np.full((C, C), rate / (C - 1))
    np.fill_diagonal(T, 1 - rate)
    labels = np.array([rng.choice(C, p=T[t]) for t in true])
    return labels, pstar @ T, true


@pytest.mark.parametrize("count", ["posterior", "confident_joint"])
def test_separable_probs_flag_exactly_the_flipped(count):
    labels, probs, true, flipped = _separable()
    res = find_label_issues(labels, probs=probs, count=count)
    assert set(np.flatnonzero(res.is_label_issue)) == set(flipped)
    np.testing.assert_array_equal(res.suggested_label[flipped], true[flipped])
    assert res.num_issues == len(flipped) == res.issues_per_class.sum()
    assert (res.label_quality[flipped] < 0.01).all()
    assert (np.delete(res.label_quality, flipped) > 0.99).all()
    np.testing.assert_array_equal(res.ranked()[:10].size, 10)


def test_count_estimators_recover_a_known_noise_rate():
    labels, probs, true = _noisy_blobs()
    n_flipped = int((labels != true).sum())
    for est in (count_posterior(labels, probs, 3).sum(),):
        assert abs(est / n_flipped - 1) < 0.1, (est, n_flipped)
    cj = confident_joint(labels, probs)
    assert abs((len(labels) - np.trace(cj)) / n_flipped - 1) < 0.15
    res = find_label_issues(labels, probs=probs)
    noisy = labels != true
    precision = (res.is_label_issue & noisy).sum() / res.num_issues
    recall = (res.is_label_issue & noisy).sum() / noisy.sum()
    assert precision > 0.7 and recall > 0.7  # chance: 0.2


def test_mixture_count_on_bimodal_scores_and_a_clean_class():
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1], 1000)
    noisy = np.zeros(2000, bool)
    noisy[rng.choice(1000, 150, replace=False)] = True  # 15% of class 0; class 1 clean
    scores = rng.normal(size=2000) + 6.0 * noisy
    counts = count_mixture(labels, scores, 2)
    assert abs(counts[0] / 150 - 1) < 0.1 and counts[1] < 5
    res = find_label_issues(labels, scores=scores)
    assert res.count == "mixture" and res.rank_by == "scores"
    assert (res.is_label_issue & noisy).sum() / noisy.sum() > 0.9
    assert (res.suggested_label[res.is_label_issue] == -1).all()


def test_confident_joint_matches_cleanlab():
    from cleanlab.count import compute_confident_joint

    labels, probs, _ = _noisy_blobs(n=600, seed=3)
    ours = confident_joint(labels, probs, calibrate=False)
    theirs = compute_confident_joint(labels, probs, calibrate=False)
    np.testing.assert_array_equal(ours, theirs)
    cal = compute_confident_joint(labels, probs, calibrate=True)
    assert np.abs(confident_joint(labels, probs) - cal).max() <= 1.0  # cleanlab rounds to ints


def test_planted_noise_on_digits_cross_fitted():
    from samplescope.data import inject_label_noise, load_dataset

    s = load_dataset("digits").train
    y, noisy = inject_label_noise(s.y, 0.2, "symmetric", 10, seed=0)
    out = label_issues_from_data(s.with_labels(y), folds=5, epochs=20)
    res = out.issues
    assert out.oof_logits.shape == (1, len(y), 10)
    tp = (res.is_label_issue & noisy).sum()
    assert tp / res.num_issues > 0.8 and tp / noisy.sum() > 0.8
    assert abs(res.num_issues / noisy.sum() - 1) < 0.2
    flagged = res.is_label_issue & noisy
    assert (res.suggested_label[flagged] == s.y[flagged]).mean() > 0.8  # the clean label back
    ge = label_issues_from_data(
        s.with_labels(y), folds=5, repeats=2, epochs=20, rank_by="gen_error"
    ).issues
    assert ge.rank_by == "scores" and (ge.is_label_issue & noisy).sum() / noisy.sum() > 0.7


def test_one_run_variant_with_a_dynamics_measure():
    from samplescope.data import inject_label_noise, load_dataset

    s = load_dataset("digits").train
    y, noisy = inject_label_noise(s.y, 0.2, "symmetric", 10, seed=1)
    res = label_issues_one_run(s.with_labels(y), rank_by="aum", epochs=4)
    assert res.rank_by == "scores" and res.num_issues > 0
    assert (res.is_label_issue & noisy).sum() / res.num_issues > 0.5  # chance: 0.2
    with pytest.raises(ValueError, match="rank_by: expected one of"):
        label_issues_one_run(s, rank_by="gen_error")


def test_logits_and_repeats_are_averaged_like_probs():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(3, 50, 4))
    y = rng.integers(0, 4, 50)
    p = np.exp(z) / np.exp(z).sum(-1, keepdims=True)
    a = find_label_issues(y, logits=z)
    b = find_label_issues(y, probs=p.mean(0))
    c = find_label_issues(y, probs=p)
    for r in (b, c):
        np.testing.assert_array_equal(a.is_label_issue, r.is_label_issue)
        np.testing.assert_allclose(a.label_quality, r.label_quality)


def test_to_table_columns_and_names():
    labels, probs, true, flipped = _separable(n_per=10, C=3, k=4)
    res = find_label_issues(labels, probs=probs)
    cols = res.to_columns()
    assert tuple(cols) == LABEL_ISSUE_COLUMNS and cols["is_label_issue"].dtype == bool
    t = res.to_table(np.arange(100, 130), true_labels=true, class_names=["a", "b", "c"])
    df = t.df
    assert {"is_label_issue", "label_quality", "suggested_label", "label_name", "is_noisy"} <= set(
        df
    )
    assert df["suggested_label"].dtype == np.int64 and df["is_label_issue"].dtype == bool
    assert (
        df.loc[flipped, "suggested_label_name"] == np.array(["a", "b", "c"])[true[flipped]]
    ).all()
    assert res.summary(["a", "b", "c"])["flagged"].sum() == res.num_issues
    with pytest.raises(ValueError, match="class_names: expected 3 names"):
        res.to_table(class_names=["a"])


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(12, 80),
    C=st.integers(2, 5),
    seed=st.integers(0, 10_000),
    count=st.sampled_from(COUNT_METHODS),
    rank_by=st.sampled_from(["posterior", "margin", "self_confidence"]),
)
def test_properties(n, C, seed, count, rank_by):
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet(np.full(C, 0.5), size=n)
    labels = rng.integers(0, C, n)
    res = find_label_issues(labels, probs=probs, count=count, rank_by=rank_by, num_classes=C)
    assert res.label_quality.min() >= 0 and res.label_quality.max() <= 1
    assert res.num_issues == res.issues_per_class.sum()
    np.testing.assert_array_equal(
        np.bincount(labels[res.is_label_issue], minlength=C), res.issues_per_class
    )
    f = res.is_label_issue
    assert (res.suggested_label[f] != labels[f]).all()
    assert (res.suggested_label[~f] == labels[~f]).all()
    assert ((res.suggested_label >= 0) & (res.suggested_label < C)).all()
    scores_only = find_label_issues(labels, scores=rng.normal(size=n), num_classes=C)
    assert scores_only.num_issues == scores_only.issues_per_class.sum()
    assert scores_only.label_quality.min() >= 0 and scores_only.label_quality.max() <= 1


def test_bad_inputs_name_the_argument():
    y = np.array([0, 1, 2, 1])
    p = np.full((4, 3), 1 / 3)
    cases = [
        (dict(labels=y), "probs: expected probs=, logits= or scores="),
        (dict(labels=y, probs=p, logits=p), "probs: expected probs= or logits=, got both"),
        (dict(labels=y, probs=p[:3]), "probs: expected 4 rows"),
        (dict(labels=y, probs=p * 2), "probs: expected"),
        (dict(labels=y, probs=np.where(p > 0, np.nan, p)), "probs: expected finite"),
        (dict(labels=y, probs=p[:, :1]), "probs: expected"),
        (dict(labels=np.array([0, 1, 5, 1]), probs=p), r"labels: expected labels in \[0, 3\)"),
        (dict(labels=np.array([0.5, 1, 2, 1]), probs=p), "labels: expected integer"),
        (dict(labels=y, logits=np.ones((4, 3, 2, 1))), "logits: expected 2 or 3-D"),
        (dict(labels=y, scores=np.ones(3)), "scores: expected 4 rows"),
        (dict(labels=y, scores={"aum": np.ones(5)}), r"scores\['aum'\]: expected 4 values"),
        (dict(labels=y, scores={}), "scores: expected at least one"),
        (dict(labels=y, scores=np.ones(4), count="posterior"), "count: 'posterior' needs probs"),
        (dict(labels=y, scores=np.ones(4), rank_by="margin"), "rank_by: 'margin' needs probs"),
        (dict(labels=y, probs=p, rank_by="scores"), "rank_by: 'scores' needs scores="),
        (dict(labels=y, probs=p, count="magic"), "count: expected one of"),
        (dict(labels=y, probs=p, num_classes=4), "probs: expected 4 columns"),
    ]
    for kwargs, msg in cases:
        labels = kwargs.pop("labels")
        with pytest.raises(ValueError, match=msg):
            find_label_issues(labels, **kwargs)
