"""PyTorch Lightning callback: the same table as samplescope.fit on the same seeds and batches."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

pl = pytest.importorskip("lightning.pytorch")

from samplescope.data import from_arrays, with_ids  # noqa: E402
from samplescope.difficulty import RECORDER_COLUMNS, DynamicsRecorder, TrainingDynamics  # noqa: E402
from samplescope.integrations.lightning import DynamicsCallback  # noqa: E402
from samplescope.training import FitBatchSampler, fit  # noqa: E402


def _net():
    return nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3))


class Module(pl.LightningModule):
    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def training_step(self, batch, batch_idx):
        x, y = batch[0], batch[1]
        logits = self.net(x)
        losses = nn.functional.cross_entropy(logits, y, reduction="none")
        return {"loss": losses.mean(), "logits": logits, "losses": losses}

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-3)


def _data(n=50):
    rng = np.random.default_rng(0)
    y = np.arange(n) % 3
    x = rng.normal(0, 1, (n, 6)).astype(np.float32)
    x[:, 0] += y
    return from_arrays(x, y, sample_id=np.arange(n) * 7 + 3)


def _trainer(cb, epochs=2):
    return pl.Trainer(
        max_epochs=epochs,
        accelerator="cpu",
        devices=1,
        callbacks=[cb],
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        use_distributed_sampler=False,
    )


def test_lightning_table_equals_fit():
    s = _data()
    torch.manual_seed(0)
    ref = TrainingDynamics(history=False)
    fit(_net(), s, epochs=2, batch_size=8, seed=0, callbacks=[ref], progress=False)
    want = ref.table().df

    ds = torch.utils.data.TensorDataset(torch.as_tensor(s.x), torch.as_tensor(s.y))
    loader = torch.utils.data.DataLoader(
        with_ids(ds, s.sample_id), batch_sampler=FitBatchSampler(len(s), 8, seed=0)
    )
    torch.manual_seed(0)
    cb = DynamicsCallback()
    _trainer(cb).fit(Module(_net()), loader)
    got = cb.table().df.set_index("sample_id").loc[want["sample_id"]].reset_index()
    np.testing.assert_array_equal(got["label"], want["label"])
    for k in RECORDER_COLUMNS:  # same weights, same batches, same arithmetic: bit for bit
        np.testing.assert_array_equal(got[k].to_numpy(), want[k].to_numpy(), err_msg=k)
    assert cb.recorder.epochs_recorded == 2


def test_logits_only_outputs_and_bad_convention():
    s = _data(20)
    ds = torch.utils.data.TensorDataset(torch.as_tensor(s.x), torch.as_tensor(s.y))

    class NoLogits(Module):
        def training_step(self, batch, batch_idx):
            x, y, _ = batch
            return nn.functional.cross_entropy(self.net(x), y)

    rec = DynamicsRecorder(history=True)
    with pytest.raises(ValueError, match="logits"):
        _trainer(DynamicsCallback(rec), 1).fit(
            NoLogits(_net()), torch.utils.data.DataLoader(with_ids(ds), batch_size=8)
        )
    with pytest.raises(ValueError, match="with_ids"):
        _trainer(DynamicsCallback(), 1).fit(
            Module(_net()), torch.utils.data.DataLoader(ds, batch_size=8)
        )
    with pytest.raises(ValueError, match="recorder"):
        DynamicsCallback(recorder="x")
