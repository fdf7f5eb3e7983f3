"""TrustOracle: hyperplane head invariance, scikit-learn contract, frozen classifier, planted signal."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from samplescope.data import from_arrays
from samplescope.trust import (
    HyperplaneHead,
    LinearHead,
    TrustOracle,
    correctness_labels,
    trust_metrics,
)


@settings(max_examples=40, deadline=None)
@given(scale=st.floats(1e-3, 1e3), seed=st.integers(0, 1000))
def test_hyperplane_z_invariant_to_scaling(scale: float, seed: int) -> None:
    torch.manual_seed(seed)
    head = HyperplaneHead(6).double()
    h = torch.randn(20, 6, dtype=torch.float64)
    z = head(h)
    want = (h @ head.weight + head.bias) / head.weight.norm()
    torch.testing.assert_close(z, want)
    with torch.no_grad():
        head.weight.mul_(scale)
        head.bias.mul_(scale)
    torch.testing.assert_close(head(h), z, rtol=1e-9, atol=1e-9)


def test_hyperplane_gradient_flows_through_the_norm() -> None:
    """Scale invariance ⇒ Euler's identity w·∇_w z + b ∂z/∂b = 0; fails if ‖w‖ were detached."""
    torch.manual_seed(0)
    head = HyperplaneHead(5).double()
    h = torch.randn(1, 5, dtype=torch.float64)
    head(h).sum().backward()
    euler = head.weight.detach() @ head.weight.grad + head.bias.detach() * head.bias.grad
    assert float(euler) == pytest.approx(0.0, abs=1e-10)
    assert float(head.weight.grad.norm()) > 1e-3
    # a plain linear head has no such invariance
    lin = LinearHead(5).double()
    z1 = lin(h)
    with torch.no_grad():
        lin.linear.weight.mul_(3)
        lin.linear.bias.mul_(3)
    torch.testing.assert_close(lin(h), 3 * z1)


