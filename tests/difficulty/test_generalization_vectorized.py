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


def test_bf16_generalization_error(digits, tmp_path):
    sub = digits.train.subset(np.arange(400))
    kw = dict(folds=3, repeats=1, epochs=3, batch_size=32, progress=False)
    fp32 = generalization_error(sub, 10, checkpoint_dir=tmp_path, **kw)
    with pytest.raises(ValueError, match="checkpoint_dir"):  # fp32 fits are not bf16 fits
        generalization_error(sub, 10, checkpoint_dir=tmp_path, precision="bf16", **kw)
    bf = generalization_error(sub, 10, precision="bf16", **kw)
    d = np.abs(bf.oof_probs - fp32.oof_probs)
    assert 0 < d.mean() < 5e-3
    assert np.isfinite(bf.table.column("gen_error")).all()


def test_bf16_generalization_error_bad_settings(digits):
    from sklearn.linear_model import LogisticRegression

    kw = dict(folds=2, repeats=1, epochs=1, progress=False)
    with pytest.raises(ValueError, match="precision: expected one of"):
        generalization_error(digits.train, 10, precision="fp16", **kw)
    with pytest.raises(ValueError, match="precision: 'bf16' needs the stacked trainer"):
        generalization_error(digits.train, 10, precision="bf16", vectorize=False, **kw)
    with pytest.raises(ValueError, match="precision: 'bf16' needs the stacked trainer"):
        generalization_error(
            digits.train, 10, precision="bf16", estimator=LogisticRegression(), **kw
        )
    with pytest.raises(ValueError, match="precision: 'bf16' needs the stacked trainer"):
        generalization_error(digits.train, 10, precision="bf16", model_kind="cnn", **kw)
