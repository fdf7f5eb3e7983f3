import numpy as np
import pandas as pd
import pytest
import torch

from samplescope.data import from_arrays
from samplescope.io import ScoreTable
from samplescope.models import (
    default_model,
    gal_cnn,
    mlp,
    resnet,
    small_cnn,
    split_at_first_dropout,
    split_head,
)
from samplescope.training import Callback, evaluate, fit, predict_logits


class Recorder(Callback):
    def __init__(self, val):
        self.val = val
        self.seen = []
        self.evals = []

    def on_batch_end(self, state, batch):
        assert batch.losses.shape == batch.sample_ids.shape == batch.labels.shape
        assert batch.logits.shape == (len(batch.labels), 10)
        self.seen.append(batch.sample_ids.numpy())

    def on_epoch_end(self, state):
        self.evals.append(state.evaluate(self.val))


def test_mlp_digits_reaches_95_percent(digits):
    torch.manual_seed(0)
    model = mlp(digits.input_shape, 10)
    rec = Recorder(digits.test)
    res = fit(
        model,
        digits.train,
        epochs=30,
        batch_size=64,
        lr=1e-3,
        seed=0,
        callbacks=[rec],
        progress=False,
        val=digits.test,
    )
    acc = (predict_logits(model, digits.test).argmax(1) == digits.test.y).mean()
    assert acc >= 0.95
    assert res.history[-1]["val_acc"] == pytest.approx(acc)
    # every epoch visits each training sample exactly once
    first_epoch = np.concatenate(rec.seen[: len(rec.seen) // 30])
    assert sorted(first_epoch.tolist()) == sorted(digits.train.sample_id.tolist())
    assert len(rec.evals) == 30 and rec.evals[-1].losses.shape == (450,)


def test_fit_is_deterministic(digits):
    outs = []
    for _ in range(2):
        torch.manual_seed(1)
        m = mlp(digits.input_shape, 10, hidden=(32,), dropout=0.2)
        fit(m, digits.train, epochs=2, seed=5, progress=False)
        outs.append(predict_logits(m, digits.test))
    np.testing.assert_array_equal(outs[0], outs[1])


def test_sample_weight_zero_ignores_samples(digits):
    # planted: zero weight on every sample of class 3 -> the model never learns class 3 as well
    w = (digits.train.y != 3).astype(float)
    torch.manual_seed(0)
    m = mlp(digits.input_shape, 10, hidden=(64,))
    fit(m, digits.train, epochs=15, sample_weight=w, seed=0, progress=False)
    pred = predict_logits(m, digits.test).argmax(1)
    acc3 = (pred[digits.test.y == 3] == 3).mean()
    acc_other = (pred[digits.test.y != 3] == digits.test.y[digits.test.y != 3]).mean()
    assert acc3 < 0.2 < 0.9 < acc_other


def test_multi_term_loss_terms_reach_callbacks(digits):
    def two_terms(logits, y):
        ce = torch.nn.functional.cross_entropy(logits, y, reduction="none")
        return {"ce": ce, "l2": 0.01 * logits.pow(2).sum(1)}

    seen = []

    class T(Callback):
        def on_batch_end(self, state, batch):
            seen.append(batch)

    m = mlp(digits.input_shape, 10, hidden=(16,))
    fit(m, digits.train, epochs=1, loss_fn=two_terms, callbacks=[T()], progress=False)
    b = seen[0]
    assert set(b.terms) == {"ce", "l2"}
    torch.testing.assert_close(b.losses, b.terms["ce"] + b.terms["l2"])
    ev = evaluate(m, digits.test, loss_fn=two_terms)
    np.testing.assert_allclose(ev.losses, ev.terms["ce"] + ev.terms["l2"], rtol=1e-6)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"epochs": 0}, "epochs: expected a positive"),
        ({"sample_weight": np.ones(3)}, "sample_weight: expected 1347"),
        ({"sample_weight": -np.ones(1347)}, "sample_weight: expected non-negative"),
        ({"optimizer": "lion"}, "optimizer: expected one of"),
        ({"weight_mode": "both"}, "weight_mode: expected one of"),
    ],
)
def test_fit_bad_input(digits, kwargs, match):
    with pytest.raises(ValueError, match=match):
        fit(mlp(digits.input_shape, 10, hidden=(4,)), digits.train, progress=False, **kwargs)


