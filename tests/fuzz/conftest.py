"""Summary of the fuzz battery: cases, examples tried and failing tests, at session end."""

from __future__ import annotations

from typing import Any

from .strategies import EXAMPLES, FAILURES


def pytest_runtest_logreport(report: Any) -> None:
    nid = report.nodeid
    if report.failed and "test_fuzz_api.py" in nid and "[" in nid:
        inner = nid[nid.index("[") + 1 : nid.rindex("]")]
        FAILURES[inner.split("-", 1)[0] if "test_known_failure" in nid else inner] += 1


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not EXAMPLES:
        return
    tr = terminalreporter
    tr.write_sep("-", "fuzz battery (tests/fuzz)")
    tr.write_line(
        f"{len(EXAMPLES)} cases, {sum(EXAMPLES.values())} examples tried, "
        f"{sum(FAILURES.values())} failing tests in {len(FAILURES)} cases"
    )
    for cid, k in sorted(FAILURES.items()):
        tr.write_line(f"  failing: {cid} ({k} tests)")
