"""The stacked trainer: M small MLPs at once — stacked weights, batched matmuls, one optimizer step.

K-fold × repeat models (generalization error, out-of-fold probabilities) and ensemble
members are many copies of one small network trained on different rows with different
seeds. On a CPU, training such a network one model at a time is dominated by per-op
overhead, not FLOPs; stacking the M models' weights ``W (M, D_in, D_out)`` and running every
layer as one ``torch.baddbmm`` over ``(M, B, D_in)`` batches does the same arithmetic with M
times fewer kernel launches, autograd nodes and optimizer calls.

Equivalence guaranteed (and tested): model ``m`` of :func:`fit_many` is, to float tolerance
(summation order of the batched kernels differs from ``nn.Linear``'s), the model that

    torch.manual_seed(init_seeds[m]); net = model_fn()
    samplescope.training.fit(net, data.subset(index_sets[m]), seed=seeds[m], epochs=...,
                             batch_size=..., optimizer=..., lr=..., weight_decay=...,
                             scheduler=...)

returns: the same initial weights (``model_fn`` is called under ``init_seeds[m]``), the same
mini-batch order (the trainer's own batching with a generator seeded ``seeds[m]``), the same
dropout masks (drawn per model, on its unpadded batch, from a generator seeded ``seeds[m]``,
exactly as ``nn.Dropout`` draws them from the global generator that ``fit`` seeds), and the
same optimizer arithmetic (Adam / AdamW / SGD with momentum 0.9, per-model step counts and
learning rates). Uneven training-set sizes give uneven batch counts and sizes: batches are
padded to the largest, padded rows are masked out of each model's mean loss, and a model
that has run out of batches in an epoch skips the optimizer step (no Adam state change).

Supported networks: ``nn.Sequential`` of an optional leading ``nn.Flatten``, ``nn.Linear``,
parameter-free element-wise activations and ``nn.Dropout`` (e.g. :func:`samplescope.models.mlp`);
default cross-entropy loss, no per-sample weights or callbacks. Anything else falls back to
training the models one by one through :func:`samplescope.executors.run_tasks`.

Mixed precision (``precision="bf16"``, opt-in, stacked trainer only): the master weights,
their gradients, the optimizer state, the loss and the softmax stay float32; every batched
matmul of the forward and backward pass runs on bfloat16 operands (the inputs are cast to
bfloat16 once, the stacked weights and biases once per step, the hidden activations stay
bfloat16 between layers except where a dropout mask multiplies them in float32; autograd
casts the bfloat16 weight gradients back to float32).
Predictions (:meth:`ManyModels.predict_logits`) use the float32 master weights. The
equivalence above then holds only statistically (same seeds, same batches, same dropout
masks, different rounding): see :func:`fit_many` for the measured agreement and speed.

Package layout: :mod:`.plan` (which networks, when stacking wins), :mod:`.optimizer` (the
stacked Adam/AdamW/SGD, fused by default), :mod:`.loop` (one group of models),
:mod:`.models` (:class:`ManyModels`), :mod:`.fit` (:func:`fit_many`: groups, executors,
fallback).
"""

from .fit import check_index_sets, check_seeds, fit_many
from .loop import build_model, fit_group
from .models import ManyModels, pad_index_sets
from .optimizer import StackedOptimizer
from .plan import OPTIMIZERS, PRECISIONS, can_vectorize, layer_plan, linear_layers, should_vectorize

__all__ = [
    "OPTIMIZERS",
    "PRECISIONS",
    "ManyModels",
    "StackedOptimizer",
    "build_model",
    "can_vectorize",
    "check_index_sets",
    "check_seeds",
    "fit_group",
    "fit_many",
    "layer_plan",
    "linear_layers",
    "pad_index_sets",
    "should_vectorize",
]
