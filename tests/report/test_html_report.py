"""The audit's HTML report: self-contained, complete, and working in a real browser.

The browser test runs Debian's ``chromium`` headless (``.ci/run`` installs it; the README
says how): it loads the page with a view in the address (filter / flagged / sort), dumps
the DOM after the script ran, checks that the gallery, figures and table are there, that
filtering and sorting changed the rows, that no script error was logged, and takes a
screenshot into the test's tmp dir. Without a browser the test skips, saying why.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from samplescope.report import render_report


def _table(n: int = 120, c: int = 3, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, c, n)
    flag = np.zeros(n, bool)
    flag[rng.choice(n, 9, replace=False)] = True
    df = pd.DataFrame(
        {
            "sample_id": np.arange(n) + 1000,
            "label": y,
            "gen_error": rng.gamma(1.0, 0.3, n) + 2 * flag,
            "loss": rng.gamma(1.0, 0.2, n),
            "cartography_confidence": rng.uniform(0, 1, n),
            "cartography_variability": rng.uniform(0, 0.4, n),
            "confidence_calibrated": rng.uniform(0.34, 1, n),
            "oof_correct": rng.uniform(size=n) < 0.8,
            "trust": rng.uniform(size=n),
            "is_label_issue": flag,
            "label_quality": np.where(flag, 0.05, 0.9),
            "suggested_label": (y + flag) % c,
        }
    )
    images = rng.uniform(size=(n, 1, 8, 8)).astype(np.float32)
    return df, images


def test_report_is_self_contained_and_complete(tmp_path: Path) -> None:
    df, images = _table()
    path = render_report(
        df, tmp_path / "r.html", class_names=["cat", "dog", "eel"], images=images,
        meta={"ece": 0.031, "trust_name": "calibrated max-prob", "notes": ["a note"]},
    )  # fmt: skip
    page = path.read_text()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # nothing from the network
    for text in (
        "estimated label issues",
        "9 (7.5%)",
        "3.10%",
        "Per class",
        "Flagged samples",
        "Data map",
        "Reliability",
        "Risk–coverage",
        "gen_error by class",
        "a note",
    ):
        assert text in page, text  # fmt: skip
    assert page.count('class="card"') == 9 and page.count("data:image/png;base64,") >= 9 + 4
    assert "given <b>" in page and "eel" in page


def test_report_for_tabular_data_shows_feature_rows(tmp_path: Path) -> None:
    df, _ = _table(40)
    feats = pd.DataFrame({"age": np.arange(40), "city": ["x"] * 40})
    page = render_report(df, tmp_path / "t.html", features=feats).read_text()
    assert page.count('class="feat"') == 9 and "city" in page


def test_report_without_optional_columns(tmp_path: Path) -> None:
    df = pd.DataFrame({"sample_id": np.arange(5), "label": [0, 1, 0, 1, 1], "loss": np.ones(5)})
    page = render_report(df, tmp_path / "m.html").read_text()
    assert "No sample is flagged" in page and "loss by class" in page
    with pytest.raises(ValueError, match="df"):
        render_report(pd.DataFrame({"x": [1]}), tmp_path / "bad.html")


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        if exe := shutil.which(name):
            return exe
    return None


def _run_browser(exe: str, url: str, *args: str) -> subprocess.CompletedProcess:
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
           "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000", *args, url]  # fmt: skip
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def test_report_in_headless_chromium(tmp_path: Path) -> None:
    exe = _chromium()
    if exe is None:
        pytest.skip("no Chromium on this machine (apt-get install chromium; .ci/run does)")
    df, images = _table()
    path = render_report(df, tmp_path / "r.html", class_names=["cat", "dog", "eel"], images=images)
    url = path.resolve().as_uri()

    plain = _run_browser(exe, url, "--dump-dom")
    assert plain.returncode == 0, plain.stderr[-2000:]
    dom = plain.stdout
    assert 'data-ready="1"' in dom, "the page script did not finish"
    assert not re.search(r"Uncaught|CONSOLE\(\d+\).*[Ee]rror", plain.stderr), plain.stderr[-2000:]
    assert 'data-shown="120"' in dom and dom.count('class="card"') == 9
    assert dom.count("<figure>") == 4

    flagged = _run_browser(exe, url + "#flagged=1&sort=gen_error:desc", "--dump-dom").stdout
    assert 'data-shown="9"' in flagged  # the flagged-only filter ran in the browser
    body = flagged.split('id="samples"', 1)[1]
    first = re.findall(r'<tr class="flag"><td>(\d+)</td>', body)
    want = df[df.is_label_issue].sort_values("gen_error", ascending=False).sample_id.tolist()
    assert [int(v) for v in first] == want  # sorted by gen_error, descending

    filtered = _run_browser(exe, url + "#filter=eel", "--dump-dom").stdout
    n_eel = int((df.label == 2).sum() + ((df.suggested_label == 2) & df.is_label_issue).sum())
    shown = int(re.search(r'data-shown="(\d+)"', filtered).group(1))
    assert 0 < shown < 120 and shown >= int((df.label == 2).sum()) and shown <= n_eel + 120

    shot = tmp_path / "report.png"
    r = _run_browser(exe, url, f"--screenshot={shot}", "--window-size=1280,2400")
    assert r.returncode == 0 and shot.stat().st_size > 10_000
