"""The layout is the architecture: the import contract holds and modules stay small.

``lint-imports`` (import-linter, configured in ``pyproject.toml``) checks that layers only
import downward, that the capabilities never import each other and that no sibling modules
or packages form a cycle — imports inside functions included. A planted violation in a
throw-away package shows that the same contracts do fail.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "samplescope"
MAX_LINES = 450


def _lint_imports(
    cwd: Path, config: Path, env_path: Path | None = None
) -> subprocess.CompletedProcess:
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.fail("lint-imports not found: pip install -e '.[dev]' installs import-linter")
    env = None
    if env_path is not None:
        import os

        env = {**os.environ, "PYTHONPATH": str(env_path)}
    return subprocess.run(
        [exe, "--config", str(config), "--no-cache"],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_import_contract_kept():
    res = _lint_imports(ROOT, ROOT / "pyproject.toml")
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]
    assert "0 broken" in res.stdout


def test_import_contract_catches_an_upward_import_inside_a_function(tmp_path):
    pkg = tmp_path / "toy"
    for sub in ("low", "high"):
        (pkg / sub).mkdir(parents=True)
        (pkg / sub / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "high" / "a.py").write_text("from ..low import b\n")
    (pkg / "low" / "b.py").write_text(
        textwrap.dedent(
            """
            def late():
                from ..high import a  # upward, and hidden inside a function
                return a
            """
        )
    )
    config = tmp_path / "setup.cfg"
    config.write_text(
        textwrap.dedent(
            """
            [importlinter]
            root_package = toy

            [importlinter:contract:layers]
            name = toy layers
            type = layers
            containers = toy
            layers =
                high
                low
            """
        )
    )
    res = _lint_imports(tmp_path, config, env_path=tmp_path)
    assert res.returncode != 0 and "BROKEN" in res.stdout, res.stdout + res.stderr
    assert "toy.low.b -> toy.high.a" in res.stdout


def test_no_module_over_the_size_limit():
    sizes = {
        p.relative_to(SRC).as_posix(): len(p.read_text().splitlines()) for p in SRC.rglob("*.py")
    }
    assert len(sizes) > 50  # the walk found the package
    big = {k: v for k, v in sizes.items() if v > MAX_LINES}
    assert not big, f"modules over {MAX_LINES} lines (split them by concept): {big}"


def test_parallel_package_is_gone_and_layers_exist():
    assert not (SRC / "parallel").exists()
    for pkg in ("functional", "executors", "scoring", "training/stacked"):
        assert (SRC / pkg / "__init__.py").is_file(), pkg
