"""Shared fixtures: the data directory (SAMPLESCOPE_DATA_DIR, else ../shared/data beside the repo)."""

from __future__ import annotations

import os
from pathlib import Path

# One intra-op thread in the test process and in the CLI subprocesses it starts (set before
# torch is imported): the tests check results, not speed, and on small shared machines two
# OpenMP threads per process oversubscribe the cores (a digits cross-fit took 68 s instead of
# 2.5 s under load). Results do not depend on it (the bit-for-bit fixtures pass either way).
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import pytest  # noqa: E402

_REPO = Path(__file__).resolve().parents[1]


def _data_dir() -> Path | None:
    env = os.environ.get("SAMPLESCOPE_DATA_DIR")
    for cand in ([Path(env)] if env else []) + [_REPO.parent / "shared" / "data"]:
        if (cand / "mnist.npz").is_file():
            return cand
    return None


@pytest.fixture(scope="session")
def data_dir() -> Path:
    d = _data_dir()
    if d is None:
        pytest.fail(
            "MNIST files not found: set SAMPLESCOPE_DATA_DIR to the folder holding mnist.npz"
        )
    return d


@pytest.fixture(scope="session")
def digits():
    from samplescope.data import load_dataset

    return load_dataset("digits")


@pytest.fixture(scope="session")
def mnist(data_dir):
    from samplescope.data import load_dataset

    return load_dataset("mnist", data_dir)


# --- hypothesis profiles (fuzz battery, tests/fuzz) -------------------------------------------
# HYPOTHESIS_PROFILE=default (fast, the default) | slow (many more examples). Tests with their
# own @settings(max_examples=...) keep their counts; the fuzz battery follows the profile.
from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile(
    "default", max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "slow", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
# --- end hypothesis profiles ------------------------------------------------------------------
