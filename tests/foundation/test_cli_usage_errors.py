"""Usage errors of the ``samplescope`` entry point: one message, exit code 2, no traceback.

Typer >= 0.26 raises its vendored ``typer._click`` exceptions, which ``click.ClickException``
does not catch; before the fix every case below printed a ~37-line traceback and exited 1.
"""

from __future__ import annotations

import sys

import pytest

from samplescope.cli import main


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["foo"], "No such command"),
        (["difficulty", "--epochs", "abc"], "--epochs"),
        (["difficulty", "--bogus"], "--bogus"),
        (["active", "--no-such-flag"], "--no-such-flag"),
    ],
)
def test_usage_error_is_one_message_and_exit_2(monkeypatch, capsys, argv, expected):
    monkeypatch.setattr(sys, "argv", ["samplescope", *argv])
    with pytest.raises(SystemExit) as exit_info:
        main()
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert expected in err
    assert "Traceback" not in err


def test_bad_value_is_a_valueerror_line(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["samplescope", "difficulty", "--measures", "nope"])
    with pytest.raises(SystemExit) as exit_info:
        main()
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and err.startswith("error:") and "nope" in err


@pytest.mark.parametrize(
    ("argv", "flag"),
    [
        (["--noise", "-0.1"], "--noise"),
        (["--noise", "1.5"], "--noise"),
        (["--imbalance", "0.5"], "--imbalance"),
        (["--out", "scores.txt"], "--out"),
        (["--out", "/proc/nope/scores.parquet"], "--out"),
    ],
)
def test_bad_flag_values_fail_before_any_training(monkeypatch, capsys, tmp_path, argv, flag):
    """Before the fix: --noise -0.1 was ignored (exit 0) and --out was checked after training."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(
        sys, "argv", ["samplescope", "difficulty", "--measures", "loss", "--quiet", *argv]
    )
    with pytest.raises(SystemExit) as exit_info:
        main()
    captured = capsys.readouterr()
    assert exit_info.value.code == 2
    assert captured.err.startswith(f"error: {flag}:"), captured.err
    assert "trained" not in captured.out  # nothing was trained
    assert not list(tmp_path.iterdir())  # nothing was written
