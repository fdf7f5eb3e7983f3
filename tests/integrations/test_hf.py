"""Hugging Face Trainer callback, offline: a tiny randomly initialised BERT on a made-up text set."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach the hub
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

transformers = pytest.importorskip("transformers")
pytest.importorskip("accelerate")

from samplescope.data import with_ids  # noqa: E402
from samplescope.difficulty import RECORDER_COLUMNS  # noqa: E402
from samplescope.integrations.hf import DynamicsCallback  # noqa: E402

VOCAB, LEN = 40, 8


class Texts(torch.utils.data.Dataset):
    """Token-id "texts": class 1 uses the low token ids more (a planted signal)."""

    def __init__(self, n: int = 48) -> None:
        rng = np.random.default_rng(0)
        self.y = np.arange(n) % 2
        self.ids = rng.integers(10, VOCAB, (n, LEN))
        self.ids[self.y == 1, 1:4] = rng.integers(2, 10, (int(self.y.sum()), 3))
        self.ids[:, 0] = 1  # [CLS]-like

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i: int) -> dict:
        return {
            "input_ids": torch.as_tensor(self.ids[i]),
            "attention_mask": torch.ones(LEN, dtype=torch.int64),
            "labels": torch.as_tensor(self.y[i]),
        }


def _model():
    torch.manual_seed(0)
    cfg = transformers.BertConfig(
        vocab_size=VOCAB,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=LEN,
        num_labels=2,
    )
    return transformers.BertForSequenceClassification(cfg)


def _args(tmp_path, **kw):
    base = dict(
        num_train_epochs=2,
        per_device_train_batch_size=8,
        learning_rate=1e-3,
        logging_steps=1,
        report_to=[],
        save_strategy="no",
        use_cpu=True,
        disable_tqdm=True,
        remove_unused_columns=False,
        seed=0,
    )
    base.update(kw)
    return transformers.TrainingArguments(str(tmp_path / "out"), **base)


def test_hf_callback_records_every_training_forward(tmp_path):
    ds = Texts()
    cb = DynamicsCallback()
    trainer = transformers.Trainer(
        _model(), _args(tmp_path), train_dataset=with_ids(ds, id_offset=1000), callbacks=[cb]
    )
    trainer.train()
    t = cb.table().df
    np.testing.assert_array_equal(t["sample_id"], np.arange(len(ds)) + 1000)
    np.testing.assert_array_equal(t["label"], ds.y)
    assert np.isfinite(t[list(RECORDER_COLUMNS)].to_numpy()).all()
    assert cb.recorder.epochs_recorded == 2 and t["forgetting"].max() <= 2
    # the Trainer's own logged loss (each step: the batch-mean loss, before the update) summed
    # over steps x batch size = every presentation's loss = the total action score
    logged = [h["loss"] for h in trainer.state.log_history if "loss" in h and "step" in h]
    assert len(logged) == 2 * len(ds) // 8
    np.testing.assert_allclose(
        np.sum(logged) * 8, t["action_score"].sum(), rtol=2e-3
    )  # the Trainer rounds what it logs
    assert not model_hooks(trainer.model)  # hooks removed at the end


def model_hooks(model):
    return list(model._forward_pre_hooks.values()) + list(model._forward_hooks.values())


def test_hf_callback_says_when_ids_are_missing(tmp_path):
    cb = DynamicsCallback()
    trainer = transformers.Trainer(
        _model(), _args(tmp_path, max_steps=1), train_dataset=Texts(16), callbacks=[cb]
    )
    with pytest.raises(ValueError, match="with_ids"):
        trainer.train()
