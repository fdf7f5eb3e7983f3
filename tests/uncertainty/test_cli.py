"""``samplescope calibrate`` / ``samplescope uncertainty`` end to end (in-process ``main()``)."""

from __future__ import annotations

import json
import sys

import numpy as np
import pandas as pd
import pytest
from scipy.special import log_softmax

from samplescope.cli import main


class Result:
    def __init__(self, returncode: int, stdout: str, stderr: str) -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


@pytest.fixture
def run(capsys, monkeypatch):
    """Run the CLI in-process (``main()`` with patched argv): exit code, stdout, stderr."""

    def _run(*args: str) -> Result:
        monkeypatch.setattr(sys, "argv", ["samplescope", *args])
        code = 0
        try:
            main()
        except SystemExit as exc:
            code = int(exc.code or 0)
        out = capsys.readouterr()
        return Result(code, out.out, out.err)

    return _run


def _npz(path, n: int, seed: int, sharpen: float) -> None:
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 4)) * 2
    p = np.exp(log_softmax(z, 1))
    y = np.minimum((rng.random(n)[:, None] > np.cumsum(p, 1)).sum(1), 3)
    np.savez(path, logits=z * sharpen, labels=y)


def test_calibrate_from_logits(tmp_path, run) -> None:
    _npz(tmp_path / "val.npz", 3000, 0, 3.0)
    _npz(tmp_path / "test.npz", 3000, 1, 3.0)
    out = tmp_path / "cal"
    r = run(
        "calibrate",
        "--logits",
        str(tmp_path / "val.npz"),
        "--test",
        str(tmp_path / "test.npz"),
        "--out",
        str(out),
    )
    assert r.returncode == 0, r.stderr
    for key in ("NLL", "ECE %", "smECE %", "Brier", "AUROC", "AURC"):
        assert key in r.stdout
    s = json.loads((out / "summary.json").read_text())
    rows = {row["method"]: row for row in s["rows"]}
    assert list(rows)[0] == "identity" and {"ts", "ets", "dirichlet", "isotonic"} <= set(rows)
    ts, ident = rows["ts"], rows["identity"]  # 3x over-confident logits: scaling must help
    assert ts["fitted"] and ts["ece"][0] < ident["ece"][0] and ts["nll"][0] < ident["nll"][0]
    assert ts["accuracy"][0] == ident["accuracy"][0] and ts["argmax_changed"] == 0
    lo, hi = ts["nll"][1], ts["nll"][2]
    assert lo <= ts["nll"][0] <= hi  # the bootstrap interval brackets the value
    assert s["chosen"] in rows and (out / "reliability.png").stat().st_size > 1000


def test_calibrate_bad_input(tmp_path, run) -> None:
    r = run("calibrate", "--logits", str(tmp_path / "missing.npz"), "--test", "x.npz")
    assert r.returncode == 2 and "error: --logits" in r.stderr
    r = run("calibrate")
    assert r.returncode == 2 and "exactly one" in r.stderr
    np.savez(tmp_path / "bad.npz", logit=np.zeros((3, 2)), labels=np.zeros(3))
    r = run("calibrate", "--logits", str(tmp_path / "bad.npz"), "--test", str(tmp_path / "bad.npz"))
    assert r.returncode == 2 and "'logits'" in r.stderr


def test_uncertainty_mc_dropout_digits(tmp_path, run) -> None:
    out = tmp_path / "u"
    r = run(
        "uncertainty",
        "--data",
        "digits",
        "--samples",
        "5",
        "--epochs",
        "3",
        "--out",
        str(out),
        "--format",
        "csv",
        "--quiet",
    )
    assert r.returncode == 0, r.stderr
    df = pd.read_csv(out / "uncertainty.csv")
    assert len(df) == 450
    cols = {"predictive_entropy", "expected_entropy", "mutual_information", "predictive_variance"}
    assert {"sample_id", "label"} | cols <= set(df.columns)
    assert not {"total", "aleatoric", "epistemic"} & set(df.columns)  # old names are gone
    np.testing.assert_allclose(
        df.expected_entropy + df.mutual_information, df.predictive_entropy, atol=1e-9
    )
    assert (df.mutual_information >= 0).all() and df.mutual_information.max() > 0
    r = run("uncertainty", "--data", "digits", "--method", "bayes", "--out", str(out))
    assert r.returncode == 2 and "--method" in r.stderr


def test_calibrate_trains_or_loads_a_model(tmp_path, run) -> None:
    import torch

    from samplescope.data import load_dataset
    from samplescope.models import build_model, model_spec, save_model

    out = tmp_path / "cal"
    r = run("calibrate", "--data", "digits", "--epochs", "2", "--out", str(out), "--quiet",
            "--method", "ts", "--n-boot", "20")  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "identity" in r.stdout and (out / "reliability.png").exists()
    assert "warning: the calibrators are fitted on only 135 validation samples" in r.stderr
    r = run("calibrate", "--data", "digits", "--method", "ts,nope")
    assert r.returncode == 2 and "--method" in r.stderr
    ds = load_dataset("digits")
    # an untrained CNN: near-uniform outputs; its file carries the architecture, so no --model
    arch = model_spec("cnn", ds.input_shape, ds.num_classes)
    save_model(build_model(arch), tmp_path / "m.pt", arch)
    r = run("calibrate", "--data", "digits", "--model-path", str(tmp_path / "m.pt"), "--out",
            str(out), "--method", "ts", "--n-boot", "20")  # fmt: skip
    assert r.returncode == 0, r.stderr
    s = json.loads((out / "summary.json").read_text())
    assert "cnn loaded" in s["source"]
    assert s["rows"][0]["accuracy"][0] == s["rows"][1]["accuracy"][0]
    # a bare state dict (no architecture) is refused with the flag named, not a size-mismatch dump
    torch.save(build_model(arch).state_dict(), tmp_path / "raw.pt")
    r = run("calibrate", "--data", "digits", "--model-path", str(tmp_path / "raw.pt"))
    assert r.returncode == 2 and "--model-path" in r.stderr and "architecture" in r.stderr
    assert "Traceback" not in r.stderr


def test_uncertainty_ensemble_and_tta(tmp_path, run) -> None:
    for method, samples in (("ensemble", "2"), ("tta", "3")):
        out = tmp_path / method
        r = run(
            "uncertainty",
            "--data",
            "digits",
            "--method",
            method,
            "--samples",
            samples,
            "--epochs",
            "1",
            "--out",
            str(out),
            "--format",
            "csv",
            "--quiet",
        )
        assert r.returncode == 0, r.stderr
        assert f"S = {samples}" in r.stdout
        df = pd.read_csv(out / "uncertainty.csv")
        assert len(df) == 450 and (df.mutual_information >= 0).all()
