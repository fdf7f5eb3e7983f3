"""Fuzz cases for issue 17: the agnostic recorder, MC-dropout insertion, the model_fn
convention, lazy splits and sample-id wrappers."""

from __future__ import annotations

import numpy as np

import samplescope.data as Dt
import samplescope.difficulty as Df
import samplescope.models as Md
import samplescope.training as Tr

from .strategies import array, fraction, integer, labels, logits, obj
from .test_fuzz_api import C, N, Y, Z, add, net


def _record(sample_ids, logits, labels):  # noqa: ANN001, ANN202
    rec = Df.DynamicsRecorder()
    rec.update(sample_ids, logits, labels, epoch=0)
    rec.update(sample_ids, logits, labels, epoch=1)
    return rec.table().df.drop(columns=["sample_id", "label"]).to_numpy()


add(
    "difficulty.DynamicsRecorder",
    Df.DynamicsRecorder,
    lambda: {"sample_ids": np.arange(N) + 100, "logits": Z(), "labels": Y()},
    {
        "sample_ids": labels(None, group="n"),
        "logits": logits(group="n"),
        "labels": labels(C, group="n"),
    },
    lambda res, kw: None if np.isfinite(res).all() else (_ for _ in ()).throw(AssertionError()),
    call=_record,
)
add(
    "models.add_mc_dropout",
    Md.add_mc_dropout,
    lambda: {"model": net(), "p": 0.2},
    {"model": obj(bad=(None, 3, "abc")), "p": fraction(bad=(0.0, 1.0, -0.1, float("nan"), "x"))},
    lambda res, kw: None,
    call=lambda model, p: Md.add_mc_dropout(model, p, inplace=False),
)
add(
    "data.as_input_array",
    Dt.as_input_array,
    lambda: {"x": np.random.default_rng(0).normal(size=(N, 3)).astype(np.float32)},
    {"x": array((2, 3))},
    lambda res, kw: None,
)

SKIP = {
    "samplescope.difficulty.RECORDER_COLUMNS": "constant tuple of column names",
    "samplescope.models.MC_DROPOUT_NAME": "constant: the inserted child module's name",
    "samplescope.models.remove_mc_dropout": "takes only a module; undoes add_mc_dropout "
    "(tests/uncertainty/test_any_module.py)",
    "samplescope.models.seeded_model_fn": "takes only a callable (no array input); "
    "tests/uncertainty/test_any_module.py checks both forms",
    "samplescope.models.takes_seed": "takes only a callable (no array input)",
    "samplescope.models.build_from": "takes only a callable and a seed; fuzzed through "
    "train_ensemble/crossfit model_fn",
    "samplescope.data.LazyInputs": "view built by from_torch_dataset(lazy=True) from a "
    "validated Dataset (tests/data/test_lazy.py)",
    "samplescope.data.LazySplit": "built by from_torch_dataset(lazy=True) (tests/data/test_lazy.py)",
    "samplescope.data.WithIds": "Dataset wrapper; its input is a Dataset, not an array "
    "(tests/integrations)",
    "samplescope.data.with_ids": "Dataset wrapper; its input is a Dataset, not an array "
    "(tests/integrations)",
}

add(
    "training.FitBatchSampler",
    Tr.FitBatchSampler,
    lambda: {"n": N, "batch_size": 4},
    {"n": integer(), "batch_size": integer()},
    lambda res, kw: None,
)