def _planted(n: int = 800, seed: int = 0):
    """3 classes set by x0/x1; where x2 > 0.6 the labels are random, so the classifier errs there."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, size=(n, 4)).astype(np.float32)
    y = (np.digitize(x[:, 0] + 0.5 * x[:, 1], [-0.4, 0.4])).astype(np.int64)
    hard = x[:, 2] > 0.6
    y[hard] = rng.integers(0, 3, hard.sum())
    return x, y, hard


def _classifier(x, y, seed: int = 0) -> nn.Sequential:
    torch.manual_seed(seed)
    clf = nn.Sequential(nn.Linear(4, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 3))
    opt = torch.optim.Adam(clf.parameters(), lr=1e-2)
    xt, yt = torch.as_tensor(x), torch.as_tensor(y)
    for _ in range(100):
        opt.zero_grad()
        nn.functional.cross_entropy(clf(xt), yt).backward()
        opt.step()
    return clf.eval()


@pytest.fixture(scope="module")
def planted():
    x, y, hard = _planted(800, 0)
    xte, yte, hard_te = _planted(600, 1)
    return _classifier(x, y), (x, y), (xte, yte), hard_te


@pytest.mark.parametrize("loss", ["ce", "focal", "tcp", "ss"])
def test_planted_errors_get_low_trust(planted, loss: str) -> None:
    clf, train, test, _ = planted
    before = copy.deepcopy(clf.state_dict())
    clf.train()  # the oracle must put it in eval mode itself and restore the mode
    params = {"alpha_pos": 1.0, "alpha_neg": 3.0} if loss == "ss" else None
    oracle = TrustOracle(
        clf, loss=loss, loss_params=params, epochs=12, lr=1e-2, batch_size=100, seed=0
    )
    assert oracle.fit(train) is oracle
    assert clf.training
    clf.eval()
    for k, v in clf.state_dict().items():
        torch.testing.assert_close(v, before[k])
    o, _, _ = correctness_labels(clf, test)
    assert 0.1 < 1 - o.mean() < 0.5  # the planted region produces errors
    trust = oracle.predict_trust(test[0])
    assert trust.shape == (len(o),) and trust.min() >= 0 and trust.max() <= 1
    m = trust_metrics(o, trust)
    assert m["auroc"] > 0.8, m
    assert trust[o == 0].mean() < trust[o == 1].mean()


def test_contract_and_fitted_attributes(planted) -> None:
    clf, train, test, _ = planted
    oracle = TrustOracle(clf, loss="tcp", epochs=2, seed=3)
    with pytest.raises(ValueError, match="not fitted"):
        oracle.predict_trust(test[0])
    assert oracle.get_params()["loss"] == "tcp"
    oracle.fit(train)
    o, _, _ = correctness_labels(clf, train)
    assert oracle.n_errors_ == int((o == 0).sum())
    assert oracle.train_accuracy_ == pytest.approx(o.mean())
    assert oracle.num_classes_ == 3 and oracle.neg_threshold_ == pytest.approx(1 / 3)
    assert len(oracle.history_) == 2
    # same seed, same oracle
    again = TrustOracle(clf, loss="tcp", epochs=2, seed=3).fit(train)
    np.testing.assert_allclose(again.predict_trust(test[0]), oracle.predict_trust(test[0]))
    # predict accepts a DataSplit too
    split = from_arrays(test[0], test[1])
    np.testing.assert_allclose(oracle.predict_trust(split), oracle.predict_trust(test[0]))
    np.testing.assert_array_equal(
        oracle.predict(split), (oracle.predict_trust(split) > 0.5).astype(int)
    )


def test_frozen_backbone_trains_only_the_head(planted) -> None:
    clf, train, _, _ = planted
    oracle = TrustOracle(clf, loss="ce", backbone="frozen", epochs=3, lr=1e-2).fit(train)
    for (k, v), w in zip(
        oracle.backbone_.prefix.state_dict().items(), clf[:-1].state_dict().values(), strict=True
    ):
        torch.testing.assert_close(v, w, msg=k)
    assert len(oracle.backbone_.suffix) == 0
    tuned = TrustOracle(clf, loss="ce", freeze_layers=2, epochs=3, lr=1e-2).fit(train)
    torch.testing.assert_close(tuned.backbone_.prefix[0].weight, clf[0].weight)
    assert not torch.allclose(tuned.backbone_.suffix[0].weight, clf[2].weight)


def test_linear_head_option(planted) -> None:
    clf, train, test, _ = planted
    oracle = TrustOracle(clf, loss="ss", head="linear", epochs=2).fit(train)
    assert isinstance(oracle.head_, LinearHead)
    assert oracle.predict_trust(test[0]).shape == (len(test[0]),)


def test_bad_input(planted) -> None:
    clf, train, _, _ = planted
    with pytest.raises(ValueError, match="classifier"):
        TrustOracle("not a model").fit(train)
    with pytest.raises(ValueError, match="Linear"):  # no linear head to read features before
        TrustOracle(nn.ReLU()).fit(train)
    with pytest.raises(ValueError, match="layer"):
        TrustOracle(clf, layer="nope").fit(train)
    with pytest.raises(ValueError, match="correctness"):
        TrustOracle(clf, correctness="oof").fit(train)
    with pytest.raises(ValueError, match="validation"):
        TrustOracle(clf, correctness="holdout").fit(train)
    with pytest.raises(ValueError, match="folds"):
        TrustOracle(clf, correctness="crossfit", folds=1).fit(train)
    with pytest.raises(ValueError, match="loss"):
        TrustOracle(clf, loss="hinge").fit(train)
    with pytest.raises(ValueError, match="head"):
        TrustOracle(clf, head="mlp").fit(train)
    with pytest.raises(ValueError, match="backbone"):
        TrustOracle(clf, backbone="partial").fit(train)
    with pytest.raises(ValueError, match="freeze_layers"):
        TrustOracle(clf, freeze_layers=9).fit(train)
    with pytest.raises(ValueError, match="epochs"):
        TrustOracle(clf, epochs=0).fit(train)
    with pytest.raises(ValueError, match="alpha_pos"):
        TrustOracle(clf, loss="ss", loss_params={"alpha_pos": 0}).fit(train)
    with pytest.raises(ValueError, match="labels"):
        TrustOracle(clf).fit((train[0], np.full(len(train[0]), 7)))
    with pytest.raises(ValueError, match="params"):
        TrustOracle(clf).set_params(gamma=2)
