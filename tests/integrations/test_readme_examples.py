"""The README's "Where you already train" code blocks run as they are (offline, in a tmp dir)."""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

import pytest

pytest.importorskip("lightning.pytorch")
pytest.importorskip("transformers")
pytest.importorskip("accelerate")

README = Path(__file__).resolve().parents[2] / "README.md"


def _blocks() -> list[str]:
    text = README.read_text()
    section = text.split("## Where you already train", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def test_the_section_has_the_two_five_line_examples():
    blocks = _blocks()
    assert len(blocks) == 3  # the stand-in setup, Lightning, Hugging Face
    for b in blocks[1:]:
        assert len(b.strip().splitlines()) == 5


def test_readme_examples_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    import torch

    torch.manual_seed(0)
    ns: dict = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for block in _blocks():
            exec(compile(block, str(README), "exec"), ns)  # noqa: S102
    printed = out.getvalue()
    assert printed.count("sample_id") >= 2 and printed.count("[5 rows x 13 columns]") == 2
    assert len(ns["cb"].table()) == 32  # the HF example's texts, every one recorded
    assert os.path.isdir(tmp_path)
