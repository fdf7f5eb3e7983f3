"""BatchBALD, diversity penalty, label filter, k-means initial set, Bayesian last layer."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from samplescope.active import (
    BayesianLastLayer,
    LabelFilter,
    acquisition_scores,
    batch_bald,
    diverse_top_k,
    dynamic_tau,
    joint_entropy_exact,
    kmeans_initial_set,
    top_k,
)


def _probs(s=8, n=12, c=3, seed=0):
    return np.random.default_rng(seed).dirichlet(np.full(c, 0.4), size=(s, n))


def test_joint_entropy_matches_brute_force():
    p = _probs(s=5, n=3, c=3)
    h = 0.0
    for cfg in itertools.product(range(3), repeat=3):
        pj = np.mean([np.prod([p[s, i, cfg[i]] for i in range(3)]) for s in range(5)])
        h -= pj * np.log(pj)
    assert joint_entropy_exact(p) == pytest.approx(h)


def test_batchbald_first_pick_is_bald_and_values_are_joint_mi():
    p = _probs()
    pos, vals = batch_bald(p, 3)
    assert pos[0] == int(np.argmax(acquisition_scores("bald", p)))
    assert len(set(pos.tolist())) == 3
    cond = -(p * np.log(p)).sum(-1).mean(0)
    for k in range(1, 4):
        mi = joint_entropy_exact(p[:, pos[:k]]) - cond[pos[:k]].sum()
        assert vals[k - 1] == pytest.approx(mi, rel=1e-6)
    assert np.all(np.diff(vals) >= -1e-9)  # joint MI grows with the batch


def test_batchbald_avoids_duplicates_and_sampled_estimate_is_close():
    p = _probs(s=10, n=6, c=4, seed=2)
    best = int(np.argmax(acquisition_scores("bald", p)))
    dup = np.concatenate([p, p[:, [best]]], axis=1)  # an exact copy of the best point
    pos, _ = batch_bald(dup, 2)
    assert set(pos.tolist()) != {best, 6}  # the copy adds no information
    exact_pos, exact_vals = batch_bald(p, 4)
    mc_pos, mc_vals = batch_bald(p, 4, max_configs=1, num_samples=20000, seed=0)
    assert mc_vals[-1] == pytest.approx(exact_vals[-1], rel=0.05)
    with pytest.raises(ValueError, match="k"):
        batch_bald(p, 0)


def test_diversity_penalty():
    scores = np.array([1.0, 0.99, 0.98, 0.5])
    feats = np.array([[1.0, 0.0], [1.0, 0.01], [0.0, 1.0], [0.7, 0.7]])
    np.testing.assert_array_equal(diverse_top_k(scores, feats, 2, 0.0), top_k(scores, 2))
    assert diverse_top_k(scores, feats, 2, 1.0).tolist() == [0, 2]  # skips the near-copy 1
    assert diverse_top_k(scores, feats, 2, -1.0).tolist() == [0, 1]  # λ < 0 prefers it
    with pytest.raises(ValueError, match="features"):
        diverse_top_k(scores, feats[:3], 2, 1.0)


def test_label_filter_fixed_and_dynamic():
    p = np.array([[0.7, 0.2, 0.1], [0.05, 0.9, 0.05], [0.3, 0.3, 0.4]])
    f = LabelFilter(tau=0.25)
    np.testing.assert_array_equal(f.keep(p, [0, 0, 2]), [True, False, True])
    np.testing.assert_array_equal(f.keep(p, [1, 1, 1]), [False, True, True])
    assert f.rejections == [1, 1]
    uniform = np.full((4, 10), 0.1)  # C = 10: chance level 0.1 < tau_max
    assert dynamic_tau(uniform, 0.25) == pytest.approx(0.1)
    onehot = np.eye(10)[[0, 1, 2, 0]] * (1 - 1e-6) + 1e-7
    assert dynamic_tau(onehot, 0.25) == pytest.approx(0.25, abs=1e-3)
    d = LabelFilter(tau="dynamic")
    assert d.threshold(uniform) < d.threshold(onehot)
    with pytest.raises(ValueError, match="tau"):
        LabelFilter(tau="sometimes")
    with pytest.raises(ValueError, match="tau"):
        LabelFilter(tau=1.5)


def test_kmeans_initial_set_picks_one_per_planted_mode():
    rng = np.random.default_rng(0)
    centres = {0: [(0, 0), (10, 0)], 1: [(0, 10), (10, 10)]}
    feats, labels = [], []
    for c, cs in centres.items():
        for cx, cy in cs:
            feats.append(rng.normal((cx, cy), 0.3, size=(30, 2)))
            labels += [c] * 30
    feats = np.concatenate(feats)
    ids = np.arange(len(feats)) + 100
    chosen = kmeans_initial_set(ids, labels, feats, 2, seed=0)
    assert len(chosen) == 4
    pts = feats[chosen - 100]
    # one point in every planted mode, close to its centre
    modes = sorted(tuple(np.round(pt / 10).astype(int)) for pt in pts)
    assert modes == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert np.abs(pts - np.round(pts / 10) * 10).max() < 0.6


def test_bayesian_last_layer_against_ridge_and_mfvi_limits():
    from sklearn.linear_model import Ridge

    rng = np.random.default_rng(0)
    phi = rng.normal(size=(60, 5))
    y = rng.integers(0, 3, size=60)
    bll = BayesianLastLayer("analytic", noise_var=0.2, prior_var=2.0, bias=False).fit(
        phi, y, num_classes=3
    )
    ridge = Ridge(alpha=0.2 / 2.0, fit_intercept=False).fit(phi, np.eye(3)[y])
    np.testing.assert_allclose(bll.mean_, ridge.coef_.T, atol=1e-8)
    x = rng.normal(size=(7, 5))
    _, var_a = bll.predict(x)
    direct = 0.2 + np.einsum(
        "nd,de,ne->n", x, np.linalg.inv(phi.T @ phi / 0.2 + np.eye(5) / 2.0), x
    )
    np.testing.assert_allclose(var_a[:, 0], direct)
    np.testing.assert_allclose(bll.predictive_trace(x), 3 * direct)
    mf = BayesianLastLayer("mfvi", noise_var=0.2, prior_var=2.0, bias=False).fit(
        phi, y, num_classes=3
    )
    np.testing.assert_allclose(mf.mean_, bll.mean_)  # mean-field recovers the Gaussian mean
    prec = phi.T @ phi / 0.2 + np.eye(5) / 2.0
    np.testing.assert_allclose(mf.weight_var_[:, 0], 1 / np.diag(prec))
    assert np.all(
        np.diag(np.linalg.inv(prec)) >= mf.weight_var_[:, 0] - 1e-12
    )  # MF under-estimates
    # more data -> smaller epistemic variance; rmse by hand
    big = BayesianLastLayer("analytic", noise_var=0.2, prior_var=2.0, bias=False).fit(
        np.vstack([phi, phi]), np.concatenate([y, y]), num_classes=3
    )
    assert np.all(big.predictive_trace(x) < bll.predictive_trace(x))
    mean, _ = bll.predict(phi)
    assert bll.rmse(phi, y) == pytest.approx(np.sqrt(np.mean((np.eye(3)[y] - mean) ** 2)))
    with pytest.raises(ValueError, match="fit"):
        BayesianLastLayer().predict(x)
    with pytest.raises(ValueError, match="method"):
        BayesianLastLayer("laplace")