@pytest.mark.parametrize(
    "model, shape",
    [
        (gal_cnn(10, 1, 28), (2, 1, 28, 28)),
        (small_cnn(10, 1, 28), (2, 1, 28, 28)),
        (small_cnn(10, 3, 32), (2, 3, 32, 32)),
        (small_cnn(10, 1, 8), (2, 1, 8, 8)),
        (resnet(8, 10, 1), (2, 1, 28, 28)),
        (resnet(8, 10, 3), (2, 3, 32, 32)),
        (default_model((1, 8, 8), 10), (2, 1, 8, 8)),
    ],
)
def test_models_output_logits_and_cut(model, shape):
    model.eval()
    x = torch.rand(shape)
    out = model(x)
    assert out.shape == (2, 10)
    trunk, head = split_head(model)
    torch.testing.assert_close(head(trunk(x)), out)


def test_split_at_first_dropout_gal():
    m = gal_cnn().eval()
    pre, rest = split_at_first_dropout(m)
    x = torch.rand(3, 1, 28, 28)
    torch.testing.assert_close(rest(pre(x)), m(x))
    assert isinstance(rest[0], torch.nn.Dropout)


def test_score_table_roundtrip(tmp_path):
    t = ScoreTable.from_arrays([5, 3, 9], [0, 1, 1], true_label=[0, 2, 1], loss=[0.1, 2.0, 0.5])
    assert t.df["is_noisy"].tolist() == [False, True, False]
    for suffix in (".parquet", ".csv"):
        p = t.save(tmp_path / f"s{suffix}")
        u = ScoreTable.load(p)
        pd.testing.assert_frame_equal(u.df, t.df, check_dtype=False)
    assert t.hardest("loss", 1)["sample_id"].item() == 3
    t.add("margin", [3.0, 1.0, 2.0], sample_id=[9, 5, 3])  # aligned by id
    assert t.column("margin").tolist() == [1.0, 2.0, 3.0]
    assert not list(tmp_path.glob(".*.tmp"))  # atomic: no temp files left behind


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: ScoreTable.from_arrays([1, 1], [0, 0]), "unique sample_id"),
        (lambda: ScoreTable.from_arrays([1, 2], [0, 0], loss=[1.0]), "loss: expected 2 values"),
        (
            lambda: ScoreTable.from_arrays([1, 2], [0, 0], loss=[1.0, np.nan]),
            "loss: expected finite",
        ),
        (
            lambda: ScoreTable.from_arrays([1, 2], [0, 0]).save("x.txt"),
            "path: expected a .parquet or .csv",
        ),
        (lambda: ScoreTable.from_arrays([1, 2], [0, 0]).add("label", [1, 2]), "reserved column"),
    ],
)
def test_score_table_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("n, batch_size", [(65, 64), (129, 64), (257, 128), (1, 8), (64, 64)])
def test_every_sample_once_per_epoch_with_a_one_sample_tail(n, batch_size):
    # a last batch of one sample is merged into the previous batch (BatchNorm needs >= 2)
    x = np.random.default_rng(0).random((n, 4)).astype(np.float32)
    split = from_arrays(x, np.arange(n) % 2)
    seen = []

    class Ids(Callback):
        def on_batch_end(self, state, batch):
            seen.append(batch.sample_ids.numpy())

    fit(
        mlp(4, 2, hidden=(3,)),
        split,
        epochs=2,
        batch_size=batch_size,
        callbacks=[Ids()],
        progress=False,
    )
    ids = np.concatenate(seen)
    assert sorted(ids.tolist()) == sorted(list(range(n)) * 2)
    assert all(len(b) >= 2 for b in seen) or n == 1
