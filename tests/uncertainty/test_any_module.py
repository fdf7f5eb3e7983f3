"""Any nn.Module: MC dropout inserted or nested, grad norms, difficulty measures, model_fn forms."""

from __future__ import annotations

import functools
import pickle

import numpy as np
import pytest
import torch
from torch import nn

from samplescope.data import from_arrays
from samplescope.difficulty import compute_measures, per_sample_grad_norms
from samplescope.models import add_mc_dropout, remove_mc_dropout, seeded_model_fn, takes_seed
from samplescope.training import FoldConfig, crossfit, fit
from samplescope.uncertainty import decompose, predict_stochastic, train_ensemble


class CNN(nn.Module):
    """Not a Sequential: conv blocks with BatchNorm, a dropout nested in a sub-module, a head."""

    def __init__(self, num_classes: int = 3, p: float = 0.3) -> None:
        super().__init__()
        self.block = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU())
        self.pool = nn.AdaptiveAvgPool2d(2)
        self.neck = nn.Sequential(nn.Flatten(), nn.Linear(16, 16), nn.ReLU(), nn.Dropout(p))
        self.head = nn.Linear(16, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.neck(self.pool(self.block(x))))


def _images(n=60, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    x = rng.normal(0, 1, (n, 1, 6, 6)).astype(np.float32)
    x[:, 0, :2, :2] += 2.0 * y[:, None, None]  # a planted signal
    return from_arrays(x, y)


def test_non_sequential_cnn_with_batchnorm_end_to_end():
    """MC dropout, grad norms and difficulty measures on a non-Sequential BN CNN."""
    s = _images()
    torch.manual_seed(0)
    model = CNN()
    fit(model, s, epochs=3, batch_size=16, progress=False)
    probs = predict_stochastic(model, s, samples=8, seed=0)
    assert probs.shape == (8, len(s), 3)
    assert decompose(probs)["mutual_information"].mean() > 1e-4  # the nested dropout is live
    again = predict_stochastic(model, s, samples=8, seed=0)
    np.testing.assert_array_equal(probs, again)
    assert not model.training and not model.neck[3].training  # states restored
    g = per_sample_grad_norms(model, s)
    g_loop = per_sample_grad_norms(model, s, method="loop")
    np.testing.assert_allclose(g, g_loop, rtol=1e-4, atol=1e-6)
    res = compute_measures(
        s, 3, ["aum", "forgetting", "grad_norm", "margin"], model_fn=CNN, epochs=2, progress=False
    )
    assert res.table.measures == ["aum", "forgetting", "grad_norm", "margin"]
    assert np.isfinite(res.table.df[res.table.measures].to_numpy()).all()


class NoDropout(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(5, 16), nn.ReLU())
        self.head = nn.Linear(16, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


@pytest.mark.parametrize("where", ["head", "linear", "body.0", ["head"], lambda n, m: n == "head"])
def test_add_mc_dropout_gives_epistemic_uncertainty_and_keeps_eval(where):
    torch.manual_seed(0)
    model = NoDropout().eval()
    x = torch.randn(40, 5)
    with pytest.raises(ValueError, match="dropout"):
        predict_stochastic(model, x.numpy(), samples=4)
    before = model(x).detach()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    add_mc_dropout(model, 0.3, where=where)
    assert model.training is False
    torch.testing.assert_close(model(x), before, rtol=0, atol=0)  # eval: identity
    assert model.state_dict().keys() == state.keys()
    probs = predict_stochastic(model, x.numpy(), samples=10, seed=1)
    assert decompose(probs)["mutual_information"].min() > 0  # every sample now varies
    torch.testing.assert_close(model(x), before, rtol=0, atol=0)  # eval again afterwards
    clone = pickle.loads(pickle.dumps(model))  # picklable (process executors)
    torch.testing.assert_close(clone(x), before, rtol=0, atol=0)
    remove_mc_dropout(model)
    with pytest.raises(ValueError, match="dropout"):
        predict_stochastic(model, x.numpy(), samples=4)


def test_add_mc_dropout_bad_input():
    with pytest.raises(ValueError, match="p"):
        add_mc_dropout(NoDropout(), 1.0)
    with pytest.raises(ValueError, match="where"):
        add_mc_dropout(NoDropout(), 0.1, where=3)
    with pytest.raises(ValueError, match="layer"):
        add_mc_dropout(NoDropout(), 0.1, where="nope")
    m = add_mc_dropout(NoDropout(), 0.1)
    with pytest.raises(ValueError, match="already"):
        add_mc_dropout(m, 0.1)
    orig = NoDropout()
    copy = add_mc_dropout(orig, 0.1, inplace=False)
    assert copy is not orig and not any(isinstance(x, nn.Dropout) for x in orig.modules())


def _mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(36, 8), nn.ReLU(), nn.Linear(8, 3))


def _mlp_seeded(seed):
    return _mlp()


def test_one_model_fn_convention():
    assert takes_seed(lambda s: None) and takes_seed(_mlp_seeded)
    assert not takes_seed(_mlp) and not takes_seed(CNN)  # defaults only: zero-argument
    assert takes_seed(lambda seed=0: None)
    assert seeded_model_fn(_mlp_seeded) is _mlp_seeded
    s = _images(30)
    a = train_ensemble(_mlp, s, members=2, epochs=1, batch_size=16)
    b = train_ensemble(_mlp_seeded, s, members=2, epochs=1, batch_size=16)
    c = train_ensemble(lambda: _mlp(), s, members=2, epochs=1, batch_size=16)
    for m1, m2, m3 in zip(a, b, c, strict=True):  # same seed, same model, either form
        for p1, p2, p3 in zip(m1.parameters(), m2.parameters(), m3.parameters(), strict=True):
            torch.testing.assert_close(p1, p2, rtol=0, atol=0)
            torch.testing.assert_close(p1, p3, rtol=0, atol=0)
    cfg = dict(num_classes=3, epochs=1, batch_size=16)
    r0 = crossfit(s, FoldConfig(model_fn=_mlp, **cfg), folds=2)
    r1 = crossfit(s, FoldConfig(model_fn=lambda seed: _mlp(), **cfg), folds=2)
    np.testing.assert_array_equal(r0.oof_logits, r1.oof_logits)
    f = compute_measures(
        s, 3, ["margin"], model_fn=functools.partial(CNN, 3), epochs=1, progress=False
    )
    assert len(f.table) == len(s)
    with pytest.raises(ValueError, match="model_fn"):
        train_ensemble(3, s, members=1)
