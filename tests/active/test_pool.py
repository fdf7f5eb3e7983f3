"""Pool bookkeeping: no id lost or duplicated under any acquire/reject/undo sequence."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from samplescope.active import Pool


def _check_partition(pool: Pool) -> None:
    parts = [pool.labelled_ids, pool.unlabelled_ids, pool.rejected_ids]
    allids = np.concatenate(parts)
    assert len(allids) == len(pool)  # nothing duplicated ...
    np.testing.assert_array_equal(np.sort(allids), pool.universe)  # ... nothing lost
    assert pool.n_labelled + pool.n_unlabelled + pool.n_rejected == len(pool)


ops = st.lists(
    st.tuples(st.sampled_from(["acquire", "reject", "undo", "undo_step"]), st.integers(0, 10**6)),
    max_size=30,
)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 40), ops=ops)
def test_random_sequences_keep_a_partition(n, ops, tmp_path_factory):
    ids = np.arange(n) * 7 + 3
    pool = Pool(ids)
    history: dict[int, int] = {}
    for step, (op, r) in enumerate(ops):
        rng = np.random.default_rng(r)
        if op in ("acquire", "reject") and pool.n_unlabelled:
            k = int(rng.integers(1, pool.n_unlabelled + 1))
            chosen = rng.choice(pool.unlabelled_ids, size=k, replace=False)
            labels = rng.integers(0, 3, size=k)
            getattr(pool, op)(chosen, labels, step=step)
            history.update({int(i): int(y) for i, y in zip(chosen, labels, strict=True)})
            np.testing.assert_array_equal(pool.label_of(chosen), labels)
        elif op == "undo" and pool.n_labelled + pool.n_rejected:
            taken = np.concatenate([pool.labelled_ids, pool.rejected_ids])
            back = rng.choice(taken, size=int(rng.integers(1, len(taken) + 1)), replace=False)
            pool.undo(back)
            assert np.isin(back, pool.unlabelled_ids).all()
        elif op == "undo_step":
            pool.undo_step(int(rng.integers(0, step + 1)))
        _check_partition(pool)
        for i, y in zip(pool.labelled_ids, pool.labels, strict=True):
            assert history[int(i)] == y
    # atomic save / restore round trip
    path = tmp_path_factory.mktemp("pool") / "pool.npz"
    pool.save(path)
    back = Pool.load(path)
    for attr in ("labelled_ids", "unlabelled_ids", "rejected_ids", "labels", "acquired_step"):
        np.testing.assert_array_equal(getattr(back, attr), getattr(pool, attr))


def test_order_steps_and_errors():
    pool = Pool([10, 11, 12, 13])
    pool.acquire([12, 10], [1, 0], step=0)
    pool.acquire([13], [2], step=1)
    np.testing.assert_array_equal(pool.labelled_ids, [12, 10, 13])
    np.testing.assert_array_equal(pool.labels, [1, 0, 2])
    np.testing.assert_array_equal(pool.acquired_step, [0, 0, 1])
    with pytest.raises(ValueError, match="already"):
        pool.acquire([10], [0], step=2)
    with pytest.raises(ValueError, match="unknown"):
        pool.acquire([99], [0], step=2)
    with pytest.raises(ValueError, match="duplicates"):
        pool.acquire([11, 11], [0, 0], step=2)
    with pytest.raises(ValueError, match="labels"):
        pool.acquire([11], [0, 1], step=2)
    with pytest.raises(ValueError, match="unlabelled"):
        pool.undo([11])
    with pytest.raises(ValueError, match="unique"):
        Pool([1, 1])
    np.testing.assert_array_equal(pool.undo_step(0), [10, 12])
    np.testing.assert_array_equal(pool.labelled_ids, [13])
