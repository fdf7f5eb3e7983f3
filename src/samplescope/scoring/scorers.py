"""Scorers: one chunk of pool rows -> per-sample columns ``{name: (b,)}``.

:class:`LogitScorer` runs one deterministic forward pass; :class:`StochasticScorer` runs
MC dropout through :func:`samplescope.uncertainty.iter_stochastic`. Columns are ``pred``
(argmax class) and uncertainties (higher = more uncertain); with labels also difficulty
measures (higher = harder). Any ``callable(x, y, start) -> dict`` is a scorer too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .. import functional as F
from .._validation import check_positive

__all__ = ["LogitScorer", "StochasticScorer"]


class LogitScorer:
    """One deterministic (eval-mode) forward pass per chunk.

    Columns: ``pred``; ``max_prob`` (trust, higher = more confident); ``entropy`` (H[p],
    higher = more uncertain); with labels also each of ``measures`` (registered ``"logits"``
    difficulty measures, higher = harder; default ``loss``, ``margin``).
    """

    def __init__(
        self, model: Any, *, measures: Iterable[str] = ("loss", "margin"), batch_size: int = 1024
    ) -> None:
        self.model = model
        self.measures = tuple(measures)
        self.batch_size = int(check_positive(batch_size, "batch_size"))
        from ..difficulty import get_measure

        for m in self.measures:
            if get_measure(m).kind != "logits":
                raise ValueError(f"measures: expected 'logits' measures, got {m!r}")

    def __call__(self, x: np.ndarray, y: np.ndarray | None, start: int) -> dict[str, np.ndarray]:
        from ..difficulty import get_measure
        from ..training.trainer import predict_logits

        z = predict_logits(self.model, x, batch_size=self.batch_size)
        p = F.softmax(z, axis=1)
        out = {
            "pred": p.argmax(1).astype(np.int64),
            "max_prob": F.max_prob(p),
            "entropy": F.entropy(p, axis=1),
        }
        if y is not None:
            for m in self.measures:
                out[m] = np.asarray(get_measure(m).fn(z, y), dtype=np.float64)
        return out


class StochasticScorer:
    """MC-dropout scores per chunk from :func:`samplescope.uncertainty.iter_stochastic`.

    ``S = samples`` passes with dropout active; masks seeded by ``(seed, chunk start)``, so
    results depend on the seed and the chunk boundaries only (not on the executor).
    Columns (higher = more uncertain; canonical names and formulas of
    :mod:`samplescope.functional`): ``pred`` (argmax of p̄), ``max_prob`` (max p̄, trust),
    ``predictive_entropy`` H[p̄], ``expected_entropy`` mean_s H[p_s], ``mutual_information``
    (their difference, BALD), ``variation_ratio`` 1 − (modal-class count)/S (Gal),
    ``mean_std`` mean_c std_s p_{s,c}, ``predictive_variance`` Σ_c Var_s p_{s,c} (Zhou eq. 7);
    with labels also ``loss`` −log p̄[y].
    """

    def __init__(
        self,
        model: Any,
        *,
        samples: int = 20,
        seed: int = 0,
        batch_size: int = 256,
        consistent_masks: bool = False,
    ) -> None:
        self.model = model
        self.samples = int(check_positive(samples, "samples"))
        self.seed = int(seed)
        self.batch_size = int(check_positive(batch_size, "batch_size"))
        self.consistent_masks = consistent_masks

    def __call__(self, x: np.ndarray, y: np.ndarray | None, start: int) -> dict[str, np.ndarray]:
        from ..uncertainty import iter_stochastic
        from ..uncertainty.masks import mix_seed

        seed = self.seed if self.consistent_masks else mix_seed(self.seed, start)
        parts = list(
            iter_stochastic(
                self.model,
                x,
                "mc_dropout",
                samples=self.samples,
                batch_size=self.batch_size,
                seed=seed,
                consistent_masks=self.consistent_masks,
            )
        )
        p = np.concatenate(parts, axis=1).astype(np.float64)  # (S, b, C)
        pbar = p.mean(0)
        out = {
            "pred": pbar.argmax(1).astype(np.int64),
            "max_prob": F.max_prob(pbar),
            **F.decompose(p),
            "variation_ratio": F.variation_ratio(p),
            "mean_std": F.mean_std(p),
            "predictive_variance": F.predictive_variance(p),
        }
        if y is not None:
            out["loss"] = F.label_nll(pbar, y)
        return out
