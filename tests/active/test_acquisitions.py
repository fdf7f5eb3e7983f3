"""Acquisition functions vs hand computations, analytic limits and properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from samplescope import functional as F
from samplescope.active import (
    acquisition_aliases,
    acquisition_scores,
    get_acquisition,
    list_acquisitions,
    register_acquisition,
)

LOG2 = np.log(2.0)

# S = 2 samples, N = 2 points, C = 2 classes.
# point 0: the two samples disagree completely; point 1: both samples are maximally unsure.
TINY = np.array(
    [
        [[1.0, 0.0], [0.5, 0.5]],
        [[0.0, 1.0], [0.5, 0.5]],
    ]
)


def test_tiny_distribution_by_hand():
    np.testing.assert_allclose(acquisition_scores("predictive_entropy", TINY), [LOG2, LOG2])
    np.testing.assert_allclose(
        acquisition_scores("mutual_information", TINY), [LOG2, 0.0], atol=1e-12
    )
    # argmaxes point 0: {0, 1} -> modal count 1 of 2; point 1: ties -> argmax 0 twice
    np.testing.assert_allclose(acquisition_scores("variation_ratio", TINY), [0.5, 0.0])
    # point 0: E[p^2] = 0.5, E[p]^2 = 0.25 -> std 0.5 for both classes
    np.testing.assert_allclose(acquisition_scores("mean_std", TINY), [0.5, 0.0])
    np.testing.assert_allclose(acquisition_scores("least_confidence", TINY), [0.5, 0.5])
    np.testing.assert_allclose(acquisition_scores("margin", TINY), [0.0, 0.0])
    np.testing.assert_allclose(acquisition_scores("predictive_variance", TINY), [0.5, 0.0])


def test_three_sample_distribution_by_hand():
    # S = 3, one point, C = 3
    p = np.array([[[0.6, 0.3, 0.1]], [[0.6, 0.3, 0.1]], [[0.1, 0.8, 0.1]]])
    pbar = np.array([1.3, 1.4, 0.3]) / 3
    h = -np.sum(pbar * np.log(pbar))
    hs = -np.sum(np.array([0.6, 0.3, 0.1]) * np.log([0.6, 0.3, 0.1]))
    h3 = -np.sum(np.array([0.1, 0.8, 0.1]) * np.log([0.1, 0.8, 0.1]))
    assert acquisition_scores("predictive_entropy", p)[0] == pytest.approx(h)
    assert acquisition_scores("mutual_information", p)[0] == pytest.approx(h - (2 * hs + h3) / 3)
    # Gal's mode count: class 0 wins 2 of 3 votes -> 1 - 2/3, NOT 1 - max(pbar) = 1 - 1.4/3
    assert acquisition_scores("variation_ratio", p)[0] == pytest.approx(1 / 3)
    assert acquisition_scores("variation_ratio", p)[0] != pytest.approx(1 - pbar.max())
    std = np.sqrt(np.array([0.25 * 2 / 9, 0.25 * 2 / 9, 0.0]))  # var of {a, a, b} = 2(a-b)^2/9
    assert acquisition_scores("mean_std", p)[0] == pytest.approx(std.mean())
    assert acquisition_scores("least_confidence", p)[0] == pytest.approx(1 - 1.4 / 3)
    assert acquisition_scores("margin", p)[0] == pytest.approx(-(1.4 - 1.3) / 3)


def test_identical_samples_give_zero_bald_vr_std():
    rng = np.random.default_rng(0)
    one = rng.dirichlet(np.ones(4), size=7)
    p = np.repeat(one[None], 5, axis=0)
    for name in ("mutual_information", "variation_ratio", "mean_std", "predictive_variance"):
        np.testing.assert_allclose(acquisition_scores(name, p), 0.0, atol=1e-12)
    assert acquisition_scores("predictive_entropy", p).min() > 0


def test_random_is_seeded_and_registry():
    p = np.full((1, 50, 3), 1 / 3)
    a = acquisition_scores("random", p, seed=3)
    np.testing.assert_array_equal(a, acquisition_scores("random", p, seed=3))
    assert not np.array_equal(a, acquisition_scores("random", p, seed=4))
    assert list_acquisitions() == [
        "least_confidence",
        "margin",
        "mean_std",
        "mutual_information",
        "predictive_entropy",
        "predictive_variance",
        "random",
        "variation_ratio",
    ]
    assert set(list_acquisitions(stochastic=True)) == {
        "mutual_information",
        "variation_ratio",
        "mean_std",
        "predictive_variance",
    }
    assert get_acquisition("random").needs_model is False
    with pytest.raises(ValueError, match="acquisition"):
        get_acquisition("nope")
    with pytest.raises(ValueError, match="already registered"):
        register_acquisition("bald")(lambda p, rng: p[0, :, 0])
    with pytest.raises(ValueError, match="already registered"):
        register_acquisition("mutual_information")(lambda p, rng: p[0, :, 0])
    with pytest.raises(ValueError, match="already registered"):
        register_acquisition("my_new_one", aliases=("bald",))(lambda p, rng: p[0, :, 0])
    assert "my_new_one" not in list_acquisitions()


def test_old_names_are_aliases_of_the_canonical_ones():
    aliases = acquisition_aliases()
    assert aliases == {
        "bald": "mutual_information",
        "entropy": "predictive_entropy",
        "epistemic": "mutual_information",
        "max_entropy": "predictive_entropy",
        "predictive_trace": "predictive_variance",
        "variation_ratios": "variation_ratio",
    }
    assert set(list_acquisitions(include_aliases=True)) == set(list_acquisitions()) | set(aliases)
    assert "bald" in list_acquisitions(stochastic=True, include_aliases=True)
    assert "bald" not in list_acquisitions(stochastic=False, include_aliases=True)
    p = np.random.default_rng(1).dirichlet(np.ones(3), size=(4, 6))
    for old, new in aliases.items():
        acq = get_acquisition(old)
        assert acq is get_acquisition(new) and acq.name == new
        np.testing.assert_array_equal(acquisition_scores(old, p), acquisition_scores(new, p))


def test_scores_are_the_functional_core():
    p = np.random.default_rng(2).dirichlet(np.full(4, 0.3), size=(5, 7))
    pbar = p.mean(0)
    for name, ref in (
        ("predictive_entropy", F.predictive_entropy(p)),
        ("mutual_information", F.mutual_information(p)),
        ("variation_ratio", F.variation_ratio(p)),
        ("mean_std", F.mean_std(p)),
        ("predictive_variance", F.predictive_variance(p)),
        ("least_confidence", F.least_confidence(pbar)),
        ("margin", -F.prob_margin(pbar)),
    ):
        np.testing.assert_array_equal(acquisition_scores(name, p), ref)


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="probs"):
        acquisition_scores("mutual_information", np.ones((2, 3)))
    with pytest.raises(ValueError, match="probs"):
        acquisition_scores("mutual_information", np.full((2, 3, 2), 0.7))


@settings(max_examples=40, deadline=None)
@given(s=st.integers(1, 6), n=st.integers(1, 5), c=st.integers(2, 5), seed=st.integers(0, 10_000))
def test_properties(s, n, c, seed):
    p = np.random.default_rng(seed).dirichlet(np.full(c, 0.5), size=(s, n))
    h = acquisition_scores("predictive_entropy", p)
    b = acquisition_scores("mutual_information", p)
    assert np.all(b >= 0) and np.all(b <= h + 1e-9)
    vr = acquisition_scores("variation_ratio", p)
    assert np.all(vr >= 0) and np.all(vr <= 1 - 1 / s + 1e-12)
    np.testing.assert_allclose(vr * s, np.round(vr * s), atol=1e-9)  # a count over S
    assert np.all(acquisition_scores("mean_std", p) >= 0)
    # scoring in chunks equals scoring all at once
    full = acquisition_scores("mutual_information", p)
    np.testing.assert_allclose(
        np.concatenate(
            [acquisition_scores("mutual_information", p[:, i : i + 1]) for i in range(n)]
        ),
        full,
    )


def _imported_subpackages(pkg) -> set[tuple[str, str]]:
    """``(file, samplescope sub-package)`` of every ``from ..x`` / ``from samplescope.x`` import."""
    import ast
    from pathlib import Path

    out = set()
    for path in Path(pkg.__file__).resolve().parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ImportFrom):
                continue
            mod = node.module or ""
            if node.level == 2:
                out.add((path.name, mod.split(".")[0]))
            elif node.level == 0 and mod.startswith("samplescope."):
                out.add((path.name, mod.split(".")[1]))
    return out


def test_active_and_trust_do_not_import_each_other_or_scoring():
    import samplescope.active
    import samplescope.trust

    for pkg, banned in (
        (samplescope.active, {"trust", "scoring"}),
        (samplescope.trust, {"active", "scoring"}),
    ):
        bad = {(f, m) for f, m in _imported_subpackages(pkg) if m in banned}
        assert not bad, bad
