"""Temperature scaling and histogram binning: ours vs netcal 1.4 on the same logits.

Workloads (same inputs for both, one torch thread, best of ``reps`` alternated runs):

- ``synthetic``: 5 000 validation / 10 000 test logits of a 10-class model that is 2.5x too
  confident (labels drawn from ``softmax(z / 2.5)``, so the right temperature is 2.5);
- ``digits``: an MLP 64-64 trained 60 epochs on 900 digits images, validation 447, test 450
  (its logits are trained here in a few seconds).

Per workload, temperature scaling: our ``TemperatureScaling`` (L-BFGS on ``log T`` from the
logits) vs netcal ``TemperatureScaling(method="mle")`` (scipy on ``w = 1/T`` from the softmax
probabilities), with netcal given the probabilities in float64 and in float32 (what a torch
model hands over). netcal issue #61 reports a temperature that leaves ECE unchanged; the
float32 row shows whether it happens here. Reported: the fitted temperature, the test ECE
(15 bins) after scaling, and the fit time. Histogram binning (10 equal-width bins,
one-vs-rest, renormalised): ours vs netcal ``HistogramBinning`` on float64 probabilities,
the largest difference of the calibrated probabilities, test ECE and fit time.

Columns: ``ours_s`` / ``baseline_s`` seconds, ``ratio`` = netcal / ours (> 1: ours faster) as
everywhere in ``benchmarks/``, plus ``ours_over_netcal`` (= 1 / ratio); ``load`` is the
1-minute load average when the row was measured: another process may be running on this
machine, so the times are indicative. A netcal fit that stops at its starting point (the
float32 rows) is fast because it does nothing.

Run: ``python benchmarks/calibration_vs_netcal.py [--quick]``.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path
from typing import Any

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one BLAS thread for both sides (torch: one thread too)

import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
from _common import best_of, row, standalone, warmup  # noqa: E402

from samplescope.functional import softmax  # noqa: E402
from samplescope.metrics import ece  # noqa: E402
from samplescope.uncertainty import HistogramBinning, TemperatureScaling  # noqa: E402


def _synthetic(n_val: int, n_test: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    z = rng.normal(size=(n_val + n_test, 10)) * 2.0
    p = softmax(z, axis=1)
    y = np.minimum((rng.random(len(z))[:, None] > np.cumsum(p, 1)).sum(1), 9)
    z = 2.5 * z
    return {"zv": z[:n_val], "yv": y[:n_val], "zt": z[n_val:], "yt": y[n_val:]}


def _digits() -> dict[str, np.ndarray]:
    import torch

    from samplescope.data import load_dataset
    from samplescope.models import mlp
    from samplescope.training import fit, predict_logits

    ds = load_dataset("digits")
    perm = np.random.default_rng(0).permutation(len(ds.train))
    tr, va = perm[:900], perm[900:]
    torch.manual_seed(0)
    net = mlp(ds.input_shape, 10, hidden=(64, 64))
    x, y = ds.train.x, ds.train.y
    fit(net, (x[tr], y[tr]), epochs=60, lr=1e-3, batch_size=64, seed=0, progress=False)
    return {
        "zv": predict_logits(net, x[va]).astype(np.float64),
        "yv": y[va],
        "zt": predict_logits(net, ds.test.x).astype(np.float64),
        "yt": ds.test.y,
    }


def _ts_rows(name: str, d: dict[str, np.ndarray], reps: int) -> list[dict[str, Any]]:
    from netcal.scaling import TemperatureScaling as NetcalTS

    pv, pt = softmax(d["zv"], axis=1), softmax(d["zt"], axis=1)
    ece_before = ece(pt, d["yt"])

    def ours() -> TemperatureScaling:
        return TemperatureScaling().fit(logits=d["zv"], labels=d["yv"])

    rows = []
    for dtype in (np.float64, np.float32):

        def theirs(dt: Any = dtype) -> Any:
            m = NetcalTS(method="mle")
            m.fit(pv.astype(dt), d["yv"])
            return m

        secs, outs = best_of({"ours": ours, "netcal": theirs}, reps)
        t_ours = outs["ours"].temperature_
        w = float(np.ravel(outs["netcal"].weights)[0])
        q_net = np.asarray(outs["netcal"].transform(pt.astype(dtype)), dtype=np.float64)
        q_net = q_net / q_net.sum(1, keepdims=True)
        e_ours = ece(outs["ours"].predict_proba(logits=d["zt"]), d["yt"])
        e_net = ece(q_net, d["yt"])
        unchanged = abs(e_net - ece_before) < 1e-6
        rows.append(
            row(
                f"TS fit, {name} (netcal on {np.dtype(dtype).name} probs)",
                "TemperatureScaling (L-BFGS, log T)",
                secs["ours"],
                f"netcal TemperatureScaling(method='mle'), {np.dtype(dtype).name}",
                secs["netcal"],
                note=(
                    f"T ours {t_ours:.4f} / netcal {1 / w:.4f}; test ECE before {100 * ece_before:.2f}% "
                    f"-> ours {100 * e_ours:.2f}% / netcal {100 * e_net:.2f}%"
                    + ("; netcal left ECE unchanged (issue #61)" if unchanged else "")
                ),
                ours_over_netcal=secs["ours"] / secs["netcal"],
                temperature_ours=t_ours,
                temperature_netcal=1 / w,
                ece_before=ece_before,
                ece_ours=e_ours,
                ece_netcal=e_net,
                netcal_ece_unchanged=unchanged,
                n_val=len(d["yv"]),
                n_test=len(d["yt"]),
            )
        )
    return rows


def _hb_row(name: str, d: dict[str, np.ndarray], reps: int) -> dict[str, Any]:
    from netcal.binning import HistogramBinning as NetcalHB

    pv, pt = softmax(d["zv"], axis=1), softmax(d["zt"], axis=1)

    def ours() -> HistogramBinning:
        return HistogramBinning(n_bins=10).fit(probs=pv, labels=d["yv"])

    def theirs() -> Any:
        m = NetcalHB(bins=10)
        m.fit(pv, d["yv"])
        return m

    secs, outs = best_of({"ours": ours, "netcal": theirs}, reps)
    q_ours = outs["ours"].predict_proba(probs=pt)
    q_net = np.asarray(outs["netcal"].transform(pt), dtype=np.float64)
    diff = float(np.abs(q_ours - q_net).max())
    e_ours, e_net = ece(q_ours, d["yt"]), ece(q_net / q_net.sum(1, keepdims=True), d["yt"])
    return row(
        f"histogram binning fit, {name}",
        "HistogramBinning(n_bins=10)",
        secs["ours"],
        "netcal HistogramBinning(bins=10), float64",
        secs["netcal"],
        note=(
            f"max |q_ours - q_netcal| = {diff:.2e}; test ECE ours {100 * e_ours:.2f}% / "
            f"netcal {100 * e_net:.2f}%"
        ),
        ours_over_netcal=secs["ours"] / secs["netcal"],
        max_abs_diff=diff,
        ece_ours=e_ours,
        ece_netcal=e_net,
    )


def run(quick: bool) -> list[dict[str, Any]]:
    warnings.filterwarnings("ignore")  # netcal / pyro chatter
    warmup()
    reps = 2 if quick else 5
    data = {
        "synthetic": _synthetic(2000, 4000) if quick else _synthetic(5000, 10000),
        "digits": _digits(),
    }
    rows: list[dict[str, Any]] = []
    for name, d in data.items():
        rows += _ts_rows(name, d, reps)
        rows.append(_hb_row(name, d, reps))
    print(f"1-minute load average at the end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    return rows


if __name__ == "__main__":
    standalone("calibration_vs_netcal", run)
