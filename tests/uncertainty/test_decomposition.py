"""Decomposition: hand-computed BALD, analytic limits, hypothesis properties, registry."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import samplescope.uncertainty
from samplescope import functional as F
from samplescope.difficulty import get_measure, list_measures
from samplescope.uncertainty import (
    decompose,
    expected_entropy,
    mutual_information,
    predictive_entropy,
    predictive_variance,
)


def _random(s: int, n: int, c: int, seed: int, sharp: float = 2.0) -> np.ndarray:
    z = np.random.default_rng(seed).normal(size=(s, n, c)) * sharp
    p = np.exp(z - z.max(-1, keepdims=True))
    return p / p.sum(-1, keepdims=True)


def test_hand_computed_bald() -> None:
    # two confident, disagreeing passes: H[mean] = ln 2, mean H = H(0.9, 0.1)
    p = np.array([[[0.9, 0.1]], [[0.1, 0.9]]])
    h = -(0.9 * np.log(0.9) + 0.1 * np.log(0.1))
    d = decompose(p)
    assert d["predictive_entropy"][0] == pytest.approx(np.log(2))
    assert d["expected_entropy"][0] == pytest.approx(h)
    assert d["mutual_information"][0] == pytest.approx(np.log(2) - h)
    # predictive variance: mean ||p_s||^2 - ||mean p||^2 = 0.82 - 0.5
    assert predictive_variance(p)[0] == pytest.approx(0.82 - 0.5)


def test_limits() -> None:
    p = _random(1, 20, 4, 0)
    same = np.repeat(p, 5, axis=0)
    assert np.all(mutual_information(same) < 1e-12)
    assert np.allclose(predictive_variance(same), 0, atol=1e-15)
    uniform = np.full((3, 2, 5), 0.2)
    assert np.allclose(predictive_entropy(uniform), np.log(5))
    onehot = np.eye(3)[None, [0, 1, 2]]
    assert np.all(decompose(onehot)["predictive_entropy"] == 0)
    # S one-hot votes spread uniformly over C classes: all uncertainty is epistemic
    votes = np.eye(4)[:, None, :]
    d = decompose(votes)
    assert d["expected_entropy"][0] == 0 and d["mutual_information"][0] == pytest.approx(np.log(4))


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 8),
    st.integers(1, 30),
    st.integers(2, 6),
    st.integers(0, 10**6),
    st.floats(0.1, 8.0),
)
def test_properties(s: int, n: int, c: int, seed: int, sharp: float) -> None:
    p = _random(s, n, c, seed, sharp)
    d = decompose(p)
    h, e, mi = d["predictive_entropy"], d["expected_entropy"], d["mutual_information"]
    assert np.all(mi >= 0) and np.all(mi <= h + 1e-12)
    assert np.all(e >= 0) and np.all(h <= np.log(c) + 1e-9)
    np.testing.assert_allclose(e + mi, h, atol=1e-12)
    assert np.all(predictive_variance(p) >= 0)
    np.testing.assert_allclose(expected_entropy(p), e, atol=1e-12)
    # order of the S samples does not matter
    perm = np.random.default_rng(seed).permutation(s)
    np.testing.assert_allclose(decompose(p[perm])["mutual_information"], mi, atol=1e-12)


def test_registry_measures() -> None:
    assert {
        "mutual_information",
        "predictive_variance",
        "predictive_entropy",
        "expected_entropy",
    } <= set(list_measures("stochastic"))
    p = _random(4, 10, 3, 1)
    y = np.arange(10) % 3
    np.testing.assert_allclose(get_measure("predictive_entropy")(p, y), predictive_entropy(p))
    np.testing.assert_allclose(get_measure("expected_entropy")(p, y), expected_entropy(p))
    np.testing.assert_allclose(
        get_measure("mutual_information")(p, y), mutual_information(p), atol=1e-12
    )
    np.testing.assert_allclose(
        get_measure("predictive_variance")(p, y), predictive_variance(p), atol=1e-12
    )
    with pytest.raises(ValueError, match="labels"):
        get_measure("predictive_entropy")(p, y[:3])


def test_wrappers_equal_the_functional_core() -> None:
    p = _random(5, 12, 4, 3)
    d = decompose(p)
    assert set(d) == {"predictive_entropy", "expected_entropy", "mutual_information"}
    for k, v in F.decompose(p).items():
        np.testing.assert_array_equal(d[k], v)
    np.testing.assert_array_equal(predictive_variance(p), F.predictive_variance(p))
    np.testing.assert_array_equal(mutual_information(p), F.mutual_information(p))


def test_uncertainty_imports_nothing_above_it() -> None:
    """uncertainty sits below difficulty/weighting/trust/active/scoring/report/cli."""
    upper = {"difficulty", "weighting", "trust", "active", "scoring", "report", "cli"}
    for path in Path(samplescope.uncertainty.__file__).resolve().parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                mod = node.module or ""
                if node.level == 2 or mod.startswith("samplescope."):
                    top = mod.removeprefix("samplescope.").split(".")[0]
                    assert top not in upper, f"{path.name} imports {mod}"


def test_registration_from_either_import_order() -> None:
    code = (
        "import samplescope.{first}; import samplescope.{second}; "
        "from samplescope.difficulty import list_measures; "
        "print(sorted(list_measures('stochastic')))"
    )
    for first, second in (("difficulty", "uncertainty"), ("uncertainty", "difficulty")):
        out = subprocess.run(
            [sys.executable, "-c", code.format(first=first, second=second)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert "predictive_entropy" in out and "mutual_information" in out


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="probs"):
        decompose(np.ones((3, 4)) / 4)
    with pytest.raises(ValueError, match="probs"):
        mutual_information(np.ones((2, 3, 4)))
    with pytest.raises(ValueError, match="probs"):
        predictive_variance(np.full((2, 3, 1), 1.0))
