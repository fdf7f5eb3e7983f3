"""ActiveLoop: subset ids map back to the pool, checkpoints, and kill-and-resume equality."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from samplescope.active import ActiveLoop, LabelFilter, MCDropoutLearner, NoisyOracle, Pool
from samplescope.data import load_dataset
from samplescope.models import mlp

WORKER = Path(__file__).with_name("_resume_worker.py")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["OMP_NUM_THREADS"] = "1"
    env["PYTHONPATH"] = (
        str(Path(__file__).resolve().parents[2] / "src") + os.pathsep + env.get("PYTHONPATH", "")
    )
    return env


def _meta(state: Path) -> dict | None:
    try:
        with np.load(state, allow_pickle=False) as z:
            return json.loads(str(z["meta"]))
    except (OSError, ValueError, KeyError, EOFError):
        return None


@pytest.fixture(scope="module")
def digits():
    ds = load_dataset("digits")
    return ds.train.subset(np.arange(300)), ds.test.subset(np.arange(80))


def _learner(**kw):
    return MCDropoutLearner(
        lambda: mlp((1, 8, 8), 10, hidden=(32,), dropout=0.5),
        updates=15,
        batch_size=32,
        lr=1e-2,
        mc_samples=4,
        **kw,
    )


def test_kill_mid_step_and_resume_matches_uninterrupted(tmp_path):
    ref, killed = tmp_path / "ref", tmp_path / "killed"
    subprocess.run(
        [sys.executable, str(WORKER), str(ref), "0"], check=True, env=_env(), timeout=300
    )
    proc = subprocess.Popen([sys.executable, str(WORKER), str(killed), "0.3"], env=_env())
    state = killed / "state.npz"
    deadline = time.time() + 240
    try:
        while time.time() < deadline:
            meta = _meta(state) if state.exists() else None
            if meta is not None and meta["next_step"] >= 2:
                time.sleep(0.25)  # now inside the sleeping fit of the next step
                break
            time.sleep(0.05)
        else:
            pytest.fail("worker never reached step 2")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    assert not (killed / "result.json").exists()
    meta = _meta(state)
    assert meta is not None and 2 <= meta["next_step"] <= 4  # killed mid-run, checkpoint intact
    subprocess.run(
        [sys.executable, str(WORKER), str(killed), "0"], check=True, env=_env(), timeout=300
    )
    a = json.loads((ref / "result.json").read_text())
    b = json.loads((killed / "result.json").read_text())
    assert len(a["ids"]) == 10 + 4 * 5 and len(set(a["ids"])) == len(a["ids"])
    assert a == b


def test_subset_positions_map_to_pool_ids(digits):
    pool_split, test = digits
    # shift the ids so positions and ids differ (Baal's bug would label wrong points)
    from samplescope.data.split import DataSplit

    shifted = DataSplit(pool_split.x, pool_split.y, pool_split.sample_id * 3 + 1000)
    loop = ActiveLoop(
        _learner(),
        shifted,
        test,
        acquisition="max_entropy",
        initial=10,
        per_step=5,
        steps=2,
        pool_subset=50,
        seed=0,
    )
    loop.run()
    assert set(loop.pool.labelled_ids) <= set(shifted.sample_id)
    # labels received are those of the acquired ids
    np.testing.assert_array_equal(
        loop.pool.labels, shifted.y[shifted.positions(loop.pool.labelled_ids)]
    )
    # every acquired id was an unlabelled id at its step, in a subset of 50: top-5 by the score
    assert loop.pool.n_labelled == 20
    assert [r["n_labelled"] for r in loop.history] == [10, 15, 20]


def test_filter_rejects_and_counts(digits):
    pool_split, test = digits
    filt = LabelFilter(tau=0.999)  # distrust everything
    loop = ActiveLoop(
        _learner(),
        pool_split,
        test,
        acquisition="bald",
        initial=10,
        per_step=5,
        steps=2,
        pool_subset=40,
        oracle=NoisyOracle(pool_split, 0.5, 10, seed=0),
        label_filter=filt,
        seed=1,
    )
    loop.run()
    assert filt.rejections == [5, 5]
    assert loop.pool.n_rejected == 10 and loop.pool.n_labelled == 10
    assert loop.history[-1]["n_queried"] == 10


def test_deterministic_learner_and_diverse_batch(digits):
    pool_split, test = digits
    loop = ActiveLoop(
        _learner(bayesian=False),
        pool_split,
        test,
        acquisition="least_confidence",
        initial=10,
        per_step=4,
        steps=1,
        pool_subset=60,
        batch_mode="diverse",
        diversity=0.5,
        initial_method="kmeans",
        seed=0,
    )
    loop.run()
    assert loop.pool.n_labelled == 14
    assert 0 <= loop.history[-1]["accuracy"] <= 1


def test_checkpoint_mismatch_and_bad_args(digits, tmp_path):
    pool_split, test = digits
    ActiveLoop(
        _learner(),
        pool_split,
        test,
        acquisition="random",
        initial=10,
        steps=1,
        pool_subset=30,
        checkpoint_dir=tmp_path,
        seed=0,
    ).run()
    with pytest.raises(ValueError, match="checkpoint"):
        ActiveLoop(
            _learner(),
            pool_split,
            test,
            acquisition="bald",
            initial=10,
            steps=1,
            checkpoint_dir=tmp_path,
            seed=0,
        ).run()
    with pytest.raises(ValueError, match="batch_mode"):
        ActiveLoop(_learner(), pool_split, test, batch_mode="nope")
    with pytest.raises(ValueError, match="pool_subset"):
        ActiveLoop(_learner(), pool_split, test, pool_subset=0)
    assert isinstance(Pool.from_state_dict(Pool([1, 2]).state_dict()), Pool)


def test_extending_a_finished_run_equals_a_longer_run(digits, tmp_path):
    pool_split, test = digits
    kw = {"acquisition": "max_entropy", "initial": 10, "per_step": 3, "pool_subset": 40, "seed": 5}
    ActiveLoop(_learner(), pool_split, test, steps=1, checkpoint_dir=tmp_path / "a", **kw).run()
    ext = ActiveLoop(_learner(), pool_split, test, steps=2, checkpoint_dir=tmp_path / "a", **kw)
    ext.run(resume=True)
    full = ActiveLoop(_learner(), pool_split, test, steps=2, checkpoint_dir=tmp_path / "b", **kw)
    full.run()
    np.testing.assert_array_equal(ext.pool.labelled_ids, full.pool.labelled_ids)
    assert [r["n_labelled"] for r in ext.history] == [10, 13, 16]


def test_checkpoints_under_old_acquisition_names_resume(digits):
    pool_split, test = digits
    loop = ActiveLoop(_learner(), pool_split, test, acquisition="bald")
    assert loop.acquisition.name == "mutual_information"  # canonical name in new checkpoints
    assert loop._same_acquisition("bald") and loop._same_acquisition("mutual_information")
    assert not loop._same_acquisition("max_entropy") and not loop._same_acquisition(None)


def test_balanced_batches_avoid_tiny_last_batch():
    lr = MCDropoutLearner(lambda: None, batch_size=64, updates=15)
    assert (
        lr.batch_size_for(130) == 44 and lr.batch_size_for(20) == 20
    )  # 44 + 43 + 43, not 64 + 64 + 2
    assert lr.epochs_for(130) == 5  # 15 updates / 3 batches per epoch
    unbalanced = MCDropoutLearner(lambda: None, batch_size=64, balanced_batches=False)
    assert unbalanced.batch_size_for(65) == 65 and unbalanced.batch_size_for(66) == 64
    assert (
        MCDropoutLearner(lambda: None, batch_size=64, balanced_batches=False).batch_size_for(130)
        == 64
    )


def test_fit_on_one_more_than_a_batch(digits):
    pool_split, _ = digits
    train = pool_split.subset(np.arange(33))  # 32 + 1: the trainer's one-sample-batch path
    for balanced in (False, True):
        lr = MCDropoutLearner(
            lambda: mlp((1, 8, 8), 10, hidden=(8,), dropout=0.5),
            updates=2,
            batch_size=32,
            balanced_batches=balanced,
        )
        assert lr.fit(train, 0).model_ is not None


def _grid_learner():
    return MCDropoutLearner(
        lambda: mlp((1, 8, 8), 10, hidden=(32,), dropout=0.5),
        updates=10,
        batch_size=32,
        lr=1e-2,
        mc_samples=4,
    )


def test_run_grid_same_curves_in_process_and_in_a_process_pool(digits, tmp_path):
    from samplescope.active import RunSpec, run_grid

    train, test = digits
    kw = {"initial": 10, "per_step": 5, "steps": 2, "pool_subset": 60}
    specs = [RunSpec(a, a, r, dict(kw)) for r in range(2) for a in ("bald", "random")]
    cols = ["run", "n_labelled", "accuracy"]
    a = run_grid(specs, _grid_learner, train, test, tmp_path / "a", progress=False, log=None)
    b = run_grid(specs, _grid_learner, train, test, tmp_path / "b", executor="process", workers=2)
    assert len(a) == 4 * 3
    pd_a = a[cols].sort_values(cols[:2]).reset_index(drop=True)
    pd_b = b[cols].sort_values(cols[:2]).reset_index(drop=True)
    assert pd_a.equals(pd_b)
    for spec in specs:
        ids_a = np.load(tmp_path / "a" / "runs" / spec.run_name / "state.npz")
        ids_b = np.load(tmp_path / "b" / "runs" / spec.run_name / "state.npz")
        for key in ids_a.files:
            if key != "meta":
                np.testing.assert_array_equal(ids_a[key], ids_b[key])


def test_dense_l2_puts_gals_penalty_on_the_first_linear_layer_only():
    import torch

    from samplescope.models import gal_cnn

    lr = MCDropoutLearner(gal_cnn, dense_l2=3.5, weight_decay=1e-4)
    model = gal_cnn()
    opt = lr._optimizer(model, 70)(model.parameters())
    dense = next(m for m in model.modules() if isinstance(m, torch.nn.Linear))
    pen, rest = opt.param_groups
    assert pen["params"] == [dense.weight]
    assert pen["weight_decay"] == pytest.approx(1e-4 + 2 * 3.5 / 70)
    assert rest["weight_decay"] == 1e-4
    assert sum(p.numel() for p in rest["params"]) + dense.weight.numel() == sum(
        p.numel() for p in model.parameters()
    )
    # one Adam step with the group decay = one step on CE + (c/N)·Σw² (the Keras l2 term)
    torch.manual_seed(0)
    x, y = torch.randn(8, 1, 28, 28), torch.randint(0, 10, (8,))
    m1, m2 = gal_cnn().eval(), gal_cnn().eval()
    m2.load_state_dict(m1.state_dict())
    o1 = MCDropoutLearner(gal_cnn, dense_l2=3.5)._optimizer(m1, 70)(m1.parameters())
    o2 = torch.optim.Adam(m2.parameters(), lr=1e-3)
    d2 = next(m for m in m2.modules() if isinstance(m, torch.nn.Linear))
    torch.nn.functional.cross_entropy(m1(x), y).backward()
    (torch.nn.functional.cross_entropy(m2(x), y) + 3.5 / 70 * d2.weight.pow(2).sum()).backward()
    o1.step()
    o2.step()
    for p1, p2 in zip(m1.parameters(), m2.parameters(), strict=True):
        torch.testing.assert_close(p1, p2, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="dense_l2"):
        MCDropoutLearner(gal_cnn, dense_l2=-1)
    with pytest.raises(ValueError, match="optimizer"):
        MCDropoutLearner(gal_cnn, dense_l2=1.0, optimizer="adamw")._optimizer(model, 10)


def test_gal_protocol_learner_settings():
    from samplescope.models import gal_cnn

    lr = MCDropoutLearner.gal_protocol(device="cpu", bayesian=False)
    assert (lr.epochs, lr.batch_size, lr.lr, lr.dense_l2, lr.mc_samples) == (50, 128, 1e-3, 3.5, 20)
    assert lr.model_fn is gal_cnn and not lr.bayesian
    assert lr.epochs_for(1000) == 50 and lr.batch_size_for(1000) == 125  # 8 even batches
