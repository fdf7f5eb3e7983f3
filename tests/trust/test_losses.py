"""Trust losses: the steep slope loss against the reference formula, its monotonicity and range
(Luo et al. 2021 §3.2 with the reference code's signs, REFERENCE.md §4), and the registry."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from samplescope.trust import (
    SteepSlopeLoss,
    TrustLoss,
    get_trust_loss,
    list_trust_losses,
    register_trust_loss,
    steep_slope_loss,
)


def _reference_ss(z: float, o: int, ap: float, an: float) -> float:
    """REFERENCE.md §4, written out in plain Python."""
    s = z / (1 + abs(z))
    pos = math.exp(-ap * s) - math.exp(-ap)
    neg = math.exp(an * s) - math.exp(-an)
    return o * pos + (1 - o) * neg


def test_ss_equals_reference_formula() -> None:
    rng = np.random.default_rng(0)
    z = rng.normal(0, 3, size=200)
    o = rng.integers(0, 2, size=200)
    for ap, an in [(1.0, 1.0), (1.0, 3.0), (2.0, 5.0)]:
        got = SteepSlopeLoss(ap, an)(torch.tensor(z), torch.tensor(o)).numpy()
        want = np.array([_reference_ss(zi, oi, ap, an) for zi, oi in zip(z, o, strict=True)])
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_ss_is_not_the_printed_eq8() -> None:
    """The paper's printed eq. (8) would reward a positive for a very negative z."""
    z, o = torch.tensor([-5.0]), torch.tensor([1])
    printed = math.exp(1 * -5 / 6) - math.exp(-1)  # eq. (8) as printed, o = 1
    assert printed < 0.1
    assert float(SteepSlopeLoss(1, 1)(z, o)) > 1.0


@settings(max_examples=60, deadline=None)
@given(
    z=st.lists(st.floats(-50, 50, allow_nan=False), min_size=2, max_size=30),
    ap=st.floats(0.1, 6.0),
    an=st.floats(0.1, 6.0),
)
def test_ss_monotone_and_bounded(z: list[float], ap: float, an: float) -> None:
    zt = torch.tensor(sorted(z), dtype=torch.float64)
    ones, zeros = torch.ones_like(zt), torch.zeros_like(zt)
    pos = steep_slope_loss(zt, ones, ap, an).numpy()
    neg = steep_slope_loss(zt, zeros, ap, an).numpy()
    # a positive's loss falls as z grows; a negative's loss rises as z grows (falls as z drops)
    assert np.all(np.diff(pos) <= 1e-12)
    assert np.all(np.diff(neg) >= -1e-12)
    assert pos.min() >= 0 and pos.max() <= math.exp(ap) - math.exp(-ap) + 1e-9
    assert neg.min() >= 0 and neg.max() <= math.exp(an) - math.exp(-an) + 1e-9
    assert SteepSlopeLoss(ap, an).max_loss >= max(pos.max(), neg.max()) - 1e-9


def test_ss_limits() -> None:
    big = torch.tensor([1e9], dtype=torch.float64)
    ap, an = 2.0, 5.0
    assert float(steep_slope_loss(big, torch.ones(1), ap, an)) == pytest.approx(0.0, abs=1e-6)
    assert float(steep_slope_loss(-big, torch.zeros(1), ap, an)) == pytest.approx(0.0, abs=1e-6)
    assert float(steep_slope_loss(-big, torch.ones(1), ap, an)) == pytest.approx(
        2 * math.sinh(ap), rel=1e-6
    )
    assert float(steep_slope_loss(big, torch.zeros(1), ap, an)) == pytest.approx(
        2 * math.sinh(an), rel=1e-6
    )


def test_ss_shift_moves_the_slide() -> None:
    z, o = torch.tensor([0.0]), torch.ones(1)
    base = float(steep_slope_loss(z, o, 1, 1))
    shifted = float(steep_slope_loss(z, o, 1, 1, beta_pos=0.5))
    assert shifted == pytest.approx(math.exp(0.5) - math.exp(-1))
    assert shifted > base


def test_ce_focal_tcp_against_formulas() -> None:
    rng = np.random.default_rng(1)
    z = torch.tensor(rng.normal(0, 2, 50))
    o = torch.tensor(rng.integers(0, 2, 50))
    p = torch.sigmoid(z).numpy()
    on = o.numpy()
    ce = -(on * np.log(p) + (1 - on) * np.log(1 - p))
    np.testing.assert_allclose(get_trust_loss("ce")(z, o).numpy(), ce, rtol=1e-10)
    pt = np.where(on == 1, p, 1 - p)
    np.testing.assert_allclose(
        get_trust_loss("focal")(z, o).numpy(), -((1 - pt) ** 2) * np.log(pt), rtol=1e-10
    )
    pt_cls = torch.tensor(rng.uniform(0, 1, 50))
    np.testing.assert_allclose(
        get_trust_loss("tcp")(z, o, pt_cls).numpy(), (p - pt_cls.numpy()) ** 2, rtol=1e-10
    )
    # gamma = 0 focal is CE
    np.testing.assert_allclose(get_trust_loss("focal", gamma=0)(z, o).numpy(), ce, rtol=1e-10)


def test_thresholds() -> None:
    assert get_trust_loss("tcp").neg_threshold(10) == pytest.approx(0.1)
    for name in ("ce", "focal", "ss"):
        assert get_trust_loss(name).neg_threshold(10) == 0.5


def test_registry_and_bad_input() -> None:
    assert {"ce", "focal", "tcp", "ss"} <= set(list_trust_losses())
    with pytest.raises(ValueError, match="loss"):
        get_trust_loss("nope")
    with pytest.raises(ValueError, match="alpha_neg"):
        get_trust_loss("ss", alpha_neg=-1)
    with pytest.raises(ValueError, match="beta_pos"):
        get_trust_loss("ss", beta_pos=float("nan"))
    with pytest.raises(ValueError, match="params"):
        get_trust_loss("ce", alpha=3)
    with pytest.raises(ValueError, match="p_true"):
        get_trust_loss("tcp")(torch.zeros(2), torch.ones(2))
    with pytest.raises(ValueError, match="already registered"):
        register_trust_loss("ss")(TrustLoss)

    from samplescope.trust import losses as mod

    class Const(TrustLoss):
        name = "_test_const"

        def __call__(self, z, o, p_true=None):  # noqa: ANN001
            return z * 0

    try:
        register_trust_loss("_test_const", "constant")(Const)
        assert "_test_const" in list_trust_losses()
        assert isinstance(get_trust_loss("_test_const"), Const)
    finally:
        mod._LOSSES.pop("_test_const", None)
