"""The CLI front door (issue 16): usage errors, bad values, one vocabulary, fast start, progress.

Every command is run in-process through ``samplescope.cli.main`` (the console entry point)
with its data loading replaced by a sentinel, so a bad value that slips past validation is
caught as "work started" instead of training a model.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from samplescope.cli import app, main
from samplescope.cli.options import MODEL_NAMES, NOISE_KINDS, VOCABULARY

ROOT = Path(__file__).resolve().parents[2]
CMD_MODULES = (
    "difficulty_cmds",
    "train_cmds",
    "uncertainty_cmds",
    "calibrate_cmds",
    "trust_cmds",
    "active_cmds",
    "parallel_cmds",
)


class _WorkStartedError(Exception):
    """Raised by the patched data loader: validation let the command start real work."""


def _click_commands() -> dict:
    import typer

    group = typer.main.get_command(app)
    commands = dict(group.commands)
    for name, cmd in list(commands.items()):  # sub-commands of a group: "active query"
        for sub, sub_cmd in getattr(cmd, "commands", {}).items():
            commands[f"{name} {sub}"] = sub_cmd
    return commands


def _flags(cmd) -> set[str]:
    out: set[str] = set()
    for p in cmd.params:
        out.update(getattr(p, "opts", []))
        out.update(getattr(p, "secondary_opts", []))
    return out


@pytest.fixture
def cli(monkeypatch, capsys, tmp_path):
    """``cli(*args) -> (exit_code, stdout, stderr)``; data loading raises _WorkStartedError."""
    import importlib

    def refuse(*a, **k):
        raise _WorkStartedError(f"work started with {a} {k}")

    for mod in CMD_MODULES:
        monkeypatch.setattr(
            importlib.import_module(f"samplescope.cli.{mod}"), "prepare_data", refuse
        )
    for name in ("audit", "load_audit_data"):  # the audit and report commands' loaders
        monkeypatch.setattr(importlib.import_module("samplescope.auditing"), name, refuse)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "t.parquet").write_bytes(b"")  # an existing TABLE for `report`

    def run(*args: str) -> tuple[int, str, str]:
        if args:  # "active query" is the command "active", sub-command "query"
            args = (*args[0].split(" "), *args[1:])
        monkeypatch.setattr(sys, "argv", ["samplescope", *args])
        code = 0
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        out, err = capsys.readouterr()
        return code, out, err

    return run


def _assert_clean_usage_error(code: int, err: str, flag: str | None = None) -> None:
    assert code == 2, err
    assert "Traceback" not in err
    errors = [ln for ln in err.splitlines() if ln.lower().startswith("error")]
    assert len(errors) == 1, err  # one line naming the problem
    if flag is not None:
        assert flag in errors[0], err


COMMANDS = sorted(_click_commands())


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_usage_error_is_one_line_exit_2(cli, command: str) -> None:
    code, _, err = cli(command, "--no-such-flag")
    _assert_clean_usage_error(code, err, "--no-such-flag")
    assert "Usage: samplescope" in err


@pytest.mark.parametrize("command", COMMANDS)
def test_help_has_no_rst_markup(cli, command: str) -> None:
    code, out, _ = cli(command, "--help")
    assert code == 0 and "``" not in out and ":func:" not in out


def test_report_table_argument(cli) -> None:
    code, _, err = cli("report")
    _assert_clean_usage_error(code, err, "TABLE")
    for bad in ("missing.parquet", "t.txt"):
        code, _, err = cli("report", bad)
        _assert_clean_usage_error(code, err, "TABLE")


def test_no_command_and_unknown_command(cli) -> None:
    code, out, err = cli()
    assert code == 2 and "Usage" in out + err and "Traceback" not in err
    code, _, err = cli("foo")
    _assert_clean_usage_error(code, err)
    assert "foo" in err


# command -> flag -> values that must be refused before any work (exit 2, the flag named)
BAD_VALUES: dict[str, dict[str, list[str]]] = {
    "difficulty": {
        "--epochs": ["0", "-1", "abc"],
        "--folds": ["1", "0", "x"],
        "--repeats": ["0", "-2"],
        "--noise": ["-0.1", "1.0", "1.5", "nan", "inf"],
        "--noise-kind": ["bogus"],
        "--imbalance": ["0.5", "nan", "-1"],
        "--model": ["vit", ""],
        "--measures": ["bogus", ",", "loss,nope"],
        "--train-subset": ["0", "-5"],
        "--precision": ["fp16"],
        "--format": ["xlsx"],
        "--out": ["x.parquet", "/proc/nope/x"],
        "--executor": ["threads", "process:0", "process:x"],
        "--workers": ["0", "-1"],
        "--data": ["cifar10", ""],
        "--seed": ["abc", "1.5"],
    },
    "train": {
        "--weighting": ["nope"],
        "--param": ["foo=1", "noequals"],
        "--weight-mode": ["both"],
        "--epochs": ["0"],
        "--lr": ["0", "-1", "nan"],
        "--batch-size": ["0", "-3"],
        "--noise": ["2"],
        "--imbalance": ["0"],
        "--weights-from": ["/nonexistent/s.parquet"],
        "--model": ["vit"],
        "--out": ["x.csv"],
        "--data": ["imagenet"],
    },
    "uncertainty": {
        "--method": ["bayes"],
        "--samples": ["0", "-1"],
        "--split": ["val"],
        "--chunk-size": ["0"],
        "--format": ["json"],
        "--model": ["vit"],
        "--model-path": ["/nonexistent/m.pt"],
        "--executor": ["bogus"],
        "--noise": ["-1"],
        "--out": ["u.parquet"],
    },
    "calibrate": {
        "--method": ["nope", ",", "ts,bogus"],
        "--cv": ["1", "-1"],
        "--ci": ["0", "1.5"],
        "--n-boot": ["0"],
        "--val-fraction": ["0", "1", "1.5"],
        "--n-bins": ["0"],
        "--model-path": ["/nonexistent/m.pt"],
        "--data": ["cifar"],
        "--epochs": ["0"],
        "--out": ["c.png"],
    },
    "trust": {
        "--repeats": ["0"],
        "--losses": ["hinge"],
        "--baselines": ["odin"],
        "--head": ["mlp"],
        "--correctness": ["oof", ""],
        "--folds": ["1", "0"],
        "--backbone": ["lora"],
        "--freeze-layers": ["-1"],
        "--shift": ["fog"],
        "--alpha-neg": ["0", "-1"],
        "--oracle-lr": ["0"],
        "--fit-size": ["0"],
        "--executor": ["threads"],
        "--model": ["vit"],
        "--epochs": ["0"],
    },
    "active": {
        "--acquisition": ["nope", ","],
        "--initial": ["0"],
        "--per-step": ["0"],
        "--steps": ["0"],
        "--samples": ["0"],
        "--repeats": ["0"],
        "--pool-subset": ["-1"],
        "--test-subset": ["-1"],
        "--noise": ["1.5"],
        "--filter-tau": ["2", "abc"],
        "--batch-mode": ["x"],
        "--init": ["x"],
        "--model": ["resnet"],
        "--executor": ["process:-1"],
        "--lr": ["0"],
        "--out": ["a.json"],
    },
    "active query": {
        "--pool": ["/nonexistent/p.csv"],
        "--n": ["0", "-1", "x"],
        "--acquisition": ["nope"],
        "--batch-mode": ["x"],
        "--init": ["balanced"],
        "--model": ["vit"],
        "--samples": ["0"],
        "--updates": ["0"],
        "--pool-subset": ["-1"],
        "--budget": ["-1"],
        "--out": ["q.csv"],
        "--seed": ["abc"],
    },
    "active teach": {
        "--answers": ["/nonexistent/a.csv"],
        "--n": ["-2", "x"],
        "--out": ["a.csv"],
    },
    "score-pool": {
        "--pool": ["pool.txt", "synthetic:0", "synthetic:x", "/nonexistent/x.npy"],
        "--method": ["x"],
        "--samples": ["0"],
        "--chunk-size": ["0"],
        "--epochs": ["0"],
        "--model": ["vit"],
        "--out": ["p.parquet"],
        "--data": ["svhn"],
    },
    "executor": {"--executor": ["threads", "process:0"], "--tasks": ["0"], "--workers": ["0"]},
    "audit": {
        "--data": ["cifar10", "x.txt", "/nonexistent/d.csv"],
        "--label": ["y"],  # only CSV / Parquet data have a label column
        "--model": ["vit", "/nonexistent/m.pt"],
        "--gen-error": ["slow"],
        "--uncertainty": ["bayes"],
        "--epochs": ["0"],
        "--samples": ["0"],
        "--noise": ["1", "-0.5"],
        "--noise-kind": ["x"],
        "--train-subset": ["0"],
        "--executor": ["bogus"],
        "--out": ["a.parquet"],
    },
    "report": {"--data": ["cifar10", "x.txt"], "--out": ["r.html"]},
    "label-issues": {
        "--data": ["cifar10", "", "/nonexistent/x.csv", "pyproject.toml"],
        "--label": ["y", ""],
        "--features": ["a,b", ","],
        "--method": ["bogus", ""],
        "--rank-by": ["nope"],
        "--folds": ["1", "0", "x"],
        "--repeats": ["0", "-1"],
        "--epochs": ["0", "-1"],
        "--model": ["vit"],
        "--lr": ["0", "nan", "-1"],
        "--batch-size": ["0"],
        "--top": ["-1"],
        "--format": ["xlsx"],
        "--out": ["x.parquet", "/proc/nope/x"],
        "--executor": ["threads", "process:0"],
        "--workers": ["0"],
        "--data-dir": ["/nonexistent/dir"],
        "--seed": ["abc", "-1"],
    },
}
# arguments placed before the bad one (a later repeat of a flag wins)
BASE_ARGS: dict[str, list[str]] = {
    "calibrate": ["--data", "digits"],
    "report": ["t.parquet"],
    "active teach": ["--answers", "t.parquet"],
}
# flags a fuzz example may add with a valid value (the bad one must still be reported)
GOOD_VALUES: dict[str, list[str]] = {
    "--seed": ["0", "3"],
    "--quiet": [],
    "--epochs": ["2"],
    "--train-subset": ["100"],
}
TRIED: dict[str, int] = {}
# commands without options of their own (listings): only the usage-error test applies
NO_OPTIONS = {"datasets", "measures", "weightings", "trust-losses"}


def test_bad_value_table_covers_every_command_and_real_flags() -> None:
    commands = _click_commands()
    assert set(BAD_VALUES) | NO_OPTIONS == set(commands), "a new command needs BAD_VALUES rows"
    for name, table in BAD_VALUES.items():
        missing = set(table) - _flags(commands[name])
        assert not missing, f"{name}: {missing} are not flags of the command"


@pytest.mark.parametrize(
    ("command", "flag", "value"),
    [(c, f, v) for c, t in BAD_VALUES.items() for f, vs in t.items() for v in vs],
)
def test_each_bad_value_is_refused_before_work(cli, command: str, flag: str, value: str) -> None:
    try:
        code, _, err = cli(command, *BASE_ARGS.get(command, []), flag, value)
    except _WorkStartedError as exc:
        pytest.fail(f"{command} {flag} {value!r}: started work instead of refusing ({exc})")
    _assert_clean_usage_error(code, err)
    line = next(ln for ln in err.splitlines() if ln.lower().startswith("error"))
    aliases = {flag, flag.replace("--", "")}
    assert any(a in line for a in aliases) or "Invalid value" in line, err


@st.composite
def _bad_invocation(draw):
    command = draw(st.sampled_from(sorted(BAD_VALUES)))
    flag = draw(st.sampled_from(sorted(BAD_VALUES[command])))
    value = draw(st.sampled_from(BAD_VALUES[command][flag]))
    flags = _flags(_click_commands()[command])
    extra: list[str] = []
    for good in draw(st.lists(st.sampled_from(sorted(GOOD_VALUES)), max_size=3, unique=True)):
        if good == flag or good not in flags or good in BAD_VALUES[command]:
            continue
        vals = GOOD_VALUES[good]
        extra += [good] + ([draw(st.sampled_from(vals))] if vals else [])
    args = draw(st.permutations([[flag, value], *[[e] for e in extra]]))
    return command, flag, BASE_ARGS.get(command, []) + [a for group in args for a in group]


# 4x the profile's count: 60 in the default profile, 800 with HYPOTHESIS_PROFILE=slow
@settings(
    max_examples=4 * settings.default.max_examples,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(inv=_bad_invocation())
def test_fuzz_bad_flags_never_traceback(cli, inv) -> None:
    command, flag, args = inv
    TRIED[command] = TRIED.get(command, 0) + 1
    try:
        code, _, err = cli(command, *args)
    except _WorkStartedError as exc:
        pytest.fail(f"{command} {args}: started work ({exc})")
    _assert_clean_usage_error(code, err)


def test_vocabulary_one_name_per_concept() -> None:
    commands = _click_commands()
    retired = {"--mc-samples", "--label-noise", "--seeds", "--scheduler"}
    fan_out = {"difficulty", "uncertainty", "trust", "active", "score-pool", "executor"}
    trains = {"difficulty", "train", "uncertainty", "calibrate", "trust", "active", "score-pool"}
    for name, cmd in commands.items():
        primary = {p.opts[0] for p in cmd.params if getattr(p, "opts", None)}
        assert not primary & retired, f"{name}: {primary & retired} is an old name, kept as alias"
        if name in fan_out:
            assert {"--executor", "--workers", "--address"} <= _flags(cmd), name
        if name in trains:
            assert "--quiet" in _flags(cmd), name
            out = next(p for p in cmd.params if "--out" in getattr(p, "opts", []))
            assert "folder" in (out.help or ""), f"{name}: --out must be a folder"


def test_readme_vocabulary_table_matches() -> None:
    text = (ROOT / "README.md").read_text()
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)]
        if len(cells) == 5 and re.fullmatch(r"`--[a-z-]+`", cells[1]):
            rows[cells[1].strip("`")] = cells[2]
    for flag, meaning in VOCABULARY.items():
        assert flag in rows, f"README vocabulary table lacks {flag}"
        assert rows[flag].strip() == meaning.replace("|", "\\|"), flag


def test_help_lists_match_the_registries() -> None:
    from samplescope.active import list_acquisitions
    from samplescope.cli.active_cmds import ACQUISITIONS
    from samplescope.cli.uncertainty_cmds import UNCERTAINTY_METHODS
    from samplescope.data import NOISE_KINDS as REAL_NOISE_KINDS
    from samplescope.models import MODEL_KINDS
    from samplescope.uncertainty import METHODS

    assert tuple(NOISE_KINDS) == tuple(REAL_NOISE_KINDS)
    assert set(UNCERTAINTY_METHODS) == set(METHODS)
    assert set(ACQUISITIONS) == set(list_acquisitions())
    from samplescope.active import list_batch_modes
    from samplescope.cli.active_cmds import BATCH_MODES

    assert set(BATCH_MODES) == set(list_batch_modes())
    from samplescope.cli.calibrate_cmds import CALIBRATORS
    from samplescope.uncertainty import list_calibrators

    assert set(CALIBRATORS) == set(list_calibrators())
    assert ("auto", *MODEL_KINDS) == MODEL_NAMES


def test_import_and_help_load_no_heavy_module() -> None:
    code = (
        "import sys, samplescope, samplescope.cli;"
        "print(sorted(m for m in ('torch', 'scipy', 'numpy', 'pandas', 'sklearn') "
        "if m in sys.modules))"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "[]", r.stdout
    r = subprocess.run(
        [
            sys.executable,
            "-c",
            "import samplescope as s, sys; s.fit; print('torch' in sys.modules)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert r.stdout.strip() == "True"  # names resolve on first use


def test_progress_in_a_log_is_plain_lines(monkeypatch, capsys) -> None:
    from samplescope._progress import PROGRESS_ENV, progress_bar

    monkeypatch.setenv(PROGRESS_ENV, "log")
    bar = progress_bar(100, True, "epochs")
    for _ in range(100):
        bar.update(1)
    bar.close()
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert len(lines) == 10 and "\r" not in err
    assert lines[0].startswith("epochs: 10/100 (10%)") and lines[-1].startswith("epochs: 100/100")
    bar = progress_bar(4, True, "fits")
    for _ in range(4):
        bar.update(1)
    assert len(capsys.readouterr().err.splitlines()) == 4  # <= 10 steps: a line per step
    bar = progress_bar(4, False, "fits")
    bar.update(4)
    assert capsys.readouterr().err == ""  # --quiet
    monkeypatch.setenv(PROGRESS_ENV, "none")
    progress_bar(4, True, "fits").update(4)
    assert capsys.readouterr().err == ""


def test_progress_without_a_terminal_picks_lines(monkeypatch) -> None:
    from samplescope import _progress

    monkeypatch.delenv(_progress.PROGRESS_ENV, raising=False)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    assert isinstance(_progress.progress_bar(3, True, "x"), _progress._LogBar)
