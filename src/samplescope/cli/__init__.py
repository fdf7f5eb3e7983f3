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
    "active_label_cmds",
    "parallel_cmds",
    "audit_cmds",
    "label_issues_cmds",
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
        app(standalone_mode=False, prog_name="samplescope")
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("aborted", err=True)
        sys.exit(130)
    except Exception as exc:
        if not _is_usage_error(exc):
            raise
        exc.show()  # type: ignore[attr-defined]  # the usage line and one "Error: ..." line
        sys.exit(getattr(exc, "exit_code", 2))


def _is_usage_error(exc: BaseException) -> bool:
    """A Click-like usage error, recognised by behaviour rather than by module path.

    Typer >= 0.26 raises its vendored ``typer._click`` exceptions, older ones Click's own;
    both derive from a class named ``ClickException`` and have ``show()`` and ``exit_code``.
    """
    names = {cls.__name__ for cls in type(exc).__mro__}
    return bool(names & {"ClickException", "UsageError"}) and callable(getattr(exc, "show", None))
