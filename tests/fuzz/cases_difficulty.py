"""Fuzz cases for :mod:`samplescope.difficulty.fast_generalization` (``gen_error_fast``)."""

from __future__ import annotations

import numpy as np

import samplescope.difficulty as Df

from .strategies import array, fraction, integer, obj, shape
from .test_fuzz_api import _BATCH, _DATA, _EPOCHS, SPLIT, C, N, V, add, net

add(
    "difficulty.rank_combine",
    Df.rank_combine,
    lambda: {"heldout": V(), "aum_score": V(seed=1), "weight": 0.35},
    {"heldout": array(1), "aum_score": array(1), "weight": fraction(optional=True)},
    lambda res, kw: np.testing.assert_array_equal(np.sort(res), np.sort(kw["heldout"])),
)
add(
    "difficulty.fast_generalization_error",
    Df.fast_generalization_error,
    lambda: {
        "data": SPLIT(),
        "num_classes": C,
        "repeats": 2,
        "epochs": 1,
        "batch_size": 4,
        "model_fn": lambda s: net(seed=s),
        "progress": False,
    },
    {
        "data": _DATA,
        "num_classes": integer(bad=(1, 0, -1, 1.5, "2", None)),
        "repeats": _EPOCHS,
        "aum_weight": fraction(optional=True),
        "epochs": _EPOCHS,
        "batch_size": _BATCH,
        "model_fn": obj(bad=(3, "abc"), optional=True),
    },
    lambda res, kw: shape(kw.get("repeats", 2), N, C)(res.oof_logits, kw),
    slow=True,
)

SKIP = {
    "samplescope.difficulty.FAST_AUM_WEIGHT": "constant float (the fitted weight)",
    "samplescope.difficulty.FAST_GEN_ERROR_COLUMNS": "constant tuple of column names",
    "samplescope.difficulty.FastGenErrorResult": "result record of fast_generalization_error",
}
