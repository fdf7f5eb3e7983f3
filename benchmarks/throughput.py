"""Scorer throughput: MC dropout (issue 5) vs a naive loop and Baal, the plain forward pass,
a float32 matmul ceiling measured in the same run, and per-sample gradient norms (issue 3)
vs a per-sample loop and torch.func ``vmap(grad)``.

MC dropout: Gal et al.'s MNIST CNN (``gal_cnn``), T = 20 passes, MNIST test images, one
torch thread. Ours is ``samplescope.uncertainty.predict_stochastic`` (conv prefix once per
chunk, dense rest T times batched, cheap masks); the naive loop and the Baal call are the
implementations of issue 5's ``benchmarks/mc_dropout.py`` (imported, not copied). Images/s
count images (each with T passes). The ceiling: measured single-thread fp32 GEMM FLOP/s
divided by the model's multiply-add FLOPs per image (conv as GEMM): prefix 16.5 MFLOP +
T × 0.99 MFLOP for MC dropout, 17.5 MFLOP for one forward pass.

Gradient norms: MLP 784-128-10 on MNIST, ``per_sample_grad_norms(method=...)``.
"""

from __future__ import annotations

import time

import numpy as np
import torch
from _common import ROOT, best_of, row, standalone, warmup


def gemm_gflops(n: int = 1024, seconds: float = 1.0) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(2):
        a @ b
    reps, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        a @ b
        reps += 1
    return 2 * n**3 * reps / (time.perf_counter() - t0) / 1e9


def gal_cnn_flops(image: int = 28) -> tuple[float, float]:
    """(prefix FLOPs, rest FLOPs) per image of ``gal_cnn`` (2 × multiply-adds)."""
    s1 = image - 3
    s2 = s1 - 3
    conv1 = 2 * s1 * s1 * 32 * (1 * 16)
    conv2 = 2 * s2 * s2 * 32 * (32 * 16)
    flat = 32 * (s2 // 2) ** 2
    rest = 2 * flat * 128 + 2 * 128 * 10
    return float(conv1 + conv2), float(rest)


def _mc_rows(quick: bool) -> list[dict]:
    import sys

    sys.path.insert(0, str(ROOT))
    from mc_dropout import baal_predict, naive_loop  # issue 5's baselines

    from samplescope.data import load_dataset
    from samplescope.models import gal_cnn
    from samplescope.uncertainty import predict_stochastic

    T = 20
    n = 1000 if quick else 4000
    x = load_dataset("mnist").test.x[:n]
    torch.manual_seed(0)
    model = gal_cnn(10, 1, 28).eval()
    predict_stochastic(model, x[:64], samples=4)  # warm-up

    def ours():
        return predict_stochastic(model, x, samples=T, batch_size=256, seed=0)

    def naive():
        return naive_loop(model, x, T, 256)

    def baal():
        return baal_predict(model, x, T, 32)

    def forward():
        with torch.no_grad():
            xt = torch.as_tensor(x)
            return [model(xt[lo : lo + 256]) for lo in range(0, n, 256)]

    reps = 1 if quick else 2
    best, _ = best_of({"ours": ours, "naive": naive, "forward": forward}, reps)
    best_b, _ = best_of({"baal": baal}, 1)
    gflops = gemm_gflops()
    pre, rest = gal_cnn_flops()
    ceil_mc = gflops * 1e9 / (pre + T * rest)
    ceil_fwd = gflops * 1e9 / (pre + rest)
    ips = {k: n / v for k, v in {**best, **best_b}.items()}
    common = (
        f"ours {ips['ours']:.0f} img/s | plain forward {ips['forward']:.0f} img/s | "
        f"fp32 GEMM {gflops:.0f} GFLOP/s -> ceiling {ceil_mc:.0f} img/s (MC) / "
        f"{ceil_fwd:.0f} img/s (forward)"
    )
    return [
        row(
            f"MC dropout gal_cnn T={T}, {n} MNIST images",
            "predict_stochastic",
            best["ours"],
            "naive loop (T full passes)",
            best["naive"],
            target=">= 1000 img/s",
            note=common,
            images_per_s=ips,
            gemm_gflops=gflops,
            ceiling_images_per_s={"mc": ceil_mc, "forward": ceil_fwd},
        ),
        row(
            f"MC dropout gal_cnn T={T}, {n} MNIST images",
            "predict_stochastic",
            best["ours"],
            "Baal MCDropoutModule.predict_on_dataset",
            best_b["baal"],
            note=f"baal {ips['baal']:.0f} img/s; naive {ips['naive']:.0f} img/s",
        ),
    ]


def _grad_rows(quick: bool) -> list[dict]:
    from samplescope.data import load_dataset
    from samplescope.difficulty import per_sample_grad_norms
    from samplescope.models import mlp

    n = 256 if quick else 1024
    s = load_dataset("mnist").train.subset(np.arange(n))
    torch.manual_seed(0)
    model = mlp((1, 28, 28), 10, hidden=(128,))
    fns = {
        m: (lambda m=m: per_sample_grad_norms(model, s, method=m, batch_size=256))
        for m in ("ghost", "vmap", "loop")
    }
    best, outs = best_of(fns, 1 if quick else 2)
    rel = {
        m: float(np.max(np.abs(outs[m] - outs["loop"]) / np.maximum(outs["loop"], 1e-12)))
        for m in ("ghost", "vmap")
    }
    out = []
    for base, label in (("loop", "per-sample loop"), ("vmap", "torch.func vmap(grad)")):
        out.append(
            row(
                f"per-sample grad norms, MLP 784-128-10, {n} samples",
                "per_sample_grad_norms ghost",
                best["ghost"],
                label,
                best[base],
                target=">= 20x",
                note=f"max rel diff vs loop: ghost {rel['ghost']:.1e}, vmap {rel['vmap']:.1e}",
            )
        )
    return out


def run(quick: bool) -> list[dict]:
    warmup()
    return _mc_rows(quick) + _grad_rows(quick)


if __name__ == "__main__":
    standalone("throughput", run)
