"""The framework-agnostic DynamicsRecorder: a numpy reference, fit's callbacks, memory, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from samplescope.difficulty import RECORDER_COLUMNS, DynamicsRecorder, TrainingDynamics
from samplescope.models import mlp
from samplescope.training import LambdaCallback, fit


def _reference(batches, n_ids):
    """Plain-numpy scores from a list of (epoch, ids, logits, labels) presentations."""
    per = {}  # (epoch, id) -> list of (loss, p_y, margin, correct)
    pres = {i: [] for i in range(n_ids)}
    margins = {i: [] for i in range(n_ids)}
    for e, ids, z, y in batches:
        for i, zi, yi in zip(ids, z, y, strict=True):
            p = np.exp(zi - zi.max())
            p /= p.sum()
            other = np.delete(zi, yi).max()
            c = float(np.argmax(zi) == yi)
            per.setdefault((e, i), []).append((-np.log(p[yi]), p[yi], zi[yi] - other, c))
            pres[i].append(c)
            margins[i].append(zi[yi] - other)
    epochs = sorted({e for e, *_ in batches})
    out = {k: np.zeros(n_ids) for k in RECORDER_COLUMNS}
    for i in range(n_ids):
        rows = [np.mean(per[(e, i)], axis=0) for e in epochs if (e, i) in per]
        ep = [k for k, e in enumerate(epochs) if (e, i) in per]
        if not rows:  # never drawn: not in the table
            continue
        r = np.array(rows)
        out["action_score"][i] = r[:, 0].sum()
        out["cartography_confidence"][i] = 1 - r[:, 1].mean()
        out["cartography_variability"][i] = r[:, 1].std()
        out["cartography_correctness"][i] = 1 - r[:, 3].mean()
        out["aum"][i] = -np.mean(margins[i])
        c = pres[i]
        forget = sum(a == 1 and b == 0 for a, b in zip(c[:-1], c[1:], strict=True))
        out["forgetting"][i] = forget if max(c) == 1 else len(epochs)
        out["loss_mean"][i], out["loss_std"][i] = r[:, 0].mean(), r[:, 0].std()
        out["loss_first"][i], out["loss_last"][i] = r[0, 0], r[-1, 0]
        out["loss_slope"][i] = np.polyfit(ep, r[:, 0], 1)[0] if len(ep) > 1 else 0.0
    return out


def _batches(seed, n=12, c=3, epochs=4, b=5, repeat=False):
    rng = np.random.default_rng(seed)
    out = []
    for e in range(epochs):
        ids = rng.choice(n, n, replace=repeat) if repeat else rng.permutation(n)
        for lo in range(0, n, b):
            bi = ids[lo : lo + b]
            out.append((e * 10, bi, rng.normal(0, 2, (len(bi), c)), bi % c))
    return out


@pytest.mark.parametrize("history", [False, True])
@pytest.mark.parametrize("repeat", [False, True])
def test_matches_numpy_reference(history, repeat):
    batches = _batches(0, repeat=repeat)
    rec = DynamicsRecorder(history=history)
    for e, ids, z, y in batches:
        rec.update(ids + 100, z, y, epoch=e)
    t = rec.table()
    seen = np.unique(np.concatenate([ids for _, ids, *_ in batches]))
    np.testing.assert_array_equal(t.df["sample_id"], seen + 100)  # learned ids come sorted
    ref = _reference(batches, 12)
    for k in RECORDER_COLUMNS:
        np.testing.assert_allclose(t.df[k], ref[k][seen], rtol=1e-9, atol=1e-12, err_msg=k)


def test_loss_terms_and_given_losses():
    rec = DynamicsRecorder([7, 8])
    z = np.array([[1.0, 0.0], [0.0, 1.0]])
    for e in range(3):
        rec.update([8, 7], z, [1, 1], epoch=e, loss_terms={"a": [1.0, 2.0], "b": [0.5, 0.5]})
    sc = rec.scores()
    np.testing.assert_allclose(sc["action_score"], [7.5, 4.5])  # rows in the given id order
    np.testing.assert_allclose(sc["action_score_a"], [6.0, 3.0])
    np.testing.assert_allclose(sc["loss_slope"], [0.0, 0.0], atol=1e-12)
    assert list(rec.table().df["sample_id"]) == [7, 8]


def _fit_with_both(s, **kw):
    cb = TrainingDynamics(history=False)
    rec = DynamicsRecorder()
    feed = LambdaCallback(
        on_batch_end=lambda st, b: rec.update(
            b.sample_ids, b.logits, b.labels, epoch=b.epoch, losses=b.losses
        )
    )
    torch.manual_seed(0)
    fit(mlp((1, 8, 8), 10, hidden=(16,)), s, epochs=3, batch_size=40, callbacks=[cb, feed], **kw)
    return cb, rec


@pytest.mark.parametrize("mode", ["loss", "sampler"])
def test_fit_callback_is_a_thin_user(digits, mode):
    s = digits.train.subset(np.arange(150))
    w = np.linspace(0.2, 1.0, len(s))
    cb, rec = _fit_with_both(s, progress=False, sample_weight=w, weight_mode=mode)
    a = cb.table().df
    b = rec.table().df.set_index("sample_id").loc[a["sample_id"]].reset_index()
    assert len(a) == len(b) > 0.5 * len(s)
    for k in RECORDER_COLUMNS:
        np.testing.assert_array_equal(a[k].to_numpy(), b[k].to_numpy(), err_msg=k)


def test_half_precision_logits_are_read_as_float32():
    z = torch.randn(6, 3)
    a, b = DynamicsRecorder(), DynamicsRecorder()
    a.update(np.arange(6), z.bfloat16(), np.arange(6) % 3, epoch=0)
    b.update(np.arange(6), z.bfloat16().float(), np.arange(6) % 3, epoch=0)
    np.testing.assert_array_equal(a.table().df.to_numpy(), b.table().df.to_numpy())


def test_memory_does_not_grow_with_epochs():
    rec = DynamicsRecorder(np.arange(50))
    z = torch.randn(50, 4)
    sizes = []
    for e in range(6):
        rec.update(np.arange(50), z, np.arange(50) % 4, epoch=e)
        sizes.append(sum(a.size for a in vars(rec).values() if isinstance(a, np.ndarray)))
    assert len(set(sizes)) == 1 and sizes[0] >= 50 * 16  # O(N) running sums only
    assert rec.epochs_recorded == 6 and rec.table().df["forgetting"].max() <= 6


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 6))
def test_batch_cut_changes_nothing(seed, b):
    """The same presentations, in the same order, cut into batches differently."""
    whole = _batches(seed, b=12, repeat=True)  # one batch per epoch (with repeats)
    r1, r2 = DynamicsRecorder(), DynamicsRecorder()
    for e, ids, z, y in whole:
        r1.update(ids, z, y, epoch=e)
        for lo in range(0, len(ids), b):
            r2.update(ids[lo : lo + b], z[lo : lo + b], y[lo : lo + b], epoch=e)
    t1, t2 = r1.table().df, r2.table().df
    for k in RECORDER_COLUMNS:
        np.testing.assert_allclose(t1[k], t2[k], rtol=1e-12, atol=1e-12, err_msg=k)


def test_bad_input():
    rec = DynamicsRecorder([1, 2])
    z = np.zeros((2, 3))
    with pytest.raises(ValueError, match="sample_ids"):
        rec.update([1, 9], z, [0, 0], epoch=0)
    with pytest.raises(ValueError, match="logits"):
        rec.update([1, 2], np.zeros((2,)), [0, 0], epoch=0)
    with pytest.raises(ValueError, match="labels"):
        rec.update([1, 2], z, [0, 3], epoch=0)
    with pytest.raises(ValueError, match="epoch"):
        rec.update([1, 2], z, [0, 1], epoch=1.5)
    rec.update([1, 2], z, [0, 1], epoch=3)
    with pytest.raises(ValueError, match="epoch"):
        rec.update([1, 2], z, [0, 1], epoch=2)
    with pytest.raises(ValueError, match="loss_terms"):
        rec.update([1, 2], z, [0, 1], epoch=3, loss_terms={"a": [1.0, 1.0]})
    with pytest.raises(ValueError, match="update"):
        DynamicsRecorder().table()
    with pytest.raises(ValueError, match="history"):
        _ = rec.loss_
    with pytest.raises(ValueError, match="columns"):
        rec.table(columns=["nope"])
