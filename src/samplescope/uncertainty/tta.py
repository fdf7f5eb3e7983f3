"""Ready-made deterministic test-time-augmentation views for images ``(B, C, H, W)``.

Each function returns a list of picklable callables ``x -> x'`` to pass as
``predict_stochastic(model, data, "tta", samples=None, transforms=views)``; the first view
is the identity.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .._validation import check_integer

__all__ = ["Shift", "Flip", "shift_views", "flip_views"]


class Shift:
    """Translate by ``(dy, dx)`` pixels, filling with zeros (picklable)."""

    def __init__(self, dy: int, dx: int) -> None:
        self.dy, self.dx = int(dy), int(dx)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.roll(x, shifts=(self.dy, self.dx), dims=(-2, -1))
        if self.dy > 0:
            out[..., : self.dy, :] = 0
        elif self.dy < 0:
            out[..., self.dy :, :] = 0
        if self.dx > 0:
            out[..., :, : self.dx] = 0
        elif self.dx < 0:
            out[..., :, self.dx :] = 0
        return out

    def __repr__(self) -> str:
        return f"Shift({self.dy}, {self.dx})"


class Flip:
    """Horizontal flip (picklable); identity when ``horizontal=False``."""

    def __init__(self, horizontal: bool = True) -> None:
        self.horizontal = horizontal

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return torch.flip(x, dims=[-1]) if self.horizontal else x

    def __repr__(self) -> str:
        return f"Flip({self.horizontal})"


def shift_views(
    pixels: int = 1, directions: Sequence[tuple[int, int]] | None = None
) -> list[Shift]:
    """Identity plus shifts by ``pixels`` (>= 1) in the 4 (default) or the given directions
    (pairs ``(dy, dx)`` of integers)."""
    pixels = check_integer(pixels, "pixels")
    if directions is not None:
        if isinstance(directions, (str, bytes)) or not isinstance(directions, Sequence):
            raise ValueError(
                f"directions: expected a sequence of (dy, dx) pairs, got {directions!r}"
            )
        for d in directions:
            if isinstance(d, (str, bytes)) or not isinstance(d, Sequence) or len(d) != 2:
                raise ValueError(f"directions: expected (dy, dx) pairs of integers, got {d!r}")
        directions = [
            (
                check_integer(dy, "directions", minimum=None),
                check_integer(dx, "directions", minimum=None),
            )
            for dy, dx in directions
        ]
    dirs = directions or [(0, 1), (0, -1), (1, 0), (-1, 0)]
    return [Shift(0, 0)] + [Shift(dy * pixels, dx * pixels) for dy, dx in dirs]


def flip_views() -> list[Flip]:
    """Identity and a horizontal flip (for natural images, not digits)."""
    return [Flip(False), Flip(True)]
