"""Issue 13: the MSP-anchored head, cross-fitted correctness labels, any nn.Module, warnings."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from scipy.stats import rankdata
from torch import nn

from samplescope.models import build_model, load_model, model_spec, save_model
from samplescope.training import FoldConfig
from samplescope.trust import (
    HEADS,
    MCPTrust,
    MSPAnchoredHead,
    TrustOracle,
    correctness_labels,
    crossfit_correctness,
    list_trust_losses,
    msp_logit,
    trust_metrics,
)

from .test_oracle import _classifier, _planted


@pytest.fixture(scope="module")
def planted():
    x, y, hard = _planted(800, 0)
    xte, yte, _ = _planted(600, 1)
    return _classifier(x, y), (x, y), (xte, yte)


def test_msp_logit_is_the_logit_of_the_max_softmax() -> None:
    torch.manual_seed(0)
    lg = torch.randn(50, 4, dtype=torch.float64) * 3
    p = lg.softmax(1).max(1).values
    torch.testing.assert_close(msp_logit(lg), torch.log(p / (1 - p)))
    # no saturation where the MSP rounds to 1
    big = torch.tensor([[60.0, 0.0, 0.0], [80.0, 0.0, 0.0]], dtype=torch.float64)
    z = msp_logit(big)
    assert torch.isfinite(z).all() and z[1] > z[0]


def test_anchored_head_with_g_zero_ranks_exactly_as_mcp(planted) -> None:
    clf, train, test = planted
    oracle = TrustOracle(clf, loss="ss", head="msp", epochs=2, lr=1e-2).fit(train)
    assert isinstance(oracle.head_, MSPAnchoredHead)
    with torch.no_grad():  # g = 0, a = 1: the oracle is MCP
        oracle.head_.weight.zero_()
        oracle.head_.bias.zero_()
        oracle.head_.scale.fill_(1.0)
    mcp = MCPTrust(clf).fit(train).predict_trust(test[0])
    trust = oracle.predict_trust(test[0])
    np.testing.assert_array_equal(rankdata(trust), rankdata(mcp))
    np.testing.assert_allclose(trust, mcp, rtol=1e-6)
    o = correctness_labels(clf, test)[0]
    assert trust_metrics(o, trust)["auroc"] == trust_metrics(o, mcp)["auroc"]
    # any positive scale a and any bias keep the ranking (g = 0)
    with torch.no_grad():
        oracle.head_.scale.fill_(0.3)
        oracle.head_.bias.fill_(-2.0)
    np.testing.assert_array_equal(rankdata(oracle.decision_function(test[0])), rankdata(mcp))


def test_anchored_head_starts_at_mcp() -> None:
    head = MSPAnchoredHead(5)
    h = torch.randn(7, 5)
    a = torch.randn(7)
    torch.testing.assert_close(head(h, a), a)
    with pytest.raises(ValueError, match="anchor"):
        head(h)


@pytest.mark.parametrize("head", HEADS)
@pytest.mark.parametrize("loss", ["ce", "focal", "tcp", "ss"])
def test_every_loss_works_with_every_head(planted, loss: str, head: str) -> None:
    assert set(list_trust_losses()) >= {"ce", "focal", "tcp", "ss"}
    clf, train, test = planted
    oracle = TrustOracle(clf, loss=loss, head=head, epochs=1, lr=1e-2, batch_size=200).fit(train)
    t = oracle.predict_trust(test[0])
    assert t.shape == (len(test[0]),) and np.isfinite(t).all()
    assert np.isfinite(oracle.history_).all()
    # training moved the output (the loss reaches the head's parameters)
    assert any(p.grad is not None for p in oracle.head_.parameters())


def _memorise_setup():
    """20-d inputs, label = 1[x0 > 0]; sample 0 has x0 = -1.5 but label 1 (a random label).
    A classifier trained long memorises it; a model that never saw it predicts 0."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 20)).astype(np.float32)
    x[0, 0] = -1.5
    y = (x[:, 0] > 0).astype(np.int64)
    y[0] = 1
    return x, y


def _mlp_fn(seed: int) -> nn.Module:
    return nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 2))


def test_crossfit_labels_a_memorised_random_label_incorrect() -> None:
    x, y = _memorise_setup()
    cfg = FoldConfig(num_classes=2, model_fn=_mlp_fn, epochs=400, lr=1e-2, batch_size=80)
    torch.manual_seed(0)
    clf = _mlp_fn(0)
    from samplescope.training import fit

    fit(clf, (x, y), **cfg.train_options(), seed=0)
    clf.eval()
    o_in = correctness_labels(clf, (x, y))[0]
    assert o_in[0] == 1  # memorised: in-sample says "correct"
    tg = crossfit_correctness((x, y), cfg, folds=4, seed=0, return_models=True)
    assert tg.o[0] == 0  # out of fold: the model that never saw it gets it wrong
    assert tg.source == "crossfit" and tg.n_errors >= 1
    # every label comes from the fold model that held the sample out
    for k, m in enumerate(tg.models):
        held = tg.fold_ids == k
        with torch.no_grad():
            lg = m(torch.as_tensor(x[held])).double().numpy()
        np.testing.assert_allclose(lg, tg.logits[held], rtol=1e-5, atol=1e-5)
    # the oracle trained on the crossfit labels sees that error; the in-sample one does not
    with pytest.warns(UserWarning, match='correctness="crossfit"'):
        insample = TrustOracle(clf, loss="ce", head="msp", epochs=1).fit((x, y))
    assert insample.n_errors_ == int((o_in == 0).sum())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # few errors here, by construction
        cross = TrustOracle(
            clf, loss="ce", head="msp", correctness="crossfit", folds=4, crossfit_config=cfg
        ).fit((x, y))
    assert cross.targets_.o[0] == 0 and cross.n_errors_ == tg.n_errors
    np.testing.assert_array_equal(cross.targets_.o, tg.o)


