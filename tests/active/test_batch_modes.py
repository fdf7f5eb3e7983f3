"""Batch modes against hand computations: stochastic acquisition, BADGE, k-means++, TypiClust."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from samplescope.active import (
    BatchContext,
    badge_embeddings,
    kmeans_pp,
    list_batch_modes,
    sampling_distribution,
    select_batch,
    stochastic_batch,
    typicality,
    typiclust,
)


def test_sampling_distributions_by_hand():
    s = np.array([1.0, 2.0, 3.0, 4.0])
    np.testing.assert_allclose(sampling_distribution(s, "power", 2.0), s**2 / 30.0)
    e = np.exp(0.5 * s)
    np.testing.assert_allclose(sampling_distribution(s, "softmax", 0.5), e / e.sum())
    # ranks of [1, 2, 3, 4] are [4, 3, 2, 1]; p ∝ r^-1
    r = 1.0 / np.array([4.0, 3.0, 2.0, 1.0])
    np.testing.assert_allclose(sampling_distribution(s, "softrank", 1.0), r / r.sum())
    # β = 0: uniform
    np.testing.assert_allclose(sampling_distribution(s, "power", 0.0), np.full(4, 0.25))


def test_power_acquisition_samples_its_distribution():
    """First pick ~ p exactly; the pair {i, j} of a k = 2 draw has probability
    p_i p_j / (1 - p_i) + p_j p_i / (1 - p_j) (sequential sampling without replacement)."""
    s = np.array([0.1, 0.5, 1.0, 2.0])
    p = sampling_distribution(s, "power", 1.0)
    m = 6000
    first = np.zeros(4)
    pairs = np.zeros((4, 4))
    for seed in range(m):
        a, b = stochastic_batch(s, 2, mode="power", seed=seed)
        first[a] += 1
        pairs[min(a, b), max(a, b)] += 1
    sd = np.sqrt(p * (1 - p) / m)
    assert np.all(np.abs(first / m - p) < 4.5 * sd + 1e-3)
    exp = np.array(
        [[p[i] * p[j] / (1 - p[i]) + p[j] * p[i] / (1 - p[j]) for j in range(4)] for i in range(4)]
    )
    iu = np.triu_indices(4, 1)
    sd2 = np.sqrt(exp[iu] * (1 - exp[iu]) / m)
    assert np.all(np.abs(pairs[iu] / m - exp[iu]) < 4.5 * sd2 + 1e-3)


def test_power_never_draws_zero_scores_while_positive_ones_remain_and_large_beta_is_topk():
    s = np.array([0.0, 0.3, 0.0, 0.9, 0.5])
    for seed in range(50):
        got = stochastic_batch(s, 3, mode="power", seed=seed)
        assert set(got) == {1, 3, 4}
        assert len(stochastic_batch(s, 5, mode="power", seed=seed)) == 5
    np.testing.assert_array_equal(stochastic_batch(s, 2, mode="softmax", beta=1e4), [3, 4])
    with pytest.raises(ValueError, match="scores"):
        stochastic_batch(np.array([-1.0, 1.0]), 1, mode="power")
    with pytest.raises(ValueError, match="mode"):
        stochastic_batch(s, 1, mode="gumbel")


def test_badge_embedding_is_the_last_layer_gradient_of_a_linear_head():
    torch.manual_seed(0)
    d, c = 5, 3
    head = nn.Linear(d, c)
    x = torch.randn(7, d)
    logits = head(x)
    p = logits.softmax(1).detach().numpy().astype(np.float64)
    got = badge_embeddings(p, x.numpy())
    for i in range(len(x)):
        head.zero_grad()
        yhat = int(logits[i].argmax())
        loss = nn.functional.cross_entropy(head(x[i : i + 1]), torch.tensor([yhat]))
        loss.backward()
        np.testing.assert_allclose(got[i], head.weight.grad.numpy().ravel(), atol=1e-5)


def test_kmeans_pp_first_is_largest_norm_then_one_per_far_cluster():
    rng = np.random.default_rng(0)
    centres = np.array([[100.0, 0], [0, 100.0], [-100.0, -100.0]])
    g = np.concatenate([c + 0.01 * rng.normal(size=(20, 2)) for c in centres])
    for seed in range(10):
        got = kmeans_pp(g, 3, seed=seed)
        assert got[0] == int(np.argmax((g**2).sum(1)))
        assert sorted(got // 20) == [0, 1, 2]
    # duplicates: once every distinct point is taken, the rest are filled, none repeated
    dup = np.repeat(np.eye(2), 3, axis=0)
    got = kmeans_pp(dup, 4, seed=0)
    assert len(set(got)) == 4 and {int(v) // 3 for v in got[:2]} == {0, 1}


def test_typicality_by_hand_and_typiclust_picks_cluster_centres():
    f = np.array([[0.0], [1.0], [3.0]])
    # K = 1: nearest-neighbour distances 1, 1, 2
    np.testing.assert_allclose(typicality(f, knn=1), [1.0, 1.0, 0.5])
    rng = np.random.default_rng(1)
    centres = np.array([[0.0, 0.0], [20.0, 0.0], [0.0, 20.0]])
    blobs = [c + rng.normal(size=(60, 2)) for c in centres]
    f = np.concatenate(blobs)
    got = typiclust(f, 3, seed=0)
    assert sorted(got // 60) == [0, 1, 2]
    for i in got:  # the most typical member sits near its blob's centre
        assert np.linalg.norm(f[i] - centres[i // 60]) < 0.8
    # with blob 0 labelled, a one-point batch comes from another blob
    lab = np.zeros(len(f), bool)
    lab[:3] = True
    one = typiclust(f, 1, labelled=lab, seed=0)
    assert one[0] >= 60


def test_registry_holds_every_batch_mode_and_refuses_unknown():
    assert {
        "topk",
        "batchbald",
        "diverse",
        "power",
        "softmax",
        "softrank",
        "badge",
        "typiclust",
    } <= set(list_batch_modes())
    ctx = BatchContext(scores=np.array([0.1, 0.9, 0.5]), k=2, seed=0)
    np.testing.assert_array_equal(select_batch("topk", ctx), [1, 2])
    with pytest.raises(ValueError, match="batch_mode"):
        select_batch("nope", ctx)
    with pytest.raises(ValueError, match="badge"):
        select_batch("badge", ctx)
