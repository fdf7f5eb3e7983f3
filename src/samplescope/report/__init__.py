"""Figures (matplotlib, imported lazily) and the audit's self-contained HTML report."""

from .grid import hardest_easiest_grid, plt, sample_grid, save_figure
from .html import render_report

__all__ = ["hardest_easiest_grid", "plt", "render_report", "sample_grid", "save_figure"]
