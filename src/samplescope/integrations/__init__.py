"""Where users already train: training-dynamics recorders for other frameworks.

- :mod:`samplescope.integrations.lightning` (``pip install "samplescope[lightning]"``):
  :class:`~samplescope.integrations.lightning.DynamicsCallback`, a PyTorch Lightning
  callback recording from ``on_train_batch_end``;
- :mod:`samplescope.integrations.hf` (``pip install "samplescope[hf]"``):
  :class:`~samplescope.integrations.hf.DynamicsCallback`, a Hugging Face ``Trainer``
  callback recording from the model's forward pass.

Both feed a :class:`samplescope.difficulty.DynamicsRecorder` (``.recorder``; ``.table()``
gives the ScoreTable) and need sample ids in every batch: wrap the training set with
:func:`samplescope.data.with_ids`. The framework is imported only when its module is, so
``import samplescope.integrations`` needs neither; a missing one is an ``ImportError`` of
one line naming the extra to install.
"""

from .extras import require

__all__ = ["require"]
