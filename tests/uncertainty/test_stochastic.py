"""predict_stochastic: exactness against a naive loop, chunk invariance, eval-mode layers,
consistent masks, ensembles, TTA, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from samplescope.models import gal_cnn, mlp, small_cnn, split_at_first_dropout
from samplescope.uncertainty import decompose, iter_stochastic, predict_stochastic
from samplescope.uncertainty.masks import MASK_BLOCK, MaskSource


def _images(n: int, size: int = 12, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((n, 1, size, size)).astype(np.float32)


def _replay(
    model: nn.Sequential,
    x: np.ndarray,
    samples: int,
    seed: int,
    consistent: bool,
    rng: str = "bytes",
) -> np.ndarray:
    """Naive reference: S full forward passes, each dropout layer multiplying by the mask
    the MaskSource (``rng`` = bytes or hash) assigns to (layer, sample, repeat)."""
    prefix, rest = split_at_first_dropout(model)
    src = MaskSource(seed, consistent, rng=rng)
    n = len(x)
    out = []
    with torch.no_grad():
        model.eval()
        for s in range(samples):
            h = prefix(torch.as_tensor(x))
            for idx, layer in enumerate(rest):
                if isinstance(layer, nn.modules.dropout._DropoutNd):
                    keep = 1 - layer.p
                    feat = (
                        tuple(h.shape[1:2])
                        if isinstance(layer, nn.Dropout2d)
                        else tuple(h.shape[1:])
                    )
                    if rng == "hash":
                        m = src.hash_mask(idx, keep, feat, s, s + 1, 0, n)[0].expand(n, *feat)
                    elif consistent:
                        m = src.mask(idx, keep, feat, s, s + 1, 0, n)[0].expand(n, *feat)
                    else:
                        m = torch.cat(
                            [
                                src.mask(idx, keep, feat, s, s + 1, lo, min(n, lo + MASK_BLOCK))[0]
                                for lo in range(0, n, MASK_BLOCK)
                            ]
                        )
                    m = m.view(*m.shape, *([1] * (h.dim() - m.dim())))
                    h = h * m / keep
                else:
                    h = layer(h)
            out.append(torch.softmax(h, -1).numpy())
    return np.stack(out)


@pytest.mark.parametrize("consistent", [False, True])
def test_fast_path_equals_naive_loop_with_the_same_masks(consistent: bool) -> None:
    torch.manual_seed(0)
    model = gal_cnn(10, 1, 12)
    x = _images(150)
    ours = predict_stochastic(
        model, x, samples=7, batch_size=41, seed=3, consistent_masks=consistent
    )
    ref = _replay(model, x, 7, 3, consistent)
    assert ours.shape == (7, 150, 10)
    np.testing.assert_allclose(ours, ref, atol=2e-6)


def test_channel_dropout_and_batchnorm_eval_mode() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.Dropout2d(0.5),
        nn.Conv2d(4, 4, 3),
        nn.BatchNorm2d(4),
        nn.Flatten(),
        nn.Dropout(0.3),
        nn.Linear(4 * 8 * 8, 3),
    )
    # give BatchNorm non-trivial running statistics
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(torch.randn(32, 1, 12, 12) * 3 + 1)
    model.eval()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    x = _images(70)
    ours = predict_stochastic(model, x, samples=5, batch_size=33, seed=1)
    np.testing.assert_allclose(ours, _replay(model, x, 5, 1, False), atol=2e-6)
    # running statistics untouched, training flag restored
    for k, v in model.state_dict().items():
        assert torch.equal(v, state[k]), k
    assert not model.training


def test_mask_rate_and_scaling_match_dropout() -> None:
    # with many samples the MC mean of a linear model equals the deterministic output
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Dropout(0.25), nn.Linear(144, 4))
    x = _images(4)
    src = MaskSource(0)
    m = src.mask(1, 0.75, (10_000,), 0, 3, 0, 4)
    assert abs(m.float().mean().item() - 0.75) < 0.01
    # logits average: mean_s z_s ≈ z (unbiased dropout scaling)
    probs = predict_stochastic(model, x, samples=400, seed=0)
    assert probs.shape == (400, 4, 4)
    with torch.no_grad():
        det = torch.softmax(model.eval()(torch.as_tensor(x)), -1).numpy()
    assert np.abs(probs.mean(0) - det).max() < 0.05


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 130), st.integers(1, 9), st.integers(0, 10**6), st.booleans())
def test_chunked_equals_full_batch(n: int, batch: int, seed: int, consistent: bool) -> None:
    torch.manual_seed(1)
    model = mlp((1, 6, 6), 3, hidden=(16, 8), dropout=0.5)
    x = _images(n, 6, seed % 100)
    full = predict_stochastic(
        model, x, samples=4, batch_size=1024, seed=seed, consistent_masks=consistent
    )
    chunked = predict_stochastic(
        model, x, samples=4, batch_size=batch, seed=seed, consistent_masks=consistent
    )
    np.testing.assert_allclose(chunked, full, atol=1e-6)
    # a stream of uneven chunks gives the same result too
    cuts = np.array_split(x, max(1, n // 7))
    streamed = np.concatenate(
        list(iter_stochastic(model, iter(cuts), samples=4, seed=seed, consistent_masks=consistent)),
        axis=1,
    )
    np.testing.assert_allclose(streamed, full, atol=1e-6)


def test_seed_determinism_and_difference() -> None:
    torch.manual_seed(0)
    model = small_cnn(3, 1, 12)
    x = _images(20)
    a = predict_stochastic(model, x, samples=3, seed=5)
    b = predict_stochastic(model, x, samples=3, seed=5)
    c = predict_stochastic(model, x, samples=3, seed=6)
    assert np.array_equal(a, b) and not np.allclose(a, c)


def test_consistent_masks_are_shared_across_samples() -> None:
    # identical inputs get identical S predictions with consistent masks, not otherwise
    torch.manual_seed(0)
    model = mlp((1, 6, 6), 3, hidden=(32,), dropout=0.5)
    x = np.repeat(_images(1, 6), 80, axis=0)
    same = predict_stochastic(model, x, samples=5, consistent_masks=True)
    assert np.allclose(same, same[:, :1])
    diff = predict_stochastic(model, x, samples=5, consistent_masks=False)
    assert not np.allclose(diff, diff[:, :1])


def test_deterministic_model_has_zero_mutual_information() -> None:
    # dropout p = 0: every pass identical -> BALD = 0 exactly, total = aleatoric
    torch.manual_seed(0)
    model = mlp((1, 6, 6), 4, hidden=(16,), dropout=0.0)
    model.insert(2, nn.Dropout(0.0))
    p = predict_stochastic(model, _images(30, 6), samples=6)
    d = decompose(p)
    assert np.all(d["mutual_information"] < 1e-12)
    np.testing.assert_allclose(d["predictive_entropy"], d["expected_entropy"], atol=1e-12)
    # an ensemble of the same model twice: also 0
    pe = predict_stochastic(None, _images(30, 6), "ensemble", samples=None, members=[model, model])
    assert np.all(decompose(pe)["mutual_information"] < 1e-7)


def test_fallback_for_non_sequential_models() -> None:
    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.body = mlp((1, 6, 6), 3, hidden=(16,), dropout=0.5)

        def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            z = self.body(x)
            return z, z.sum(1)

    torch.manual_seed(0)
    net = Net().eval()
    x = _images(25, 6)
    a = predict_stochastic(net, x, samples=4, batch_size=10, seed=2)
    b = predict_stochastic(net, x, samples=4, batch_size=10, seed=2)
    assert a.shape == (4, 25, 3) and np.array_equal(a, b)
    assert not np.allclose(a[0], a[1])
    np.testing.assert_allclose(a.sum(-1), 1.0, atol=1e-6)
    assert not net.training and not net.body[3].training  # modes restored
    net.train()
    predict_stochastic(net, x, samples=2)
    assert all(m.training for m in net.modules())


def test_ensemble_and_tta() -> None:
    torch.manual_seed(0)
    members = [mlp((1, 6, 6), 3, hidden=(8,)) for _ in range(3)]
    x = _images(11, 6)
    p = predict_stochastic(None, x, "ensemble", samples=None, members=members, batch_size=4)
    with torch.no_grad():
        ref = np.stack([torch.softmax(m(torch.as_tensor(x)), -1).numpy() for m in members])
    np.testing.assert_allclose(p, ref, atol=1e-6)
    views = [lambda t: t, lambda t: torch.flip(t, dims=[-1]), lambda t: torch.roll(t, 1, dims=-2)]
    q = predict_stochastic(members[0], x, "tta", samples=None, transforms=views, batch_size=5)
    with torch.no_grad():
        ref = np.stack(
            [torch.softmax(members[0](v(torch.as_tensor(x))), -1).numpy() for v in views]
        )
    np.testing.assert_allclose(q, ref, atol=1e-6)
    noisy = lambda t: t + 0.1 * torch.randn_like(t)  # noqa: E731
    r1 = predict_stochastic(members[0], x, "tta", samples=4, transforms=noisy, seed=1)
    r2 = predict_stochastic(members[0], x, "tta", samples=4, transforms=noisy, seed=1)
    assert r1.shape == (4, 11, 3) and np.array_equal(r1, r2)


def test_bad_input() -> None:
    model = mlp((1, 6, 6), 3, hidden=(8,), dropout=0.5)
    x = _images(5, 6)
    with pytest.raises(ValueError, match="method"):
        predict_stochastic(model, x, "bayes")
    with pytest.raises(ValueError, match="dropout"):
        predict_stochastic(mlp((1, 6, 6), 3), x)
    with pytest.raises(ValueError, match="samples"):
        predict_stochastic(model, x, samples=0)
    with pytest.raises(ValueError, match="members"):
        predict_stochastic(model, x, "ensemble")
    with pytest.raises(ValueError, match="samples"):
        predict_stochastic(None, x, "ensemble", samples=5, members=[model])
    with pytest.raises(ValueError, match="transforms"):
        predict_stochastic(model, x, "tta")
    with pytest.raises(ValueError, match="batch_size"):
        predict_stochastic(model, x, batch_size=0)
    with pytest.raises(ValueError, match="data"):
        predict_stochastic(model, x[:, 0, 0, 0])
    with pytest.raises(ValueError, match="data"):
        predict_stochastic(model, 3.0)


def test_tta_views() -> None:
    from samplescope.uncertainty import flip_views, shift_views

    x = torch.arange(9.0).view(1, 1, 3, 3)
    views = shift_views(1)
    assert len(views) == 5 and torch.equal(views[0](x), x)
    right = views[1](x)  # (dy, dx) = (0, 1): content moves right, zero fill on the left
    assert torch.equal(right[0, 0, :, 0], torch.zeros(3))
    assert torch.equal(right[0, 0, :, 1:], x[0, 0, :, :2])
    up = views[4](x)  # (-1, 0): content moves up, zero fill at the bottom
    assert torch.equal(up[0, 0, -1], torch.zeros(3)) and torch.equal(up[0, 0, :2], x[0, 0, 1:])
    f = flip_views()
    assert torch.equal(f[1](x), torch.flip(x, dims=[-1])) and torch.equal(f[0](x), x)


def test_dataloader_stream_and_dataset_inputs() -> None:
    torch.manual_seed(0)
    model = mlp((1, 6, 6), 3, hidden=(16,), dropout=0.5)
    x = _images(50, 6)
    y = np.arange(50) % 3
    ref = predict_stochastic(model, x, samples=3, seed=4)
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.as_tensor(x), torch.as_tensor(y)), batch_size=13
    )
    np.testing.assert_allclose(predict_stochastic(model, loader, samples=3, seed=4), ref, atol=1e-6)
    np.testing.assert_allclose(predict_stochastic(model, (x, y), samples=3, seed=4), ref, atol=1e-6)
    with pytest.raises(ValueError, match="empty"):
        predict_stochastic(model, iter([]), samples=3)


def test_shards_with_offsets_equal_one_pass() -> None:
    torch.manual_seed(0)
    model = mlp((1, 6, 6), 3, hidden=(16,), dropout=0.5)
    x = _images(150, 6)
    full = predict_stochastic(model, x, samples=3, seed=9)
    shards = [
        predict_stochastic(model, x[a:b], samples=3, seed=9, offset=a)
        for a, b in ((0, 37), (37, 100), (100, 150))
    ]
    np.testing.assert_allclose(np.concatenate(shards, axis=1), full, atol=1e-6)
    assert not np.allclose(predict_stochastic(model, x[37:100], samples=3, seed=9), full[:, 37:100])
    with pytest.raises(ValueError, match="offset"):
        predict_stochastic(model, x, samples=3, offset=-1)


# --- counter-based hash masks (the accelerator default; any device with mask_rng="hash") ---


@pytest.mark.parametrize("consistent", [False, True])
def test_hash_masks_fast_path_equals_naive_loop(consistent: bool) -> None:
    torch.manual_seed(0)
    model = gal_cnn(10, 1, 12)
    x = _images(150)
    ours = predict_stochastic(
        model, x, samples=7, batch_size=41, seed=3, consistent_masks=consistent, mask_rng="hash"
    )
    np.testing.assert_allclose(ours, _replay(model, x, 7, 3, consistent, rng="hash"), atol=2e-6)
    # a different mask source from the CPU bytes default, equally valid
    other = predict_stochastic(model, x, samples=7, seed=3, consistent_masks=consistent)
    assert not np.allclose(ours, other)


@settings(max_examples=10, deadline=None)
@given(st.integers(1, 130), st.integers(1, 9), st.integers(0, 10**6), st.integers(0, 500))
def test_hash_masks_chunk_and_shard_invariant(n: int, batch: int, seed: int, offset: int) -> None:
    torch.manual_seed(1)
    model = mlp((1, 6, 6), 3, hidden=(16, 8), dropout=0.5)
    x = _images(n, 6, seed % 100)
    kw = {"samples": 4, "seed": seed, "mask_rng": "hash"}
    full = predict_stochastic(model, x, batch_size=1024, offset=offset, **kw)
    np.testing.assert_allclose(
        predict_stochastic(model, x, batch_size=batch, offset=offset, **kw), full, atol=1e-6
    )
    cut = n // 2
    if 0 < cut < n:
        shards = [
            predict_stochastic(model, x[:cut], batch_size=batch, offset=offset, **kw),
            predict_stochastic(model, x[cut:], batch_size=batch, offset=offset + cut, **kw),
        ]
        np.testing.assert_allclose(np.concatenate(shards, axis=1), full, atol=1e-6)


def test_hash_mask_statistics() -> None:
    from samplescope.uncertainty.masks import hash_keep_mask

    keys = torch.tensor([1, 2, 3, 2**32 - 1], dtype=torch.int64)
    pos = torch.arange(10**6, 10**6 + 500, dtype=torch.int64)
    for keep in (0.5, 0.75, 0.9, 1 / 3):
        m = hash_keep_mask(keys, pos, 400, keep).float()  # (4, 500, 400)
        assert m.shape == (4, 500, 400)
        assert abs(m.mean().item() - keep) < 0.005, keep
    m = hash_keep_mask(keys, pos, 400, 0.5).float()
    # repeats, samples and features are uncorrelated: pairwise agreement ≈ 1/2 for keep 1/2
    for a, b in ((m[0], m[1]), (m[:, :-1], m[:, 1:]), (m[..., :-1], m[..., 1:])):
        assert abs((a == b).float().mean().item() - 0.5) < 0.01
    # a pure function of its inputs
    assert torch.equal(hash_keep_mask(keys, pos, 400, 0.5), hash_keep_mask(keys, pos, 400, 0.5))
    with pytest.raises(ValueError, match="mask_rng"):
        predict_stochastic(mlp((1, 6, 6), 3, dropout=0.5), _images(3, 6), mask_rng="philox")


def test_hash_multiply_is_exact_mod_2_32() -> None:
    from samplescope.uncertainty.masks import _mul32

    rng = np.random.default_rng(0)
    xs = np.concatenate([rng.integers(0, 2**32, 1000), [0, 1, 2**31, 2**32 - 1]])
    for c in (0x7FEB352D, 0x846CA68B, 0x9E3779B1, 0x85EBCA6B):
        got = _mul32(torch.as_tensor(xs, dtype=torch.int64), c).numpy()
        assert [int(g) for g in got] == [(int(x) * c) % 2**32 for x in xs]
