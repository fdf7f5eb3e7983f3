"""Figures (matplotlib, imported lazily)."""

from .grid import hardest_easiest_grid, plt, sample_grid, save_figure

__all__ = ["hardest_easiest_grid", "plt", "sample_grid", "save_figure"]
