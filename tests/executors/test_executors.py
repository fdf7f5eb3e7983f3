"""Executors: identical seeded results in-process, in a process pool and on a local Dask
cluster; executors we create are closed; missing extras give one-line ImportErrors."""

from __future__ import annotations

import sys
import types
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import pytest

from samplescope.cli.executor_option import parse_executor
from samplescope.executors import (
    DaskExecutor,
    InProcessExecutor,
    RayExecutor,
    executor_context,
    make_executor,
    run_tasks,
    split_evenly,
)

from ._tasks import fail_on, seeded_fit

DATA = np.random.default_rng(0).standard_normal((64, 5)).astype(np.float32)
TASKS = [(s,) for s in range(4)]


@pytest.fixture(scope="module")
def reference():
    return run_tasks(seeded_fit, TASKS, None, common=(DATA,))


def _same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)


def test_inprocess_matches_direct_calls(reference):
    direct = [seeded_fit(DATA, s) for s in range(4)]
    _same(reference, direct)
    # different seeds give different models (the comparison below can fail)
    assert not np.array_equal(reference[0], reference[1])


def test_process_pool_identical(reference):
    _same(run_tasks(seeded_fit, TASKS, "process", workers=2, common=(DATA,)), reference)
    _same(run_tasks(seeded_fit, TASKS, "loky", workers=2, common=(DATA,)), reference)


def test_dask_local_cluster_identical_and_closed(reference):
    pytest.importorskip("distributed")
    # run_tasks(fn, tasks, "dask") goes through this same context manager
    with executor_context("dask", workers=2) as ex:
        assert isinstance(ex, DaskExecutor)
        assert ex.n_workers == 2
        addr = ex.client.scheduler.address
        assert addr.startswith("tcp://127.0.0.1:")
        got = run_tasks(seeded_fit, TASKS, ex, common=(DATA,))
        cluster, client = ex.cluster, ex.client
    _same(got, reference)
    assert client.status == "closed"
    assert cluster.status.name == "closed"


def test_user_executor_left_open(reference):
    # one thread: threads share torch's global RNG, so concurrent seeded tasks would race
    with ThreadPoolExecutor(1) as pool:
        _same(run_tasks(seeded_fit, TASKS, pool, common=(DATA,)), reference)
        assert pool.submit(lambda: 3).result() == 3  # still usable: not shut down by run_tasks


def test_inprocess_executor_and_order():
    ex = make_executor("inprocess")
    assert isinstance(ex, InProcessExecutor)
    assert run_tasks(fail_on, [(s, -1) for s in range(6)], ex) == list(range(6))


@pytest.mark.parametrize("executor", [None, "process"])
def test_first_error_propagates(executor):
    with pytest.raises(RuntimeError, match="task 2 failed"):
        run_tasks(fail_on, [(s, 2) for s in range(4)], executor, workers=2)


def test_bad_executor_values():
    with pytest.raises(ValueError, match="executor: expected one of"):
        run_tasks(fail_on, [(1, 0)], "threads")
    with pytest.raises(ValueError, match="executor: expected None"):
        run_tasks(fail_on, [(1, 0)], 42)
    with pytest.raises(ValueError, match="workers: expected a positive integer"):
        make_executor("process", workers=0)


def _block_import(monkeypatch, name):
    monkeypatch.setitem(sys.modules, name, None)  # import name -> ImportError


def test_missing_dask_extra_one_line(monkeypatch):
    _block_import(monkeypatch, "distributed")
    with pytest.raises(ImportError) as exc:
        make_executor("dask")
    msg = str(exc.value)
    assert "[dask]" in msg and "\n" not in msg
    assert exc.value.__cause__ is None and exc.value.__suppress_context__


def test_missing_ray_extra_one_line(monkeypatch):
    _block_import(monkeypatch, "ray")
    with pytest.raises(ImportError) as exc:
        run_tasks(fail_on, [(1, 0)], "ray")
    msg = str(exc.value)
    assert "[ray]" in msg and "\n" not in msg


def test_ray_adapter_uses_objectref_future(monkeypatch, reference):
    """A stand-in ``ray`` module: the adapter must go through remote(...).remote(...).future()."""
    calls = {"init": 0, "shutdown": 0, "future": 0}
    fake = types.ModuleType("ray")
    fake.is_initialized = lambda: calls["init"] > calls["shutdown"]

    def init(**kw):
        assert kw.get("_node_ip_address") == "127.0.0.1"
        calls["init"] += 1

    def shutdown():
        calls["shutdown"] += 1

    class Ref:
        def __init__(self, value):
            self.value = value

        def future(self):
            calls["future"] += 1
            f = Future()
            f.set_result(self.value)
            return f

    def remote(**opts):
        def wrap(fn):
            return types.SimpleNamespace(remote=lambda *a: Ref(fn(*a)))

        return wrap

    fake.init, fake.shutdown, fake.remote = init, shutdown, remote
    fake.cluster_resources = lambda: {"CPU": 3}
    monkeypatch.setitem(sys.modules, "ray", fake)
    got = run_tasks(seeded_fit, TASKS, "ray", workers=2, common=(DATA,))
    _same(got, reference)
    assert calls == {"init": 1, "shutdown": 1, "future": 4}
    ex = RayExecutor()
    assert ex.n_workers == 3
    ex.shutdown()


@pytest.mark.parametrize(
    ("text", "address", "workers", "expected"),
    [
        (None, None, None, ("inprocess", None, None)),
        ("inprocess", None, None, ("inprocess", None, None)),
        ("process", None, 3, ("process", 3, None)),
        ("loky:4", None, None, ("process", 4, None)),
        ("dask", None, None, ("dask", None, None)),
        ("dask:3", None, None, ("dask", 3, None)),
        ("dask:tcp://10.0.0.1:8786", None, None, ("dask", None, "tcp://10.0.0.1:8786")),
        ("tcp://10.0.0.1:8786", None, 2, ("dask", 2, "tcp://10.0.0.1:8786")),
        (None, "tcp://h:8786", None, ("dask", None, "tcp://h:8786")),
        ("ray:auto", None, None, ("ray", None, "auto")),
    ],
)
def test_parse_executor(text, address, workers, expected):
    spec = parse_executor(text, address=address, workers=workers)
    assert (spec.name, spec.workers, spec.address) == expected
    assert spec.executor == (None if expected[0] == "inprocess" else expected[0])


@pytest.mark.parametrize(
    ("text", "kw", "match"),
    [
        ("threads", {}, "executor: expected one of"),
        ("process:x", {}, "executor: expected process:WORKERS"),
        ("process:0", {}, "expected a positive integer"),
        ("process", {"address": "tcp://h:1"}, "--address: only used by"),
        ("dask:tcp://a:1", {"address": "tcp://b:1"}, "given twice"),
        ("dask", {"workers": -1}, "workers: expected a positive integer"),
    ],
)
def test_parse_executor_errors(text, kw, match):
    with pytest.raises(ValueError, match=match):
        parse_executor(text, **kw)


@pytest.mark.parametrize(
    ("n", "executor", "workers", "sizes"),
    [
        (15, None, None, [15]),
        (15, "inprocess", 4, [15]),
        (15, "process", 2, [8, 7]),
        (5, "dask", None, [2, 3]),
        (2, "process", 8, [1, 1]),
    ],
)
def test_split_evenly_covers_every_item_once(n, executor, workers, sizes):
    groups = split_evenly(n, executor, workers=workers)
    assert [len(g) for g in groups] == sizes
    assert [i for g in groups for i in g] == list(range(n))
