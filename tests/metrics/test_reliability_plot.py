"""The reliability diagram: the count strip is its own axes, the smooth curve is drawn."""

from __future__ import annotations

import numpy as np

from samplescope.functional import softmax
from samplescope.metrics import plot_reliability_diagram, reliability_diagram_data
from samplescope.report import plt


def _probs(n: int = 2000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 5)) * 2
    p = softmax(z, axis=1)
    y = np.minimum((rng.random(n)[:, None] > np.cumsum(p, 1)).sum(1), 4)
    return softmax(2.5 * z, axis=1), y  # over-confident


def test_counts_in_a_separate_strip_and_smooth_curve(tmp_path) -> None:
    p, y = _probs()
    fig = plot_reliability_diagram(p, y, 15, n_boot=20)
    top, strip = fig.axes
    assert strip.get_yscale() == "log" and top.get_yscale() == "linear"
    # the strip sits below the panel, without overlap, on the same x range
    assert strip.get_position().y1 <= top.get_position().y0 + 1e-9
    assert strip.get_xlim() == top.get_xlim() == (0.0, 1.0)
    counts = sorted(b.get_height() for b in strip.patches)
    d = reliability_diagram_data(p, y, 15)
    assert counts == sorted(d["count"][d["count"] > 0].tolist())
    assert all(b.get_height() <= 1.0 + 1e-9 for b in top.patches)  # accuracy bars only on top
    labels = [ln.get_label() for ln in top.get_lines()]
    assert any(lb.startswith("smoothed") for lb in labels)
    assert "smECE" in top.get_title() and "ECE" in top.get_title()
    out = tmp_path / "rel.png"
    plot_reliability_diagram(p, y, 15, n_boot=0, path=out)
    assert out.stat().st_size > 5000
    plt().close("all")


def test_on_given_axes_each_gets_its_own_strip() -> None:
    p, y = _probs(800, 1)
    fig, axes = plt().subplots(1, 2, figsize=(8, 4))
    plot_reliability_diagram(p, y, 10, ax=axes[0], title="before", n_boot=0)
    plot_reliability_diagram(p, y, 10, ax=axes[1], title="after", smooth=False)
    assert len(fig.axes) == 4
    assert axes[0].get_title() == "before"
    assert not any(ln.get_label().startswith("smoothed") for ln in axes[1].get_lines())
    plt().close(fig)
