"""Data that stays data: lazy torch Datasets (live augmentation) and integer token inputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from samplescope.data import LazyInputs, LazySplit, as_split, from_arrays, from_torch_dataset
from samplescope.difficulty import DynamicsRecorder, TrainingDynamics, compute_measures
from samplescope.training import evaluate, fit, predict_logits
from samplescope.uncertainty import decompose, predict_stochastic


class Augmented(torch.utils.data.Dataset):
    """A planted 2-class signal plus fresh random noise at every read; logs each read."""

    def __init__(self, n: int = 40) -> None:
        g = torch.Generator().manual_seed(0)
        self.base = torch.randn(n, 6, generator=g)
        self.y = torch.arange(n) % 2
        self.base[:, 0] += 3.0 * self.y
        self.reads: dict[int, list[torch.Tensor]] = {}

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i: int):
        x = self.base[i] + 0.1 * torch.randn(6)  # global RNG: a new view every read
        self.reads.setdefault(int(i), []).append(x)
        return x, self.y[i]


def _net():
    return nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 2))


def test_lazy_split_sees_fresh_augmentations_every_epoch():
    ds = Augmented()
    s = from_torch_dataset(ds, lazy=True)
    assert isinstance(s, LazySplit) and isinstance(s.x, LazyInputs)
    assert s.x.shape == (40, 6) and s.x.dtype == np.float32
    np.testing.assert_array_equal(s.y, ds.y.numpy())
    ds.reads.clear()  # forget the label pass
    seen = []  # the inputs the model actually got, per batch
    model = _net()
    model.register_forward_pre_hook(lambda m, a: seen.append(a[0].clone()) if m.training else None)
    rec = TrainingDynamics()
    fit(model, s, epochs=3, batch_size=8, progress=False, callbacks=[rec])
    assert all(len(v) == 3 for v in ds.reads.values())  # one read per sample per epoch
    for views in ds.reads.values():  # three different views of each sample
        assert not torch.equal(views[0], views[1]) and not torch.equal(views[1], views[2])
    assert sum(len(b) for b in seen) == 3 * len(s)
    assert rec.table().df["aum"].notna().all()


def test_eager_split_freezes_augmentation_and_lazy_batches_match_eager_order():
    torch.manual_seed(0)
    eager = from_torch_dataset(Augmented())
    assert isinstance(eager.x, np.ndarray)  # one frozen view per sample
    # without augmentation the lazy and the in-memory paths train the same model
    x = np.random.default_rng(0).normal(size=(30, 6)).astype(np.float32)
    y = np.arange(30) % 2
    plain = torch.utils.data.TensorDataset(torch.as_tensor(x), torch.as_tensor(y))
    out = []
    for split in (from_arrays(x, y), from_torch_dataset(plain, lazy=True)):
        torch.manual_seed(0)
        m = _net()
        fit(m, split, epochs=2, batch_size=8, progress=False)
        out.append(predict_logits(m, x))
    np.testing.assert_array_equal(out[0], out[1])


def test_lazy_subset_labels_and_reads():
    ds = Augmented(10)
    s = from_torch_dataset(ds, lazy=True, labels=ds.y.numpy(), id_offset=5)
    assert not ds.reads or set(ds.reads) == {0}  # only the shape probe was read
    sub = s.subset([3, 1])
    np.testing.assert_array_equal(sub.sample_id, [8, 6])
    assert sub.x[0:2].shape == (2, 6) and isinstance(sub.with_labels([0, 0]), LazySplit)
    assert as_split(sub) is sub
    ev = evaluate(_net(), sub)
    assert ev.logits.shape == (2, 2)
    with pytest.raises(ValueError, match="lazy"):
        from_torch_dataset(ds, lazy="yes")
    with pytest.raises(ValueError, match="labels"):
        from_torch_dataset(ds, lazy=True, labels=[0, 1])


# -- token ids: integer inputs keep their dtype end to end -------------------------------------
V, L = 30, 7


class BagOfTokens(nn.Module):
    """``nn.EmbeddingBag`` (mean of the token embeddings), dropout, a linear head."""

    def __init__(self, num_classes: int = 2) -> None:
        super().__init__()
        self.emb = nn.EmbeddingBag(V, 8, mode="mean")
        self.drop = nn.Dropout(0.3)
        self.head = nn.Linear(8, num_classes)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        assert tokens.dtype == torch.int64, tokens.dtype
        return self.head(self.drop(self.emb(tokens)))


def _tokens(n=80, seed=0):
    """Class 1 texts contain tokens 1-3 more often: a planted signal."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    x = rng.integers(4, V, (n, L))
    x[y == 1, : L // 2] = rng.integers(1, 4, (int(y.sum()), L // 2))
    return x.astype(np.int64), y


def test_token_inputs_run_difficulty_and_uncertainty():
    x, y = _tokens()
    s = from_arrays(x, y)
    assert s.x.dtype == np.int64
    res = compute_measures(
        s,
        2,
        ["aum", "forgetting", "margin", "grad_norm", "action_score"],
        model_fn=BagOfTokens,
        epochs=4,
        batch_size=16,
        lr=1e-2,
        progress=False,
    )
    t = res.table.df
    assert np.isfinite(t[res.table.measures].to_numpy()).all()
    assert (predict_logits(res.model, x).argmax(1) == y).mean() > 0.7  # chance is 0.5
    probs = predict_stochastic(res.model, x, samples=6, seed=0)
    assert probs.shape == (6, len(x), 2)
    assert decompose(probs)["mutual_information"].mean() > 0
    lazy = from_torch_dataset(
        torch.utils.data.TensorDataset(torch.as_tensor(x), torch.as_tensor(y)), lazy=True
    )
    assert lazy.x.dtype == np.int64 and lazy.x[0:3].dtype == np.int64
    rec = DynamicsRecorder()
    model = BagOfTokens()
    fit(model, lazy, epochs=1, batch_size=16, progress=False)
    rec.update(lazy.sample_id, predict_logits(model, lazy), lazy.y, epoch=0)
    assert len(rec.table()) == len(x)


def test_input_dtypes():
    from samplescope.data import as_input_array

    assert as_input_array(np.zeros((2, 3), np.int32)).dtype == np.int64
    assert as_input_array(np.zeros((2, 3), np.uint8)).dtype == np.float32  # pixels
    assert as_input_array(np.zeros((2, 3), np.float64)).dtype == np.float32
    with pytest.raises(ValueError, match="x"):
        as_input_array(np.full((2, 3), np.nan))
