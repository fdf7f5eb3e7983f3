"""The Typer application object shared by the command modules."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="samplescope",
    help="Per-sample difficulty, uncertainty and trustworthiness - and acting on them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
