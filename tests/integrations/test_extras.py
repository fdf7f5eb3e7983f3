"""Optional dependencies: a one-line ImportError naming the extra when one is missing."""

from __future__ import annotations

import importlib
import sys

import pytest

from samplescope.integrations import require


@pytest.mark.parametrize(
    ("framework", "module", "extra"),
    [
        ("lightning.pytorch", "samplescope.integrations.lightning", "lightning"),
        ("transformers", "samplescope.integrations.hf", "hf"),
    ],
)
def test_missing_extra_is_one_line_naming_it(monkeypatch, framework, module, extra):
    monkeypatch.setitem(sys.modules, framework, None)  # as if not installed
    monkeypatch.delitem(sys.modules, module, raising=False)
    for call in (lambda: require(framework), lambda: importlib.import_module(module)):
        with pytest.raises(ImportError) as err:
            call()
        msg = str(err.value)
        assert f'pip install "samplescope[{extra}]"' in msg and "\n" not in msg
        assert err.value.__cause__ is None and err.value.__suppress_context__


def test_the_package_imports_without_the_frameworks(monkeypatch):
    for name in ("lightning.pytorch", "transformers"):
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.delitem(sys.modules, "samplescope.integrations", raising=False)
    importlib.import_module("samplescope.integrations")
    with pytest.raises(ValueError, match="module"):
        require("numpy")
