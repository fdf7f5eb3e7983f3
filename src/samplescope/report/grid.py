"""Image grids of the hardest and easiest samples (matplotlib imported lazily, Agg backend)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..io.figures import plt, save_figure

__all__ = ["plt", "save_figure", "sample_grid", "hardest_easiest_grid"]


def _img(x: np.ndarray) -> tuple[np.ndarray, str | None]:
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 3 and x.shape[0] in (1, 3):
        x = x[0] if x.shape[0] == 1 else np.transpose(x, (1, 2, 0))
    if x.ndim == 1:
        side = int(round(np.sqrt(x.size)))
        x = x.reshape(side, side) if side * side == x.size else x[None]
    return x, ("gray_r" if x.ndim == 2 else None)


def sample_grid(ax_rows: Any, images: np.ndarray, titles: Sequence[str]) -> None:
    for ax, im, t in zip(ax_rows, images, titles, strict=False):
        arr, cmap = _img(im)
        ax.imshow(arr, cmap=cmap)
        ax.set_title(t, fontsize=7)
        ax.axis("off")


def hardest_easiest_grid(
    images: np.ndarray,
    labels: np.ndarray,
    scores: np.ndarray,
    path: str | os.PathLike,
    *,
    true_labels: np.ndarray | None = None,
    k: int = 10,
    score_name: str = "score",
    class_names: Sequence[str] | None = None,
) -> Path:
    """Save a 2-row PNG: the ``k`` highest-scoring (hardest) and ``k`` lowest (easiest) samples.

    Titles show the true label, the given label when it differs (noisy), and the score.
    """
    pyplot = plt()
    n = len(scores)
    k = min(k, n)
    order = np.argsort(-np.asarray(scores), kind="stable")
    rows = {"hardest": order[:k], "easiest": order[::-1][:k]}
    fig, axes = pyplot.subplots(2, k, figsize=(1.3 * k, 3.2), squeeze=False)

    def name(c: int) -> str:
        return class_names[c] if class_names else str(c)

    for r, (row_name, idx) in enumerate(rows.items()):
        titles = []
        for i in idx:
            true = labels[i] if true_labels is None else true_labels[i]
            t = f"y={name(int(true))}"
            if true_labels is not None and true_labels[i] != labels[i]:
                t += f"\ngiven={name(int(labels[i]))}"
            titles.append(f"{t}\n{score_name}={scores[i]:.3g}")
        sample_grid(axes[r], images[idx], titles)
        axes[r][0].text(
            -0.3,
            0.5,
            row_name,
            transform=axes[r][0].transAxes,
            rotation=90,
            va="center",
            fontsize=9,
        )
    fig.suptitle(f"hardest / easiest by {score_name}", fontsize=10, y=1.04)
    return save_figure(fig, path)