def test_few_errors_warn_and_name_crossfit(planted) -> None:
    clf, train, _ = planted
    x, y = train
    o = correctness_labels(clf, train)[0]
    easy = np.flatnonzero(o == 1)[:300]
    with pytest.warns(UserWarning, match=r'0 errors.*correctness="crossfit"'):
        TrustOracle(clf, loss="ce", epochs=1).fit((x[easy], y[easy]))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # ≥ 20 errors: silent
        assert (o == 0).sum() >= 20
        TrustOracle(clf, loss="ce", epochs=1).fit(train)


def test_holdout_trains_on_the_validation_split(planted) -> None:
    clf, train, test = planted
    oracle = TrustOracle(clf, loss="ce", correctness="holdout", epochs=1).fit(
        train, validation=test
    )
    o = correctness_labels(clf, test)[0]
    np.testing.assert_array_equal(oracle.targets_.o, o)
    assert oracle.targets_.source == "holdout"


class _ConvNet(nn.Module):
    """A non-Sequential CNN with BatchNorm and Dropout (issue 17's test model)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.drop = nn.Dropout(0.2)
        self.fc1 = nn.Linear(4 * 4 * 4, 16)
        self.out = nn.Linear(16, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.bn(self.conv(x)))
        h = nn.functional.max_pool2d(h, 2).flatten(1)
        return self.out(self.drop(torch.relu(self.fc1(h))))


def _images(n: int, seed: int):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = rng.normal(size=(n, 1, 8, 8)).astype(np.float32) * 0.7
    for c in range(3):
        x[y == c, 0, 2 * c : 2 * c + 3, :] += 1.0
    flip = rng.random(n) < 0.25  # random labels: errors to learn from
    y[flip] = rng.integers(0, 3, flip.sum())
    return x, y


@pytest.mark.parametrize("backbone", ["finetune", "frozen"])
def test_non_sequential_cnn_with_batchnorm(backbone: str) -> None:
    x, y = _images(300, 0)
    xte, yte = _images(200, 1)
    torch.manual_seed(0)
    clf = _ConvNet()
    from samplescope.training import fit

    fit(clf, (x, y), epochs=5, lr=1e-2, batch_size=50, seed=0)
    clf.eval()
    before = {k: v.clone() for k, v in clf.state_dict().items()}
    oracle = TrustOracle(clf, loss="ss", head="msp", backbone=backbone, epochs=3, lr=1e-2).fit(
        (x, y)
    )
    for k, v in clf.state_dict().items():  # the deployed classifier is untouched
        torch.testing.assert_close(v, before[k], msg=k)
    t = oracle.predict_trust(xte)
    assert t.shape == (200,) and np.isfinite(t).all()
    # the default features are the input of the last Linear (16-d); a named layer works too
    assert oracle.head_.weight.shape == (16,)
    named = TrustOracle(clf, loss="ce", layer="bn", backbone=backbone, epochs=1).fit((x, y))
    assert named.head_.weight.shape == (4 * 8 * 8,)
    with pytest.raises(ValueError, match="freeze_layers"):
        TrustOracle(clf, freeze_layers=1).fit((x, y))
    o = correctness_labels(clf, (xte, yte))[0]
    assert trust_metrics(o, t)["auroc"] > 0.5


def test_classifier_loaded_with_load_model(tmp_path) -> None:
    x, y, _ = _planted(400, 0)
    spec = model_spec("mlp", (4,), 3, hidden=[16])
    clf = build_model(spec)
    path = save_model(clf, tmp_path / "model.pt", spec)
    loaded, _ = load_model(path)
    oracle = TrustOracle(loaded, loss="tcp", head="msp", epochs=1).fit((x, y))
    assert oracle.predict_trust(x).shape == (400,)


def test_feature_baselines_take_any_module() -> None:
    """TrustScore (features by hook, default and named layer) and MC dropout on the CNN."""
    from samplescope.trust import MCDropoutTrust, TrustScoreTrust

    x, y = _images(120, 0)
    torch.manual_seed(0)
    clf = _ConvNet().eval()
    ts = TrustScoreTrust(clf, k=3, algorithm="brute").fit((x, y))
    t = ts.predict_trust(x[:10])
    assert t.shape == (10,) and np.all((t >= 0) & (t <= 1))
    assert ts.trees_[0].data.shape[1] == 16  # the input of the last Linear
    named = TrustScoreTrust(clf, k=3, algorithm="brute", layer="fc1").fit((x, y))
    assert named.trees_[0].data.shape[1] == 16
    with pytest.raises(ValueError, match="layer"):
        TrustScoreTrust(clf, layer="nope").fit((x, y))
    mc = MCDropoutTrust(clf, samples=4).fit((x, y)).predict_trust(x[:10])
    assert mc.shape == (10,) and np.isfinite(mc).all()
