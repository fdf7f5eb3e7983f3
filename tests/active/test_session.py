"""ActiveLearner query/teach: scikit-learn and torch models, unlabelled pools, save/load."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from samplescope.active import ActiveLearner, MCDropoutLearner, SklearnLearner
from samplescope.data.split import DataSplit


def _blobs(n=300, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(3, size=n)
    centres = np.array([[0.0, 0.0], [4.0, 0.0], [0.0, 4.0]])
    x = (centres[y] + rng.normal(size=(n, 2))).astype(np.float32)
    return x, y


def test_query_teach_round_trip_with_sklearn_on_an_unlabelled_pool(tmp_path):
    from sklearn.linear_model import LogisticRegression

    x, truth = _blobs()  # the learner only ever sees x; truth plays the person answering
    ids = np.arange(1000, 1000 + len(x))  # ids of the pool rows, not positions
    learner = ActiveLearner(
        SklearnLearner(LogisticRegression(max_iter=200), committee=4),
        x,
        sample_ids=ids,
        acquisition="bald",
        batch_mode="power",
        seed=3,
    )
    asked: list[int] = []
    for step in range(4):
        q = learner.query(10)
        assert len(q) == 10 and not set(q) & set(asked) and set(q) <= set(ids)
        asked += q.tolist()
        learner.teach(q, truth[q - 1000])
        assert learner.pending == [] and learner.pool.n_labelled == 10 * (step + 1)
        if step == 1:
            learner.save(tmp_path / "state.npz")
    # a reloaded learner continues exactly as the original did after the save
    again = ActiveLearner(
        SklearnLearner(LogisticRegression(max_iter=200), committee=4),
        x,
        sample_ids=ids,
        acquisition="bald",
        batch_mode="power",
        seed=3,
    ).load(tmp_path / "state.npz")
    q2 = again.query(10)
    np.testing.assert_array_equal(q2, asked[20:30])
    # no test set was needed; one is optional
    acc = learner.evaluate(DataSplit(x, truth, ids))["accuracy"]
    assert acc > 0.85
    assert learner.predict_proba(x[:5]).shape == (5, 3)


def test_plain_estimator_is_wrapped_and_bald_needs_several_members():
    from sklearn.linear_model import LogisticRegression

    x, truth = _blobs(120)
    learner = ActiveLearner(LogisticRegression(max_iter=200), x, acquisition="entropy", seed=0)
    q = learner.query(12)
    learner.teach(q, truth[q])
    assert len(learner.query(5)) == 5  # entropy works with S = 1
    bald = ActiveLearner(LogisticRegression(max_iter=200), x, acquisition="bald", seed=0)
    q = bald.query(12)
    bald.teach(q, truth[q])
    with pytest.raises(ValueError, match="several predictive samples"):
        bald.query(5)
    # an ensemble of different classifiers gives S = 2
    from sklearn.naive_bayes import GaussianNB

    ens = SklearnLearner([LogisticRegression(max_iter=200), GaussianNB()])
    ens.fit(DataSplit(x, truth, np.arange(len(x))), 0)
    assert ens.probs(DataSplit(x, truth, np.arange(len(x)))).shape == (2, len(x), 3)


def test_teach_refuses_bad_input():
    from sklearn.linear_model import LogisticRegression

    x, truth = _blobs(50)
    learner = ActiveLearner(LogisticRegression(), x, num_classes=3)
    q = learner.query(5)
    with pytest.raises(ValueError, match="labels"):
        learner.teach(q, [0, 1])
    with pytest.raises(ValueError, match="labels"):
        learner.teach(q, [0, 1, 2, 3, 0])
    learner.teach(q, truth[q])
    with pytest.raises(ValueError, match="ids"):
        learner.teach(q[:1], [0])  # already labelled
    with pytest.raises(ValueError, match="ids"):
        learner.teach([999], [0])  # not in the pool
    with pytest.raises(ValueError, match="batch_mode"):
        ActiveLearner(LogisticRegression(), x, batch_mode="nope")
    with pytest.raises(ValueError, match="model"):
        ActiveLearner(3, x)


class _Fixed:
    """A cheap model: probabilities from a fixed random map of the inputs."""

    def fit(self, train, seed):
        self.n = len(train)
        return self

    def probs(self, split, seed=0, *, consistent_masks=False):
        rng = np.random.default_rng(seed)
        z = split.x[:, :1] * rng.normal(size=(3, 1, 3)) + rng.normal(size=(3, 1, 3))
        e = np.exp(z - z.max(-1, keepdims=True))
        return e / e.sum(-1, keepdims=True)


@settings(max_examples=40, deadline=None)
@given(
    ops=st.lists(
        st.tuples(st.integers(1, 9), st.floats(0, 1), st.booleans(), st.booleans()), max_size=12
    ),
    mode=st.sampled_from(["topk", "power", "softrank", "typiclust", "badge"]),
)
def test_ids_never_repeat_or_get_lost(tmp_path_factory, ops, mode):
    x = np.random.default_rng(0).normal(size=(40, 2)).astype(np.float32)
    model = _Fixed()
    if mode == "badge":
        model.embeddings = lambda split: np.c_[split.x, split.x**2]
    learner = ActiveLearner(model, x, sample_ids=np.arange(40) * 7, batch_mode=mode, seed=1)
    queried: list[int] = []
    path = tmp_path_factory.mktemp("s") / "state.npz"
    for n, frac, reject, reload in ops:
        q = learner.query(n)
        assert len(set(q)) == len(q) and not set(q) & set(queried)
        queried += q.tolist()
        cut = int(round(frac * len(q)))
        learner.teach(q[:cut], np.zeros(cut, dtype=np.int64))
        if reject:
            learner.reject(q[cut:], np.zeros(len(q) - cut, dtype=np.int64))
        if reload:
            learner.save(path)
            learner = ActiveLearner(
                model, x, sample_ids=np.arange(40) * 7, batch_mode=mode, seed=1
            ).load(path)
        pool = learner.pool
        lab, unl, rej = set(pool.labelled_ids), set(pool.unlabelled_ids), set(pool.rejected_ids)
        assert lab | unl | rej == set(range(0, 280, 7)) and len(lab) + len(unl) + len(rej) == 40
        assert set(learner.pending) <= unl
        assert set(queried) == lab | rej | set(learner.pending)


class _BNNet(nn.Module):
    """A non-Sequential CNN with BatchNorm and dropout (issue 17's case)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.drop = nn.Dropout(0.3)
        self.fc = nn.Linear(4 * 4 * 4, 16)
        self.head = nn.Linear(16, 3)

    def forward(self, x):
        h = nn.functional.max_pool2d(torch.relu(self.bn(self.conv(x))), 2)
        h = self.drop(torch.relu(self.fc(h.flatten(1))))
        return self.head(h)


@pytest.mark.parametrize("mode", ["topk", "badge", "batchbald"])
def test_non_sequential_cnn_with_batchnorm_through_an_active_step(mode):
    rng = np.random.default_rng(0)
    y = rng.integers(3, size=90)
    x = rng.normal(size=(90, 1, 8, 8)).astype(np.float32) * 0.3
    x[:, 0, y * 2, :] += 1.0  # class = which row is bright
    learner = MCDropoutLearner(_BNNet, updates=30, batch_size=16, lr=1e-2, mc_samples=5)
    al = ActiveLearner(learner, x, acquisition="bald", batch_mode=mode, seed=0)
    q = al.query(12)
    al.teach(q, y[q])
    q2 = al.query(6)
    assert len(q2) == 6 and not set(q2) & set(q)
    assert learner.features(DataSplit(x[:4], y[:4], np.arange(4))).shape == (4, 16)
    assert learner.embeddings(DataSplit(x[:4], y[:4], np.arange(4))).shape == (4, 48)
    al.teach(q2, y[q2])
    assert al.evaluate(DataSplit(x, y, np.arange(90)))["accuracy"] > 1 / 3
