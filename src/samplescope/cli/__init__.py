"""Command-line interface: ``samplescope --help``. Thin: parses arguments, calls the public API."""

from __future__ import annotations

import importlib
import sys

import typer

from .app import app

# Each module registers its commands on ``app``. A command module that is not present in
# this build (an area not yet shipped) is skipped; any other import error propagates.
_COMMAND_MODULES = (
    "data_cmds",
    "difficulty_cmds",
    "train_cmds",
    "calibrate_cmds",
    "uncertainty_cmds",
    "trust_cmds",
    "active_cmds",
    "parallel_cmds",
)
for _name in _COMMAND_MODULES:
    try:
        importlib.import_module(f"{__name__}.{_name}")
    except ModuleNotFoundError as _exc:
        if _exc.name != f"{__name__}.{_name}":
            raise

__all__ = ["app", "main"]


def main() -> None:
    """Entry point; a ``ValueError`` from bad input prints one clear line and exits with code 2."""
    try:
        app(standalone_mode=False)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("aborted", err=True)
        sys.exit(130)
    except _usage_error_types() as exc:  # unknown command or option, bad value: no traceback
        exc.show()
        sys.exit(exc.exit_code)


def _usage_error_types() -> tuple[type[BaseException], ...]:
    """Click's ``ClickException`` and the copy Typer >= 0.26 vendors as ``typer._click``
    (Typer raises the latter, so catching ``click.ClickException`` alone misses every usage
    error and prints a traceback)."""
    found: list[type[BaseException]] = []
    for module in ("click.exceptions", "typer._click.exceptions"):
        try:
            found.append(importlib.import_module(module).ClickException)
        except (ImportError, AttributeError):
            continue
    return tuple(found)
