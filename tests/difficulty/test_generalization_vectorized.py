"""generalization_error trains its fits stacked (vectorize="auto") with identical results."""

import numpy as np
import pytest

from samplescope.difficulty import generalization_error
from samplescope.models import mlp


def test_vectorized_equals_one_by_one(digits):
    sub = digits.train.subset(np.arange(400))
    kw = dict(folds=3, repeats=2, epochs=2, batch_size=32, progress=False)
    seq = generalization_error(sub, 10, vectorize=False, **kw)
    vec = generalization_error(sub, 10, vectorize=True, **kw)
    np.testing.assert_allclose(
        vec.oof_logits, seq.oof_logits, rtol=0, atol=1e-5
    )  # float32 summation order
    np.testing.assert_allclose(
        vec.table.column("gen_error"), seq.table.column("gen_error"), atol=1e-10
    )


def test_vectorized_with_model_fn_and_checkpoints(digits, tmp_path):
    sub = digits.train.subset(np.arange(300))

    def model_fn(seed):
        return mlp((1, 8, 8), 10, hidden=(16,), dropout=0.1)

    kw = dict(folds=3, repeats=1, epochs=2, model_fn=model_fn, progress=False)
    seq = generalization_error(sub, 10, vectorize=False, **kw)
    vec = generalization_error(sub, 10, vectorize=True, checkpoint_dir=tmp_path, **kw)
    np.testing.assert_allclose(vec.oof_logits, seq.oof_logits, atol=1e-5)
    assert len(list(tmp_path.glob("fit_r*_k*.npy"))) == 3  # stacked fits are checkpointed too
    again = generalization_error(sub, 10, vectorize=True, checkpoint_dir=tmp_path, **kw)
    np.testing.assert_array_equal(again.oof_logits, vec.oof_logits)


def test_vectorize_bad_value(digits):
    with pytest.raises(ValueError, match="vectorize: expected"):
        generalization_error(
            digits.train, 10, folds=2, repeats=1, epochs=1, vectorize="yes", progress=False
        )
