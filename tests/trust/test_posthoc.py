"""Every registered baseline against a hand computation on a tiny example; the registry."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from samplescope.trust import (
    BASELINES,
    DoctorTrust,
    EnergyTrust,
    EnsembleTrust,
    MaxLogitPNormTrust,
    MaxLogitTrust,
    MCPTrust,
    RelativeUncertaintyTrust,
    describe_baseline,
    format_table,
    list_baselines,
    make_baseline,
    relative_uncertainty_matrix,
    summarize,
)
from samplescope.trust.backbones import logit_stats
from samplescope.trust.posthoc import squash

#: a "classifier" whose logits are its inputs: every score is computable by hand
LOGITS = np.array([[2.0, 0.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 3.0], [-1.0, 0.5, 0.2]])
Y = np.array([0, 1, 2, 0])


class _Identity(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.head = nn.Linear(3, 3)  # unused; gives the module a Linear and parameters

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(len(x), -1)


def _fit(cls, **kw):
    return cls(_Identity(), **kw).fit((LOGITS.astype(np.float32), Y))


def _softmax(lg: np.ndarray) -> np.ndarray:
    e = np.exp(lg - lg.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def test_registry_lists_every_baseline_of_the_issue() -> None:
    want = [
        "mcp",
        "maxlogit",
        "maxlogit_pnorm",
        "energy",
        "doctor",
        "rel_u",
        "mc_dropout",
        "ensemble",
        "trustscore",
    ]
    assert list_baselines() == want == list(BASELINES)
    for name in want:
        assert describe_baseline(name)
    with pytest.raises(ValueError, match="baseline"):
        make_baseline("odin", _Identity())


def test_max_logit_and_energy_by_hand() -> None:
    x = LOGITS.astype(np.float32)
    ml = _fit(MaxLogitTrust)
    np.testing.assert_allclose(ml.score(x), [2.0, 1.0, 3.0, 0.5], rtol=1e-6)
    np.testing.assert_allclose(ml.predict_trust(x), 0.5 + np.arctan([2, 1, 3, 0.5]) / np.pi)
    # energy: log(e^2 + 2) for row 0, log(2e + 1) row 1, log(e^3 + 2) row 2
    en = _fit(EnergyTrust)
    want = [np.log(np.e**2 + 2), np.log(2 * np.e + 1), np.log(np.e**3 + 2)]
    np.testing.assert_allclose(en.score(x)[:3], want, rtol=1e-6)
    # temperature T: T logsumexp(l / T)
    en2 = _fit(EnergyTrust, temperature=2.0)
    np.testing.assert_allclose(en2.score(x)[0], 2 * np.log(np.e + 2), rtol=1e-6)


def test_maxlogit_pnorm_by_hand() -> None:
    x = LOGITS.astype(np.float32)
    b = _fit(MaxLogitPNormTrust, p=2.0)
    # row 1: max 1 / sqrt(2); row 3: 0.5 / sqrt(1 + .25 + .04)
    np.testing.assert_allclose(
        b.score(x)[[0, 1, 3]], [1.0, 1 / np.sqrt(2), 0.5 / np.sqrt(1.29)], rtol=1e-6
    )
    np.testing.assert_allclose(b.predict_trust(x), (b.score(x) + 1) / 2)
    b1 = _fit(MaxLogitPNormTrust, p=1.0)
    np.testing.assert_allclose(b1.score(x)[1], 0.5, rtol=1e-6)
    auto = _fit(MaxLogitPNormTrust, p="auto")
    assert auto.p_ in [float(q) for q in range(1, 11)]
    with pytest.raises(ValueError, match="p"):
        _fit(MaxLogitPNormTrust, p=0.5)


def test_doctor_is_the_sum_of_squared_probabilities() -> None:
    x = LOGITS.astype(np.float32)
    p = _softmax(LOGITS)
    np.testing.assert_allclose(_fit(DoctorTrust).predict_trust(x), (p**2).sum(1), rtol=1e-6)
    # row 1 by hand: p = (e, e, 1)/(2e + 1)
    z = 2 * np.e + 1
    assert _fit(DoctorTrust).predict_trust(x)[1] == pytest.approx((2 * np.e**2 + 1) / z**2)
    # same ranking as the Gini impurity's negative (DOCTOR's g = 1 - sum p²)
    mcp = _fit(MCPTrust).predict_trust(x)
    assert mcp[2] == pytest.approx(p[2].max())


def test_relative_uncertainty_matrix_by_hand() -> None:
    probs = np.array([[0.8, 0.2], [0.6, 0.4], [0.5, 0.5]])
    correct = np.array([1, 0, 0])
    # λ = 0.5: off-diagonal 0.5 · mean_err(p0 p1) − 0.5 · mean_ok(p0 p1)
    # = 0.5 · (0.24 + 0.25)/2 − 0.5 · 0.16 = 0.0425 > 0 → D = [[0, 1], [1, 0]] / sqrt(2)
    d = relative_uncertainty_matrix(probs, correct, 0.5)
    np.testing.assert_allclose(d, np.array([[0, 1], [1, 0]]) / np.sqrt(2))
    # when the errors look more certain than the successes, the ReLU empties D: Gini fallback
    d2 = relative_uncertainty_matrix(probs, 1 - correct, 0.5)
    np.testing.assert_allclose(d2, np.array([[0, 1], [1, 0]]) / np.sqrt(2))
    # 3 classes: only the pairs the errors confuse get weight
    p3 = np.array([[0.5, 0.5, 0.0], [0.9, 0.05, 0.05]])
    d3 = relative_uncertainty_matrix(p3, np.array([0, 1]), 0.5)
    assert d3[0, 1] > 0 and d3[0, 2] == 0 and np.allclose(np.diag(d3), 0)
    assert np.linalg.norm(d3) == pytest.approx(1.0)


def test_relative_uncertainty_trust_by_hand() -> None:
    x = LOGITS.astype(np.float32)
    probs = _softmax(LOGITS)
    correct = np.array([1, 0, 1, 0])
    b = RelativeUncertaintyTrust(_Identity()).fit((x, Y), probs=probs, correct=correct)
    d = relative_uncertainty_matrix(probs, correct, 0.5)
    want = 1 - np.einsum("ni,ij,nj->n", probs, d, probs)
    np.testing.assert_allclose(b.predict_trust(x), want, rtol=1e-6)
    # without probs: fitted on the split itself (a validation split)
    b2 = RelativeUncertaintyTrust(_Identity()).fit((x, Y))
    c = LOGITS.argmax(1) == Y
    np.testing.assert_allclose(b2.matrix_, relative_uncertainty_matrix(probs, c, 0.5))
    with pytest.raises(ValueError, match="probs/correct"):
        RelativeUncertaintyTrust(_Identity()).fit((x, Y), probs=probs)


def test_ensemble_is_the_max_of_the_mean_probability() -> None:
    x = LOGITS.astype(np.float32)

    class _Shift(_Identity):
        def forward(self, t: torch.Tensor) -> torch.Tensor:
            return t.reshape(len(t), -1) * 0.0  # uniform probabilities

    b = EnsembleTrust(_Identity(), members=[_Shift()]).fit((x, Y))
    want = ((_softmax(LOGITS) + 1 / 3) / 2).max(1)
    np.testing.assert_allclose(b.predict_trust(x), want, rtol=1e-6)
    alone = EnsembleTrust(_Identity()).fit((x, Y)).predict_trust(x)
    np.testing.assert_allclose(alone, _softmax(LOGITS).max(1), rtol=1e-6)
    with pytest.raises(ValueError, match="members"):
        EnsembleTrust(_Identity(), members=_Shift()).fit((x, Y))


def test_squash_is_increasing_and_does_not_saturate() -> None:
    s = np.array([-1e6, -40.0, 0.0, 40.0, 41.0, 1e6])
    t = squash(s)
    assert np.all(np.diff(t) > 0) and t.min() > 0 and t.max() < 1


def test_logit_stats_by_hand() -> None:
    st = logit_stats(torch.as_tensor(LOGITS[:1]))[0].double().numpy()
    logp = np.log(_softmax(LOGITS[:1]))[0]
    np.testing.assert_allclose(st[:3], np.sort(logp)[::-1], rtol=1e-5)
    np.testing.assert_allclose(st[3], -(np.exp(logp) * logp).sum(), rtol=1e-5)
    np.testing.assert_allclose(st[4:], [np.log(np.e**2 + 2), 2.0, 2.0], rtol=1e-5)


def test_single_seed_table_prints_no_plus_minus_zero() -> None:
    rows = [{"method": "mcp", "seed": 0, "auroc": 0.9}]
    one = format_table(summarize(rows, ["auroc"], ["method"]))
    assert "90.00" in one and "±" not in one
    two = format_table(
        summarize(rows + [{"method": "mcp", "seed": 1, "auroc": 0.8}], ["auroc"], ["method"])
    )
    assert "85.00±7.07" in two
