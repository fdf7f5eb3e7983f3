"""MC-dropout inference speed: samplescope vs a naive loop vs Baal, in one run.

T stochastic passes of Gal et al.'s MNIST CNN (``samplescope.models.gal_cnn``) over MNIST
test images:

- **ours**: ``predict_stochastic(model, x, "mc_dropout", samples=T)`` — the conv prefix
  before the first dropout runs once per chunk, the dense rest runs T times batched, with
  byte-RNG dropout masks;
- **naive**: ``for t in range(T): for batch: softmax(model(batch))`` with the dropout
  modules in training mode (the textbook loop, e.g. Gal's lecture code);
- **baal**: ``MCDropoutModule(model)`` + ``ModelWrapper.predict_on_dataset(dataset,
  iterations=T)`` (Baal 2.x; replicates each batch T times in memory and runs the whole
  network on it), softmax applied afterwards.

Throughput is in image-passes per second (images × T / seconds). By default ours runs
on all 10 000 test images, and the three methods also run on the same first
``--baseline-n`` images (the baselines cost ~10x more; their per-image cost does not
depend on N), so the ratios compare equal work in the same process.

Equivalence: (a) ours equals a naive loop that multiplies by the same dropout masks
(max |Δp| printed); (b) against Baal and the naive loop (torch's RNG, so different masks)
the predictive distributions agree up to Monte-Carlo noise: the mean |Δp̄| between methods
is compared with the noise floor between two seeds of ours, plus argmax agreement and the
Spearman correlation of BALD.

Usage: ``python benchmarks/mc_dropout.py [--samples 100] [--n 10000] [--baseline-n 1000]``.
Budget: ~2-6 CPU-minutes single-threaded at the defaults. Writes
``benchmarks/results/mc_dropout.json``.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch
from scipy.stats import spearmanr
from torch import nn

from samplescope.data import load_dataset
from samplescope.io import atomic_write_json
from samplescope.models import gal_cnn, split_at_first_dropout
from samplescope.training import fit
from samplescope.uncertainty import mutual_information, predict_stochastic
from samplescope.uncertainty.masks import MASK_BLOCK, MaskSource

RESULTS = Path(__file__).resolve().parent / "results" / "mc_dropout.json"


def naive_loop(model: nn.Module, x: np.ndarray, samples: int, batch_size: int) -> np.ndarray:
    model.eval()
    for m in model.modules():
        if isinstance(m, nn.modules.dropout._DropoutNd):
            m.train()
    xt = torch.as_tensor(x)
    out = np.empty((samples, len(x), 10), dtype=np.float32)
    with torch.no_grad():
        for s in range(samples):
            for lo in range(0, len(x), batch_size):
                out[s, lo : lo + batch_size] = torch.softmax(model(xt[lo : lo + batch_size]), -1)
    model.eval()
    return out


def naive_same_masks(model: nn.Sequential, x: np.ndarray, samples: int, seed: int) -> np.ndarray:
    """Full forward passes, one repeat at a time, multiplying by the masks ours draws."""
    prefix, rest = split_at_first_dropout(model)
    src = MaskSource(seed)
    n = len(x)
    out = []
    model.eval()
    with torch.no_grad():
        for s in range(samples):
            h = prefix(torch.as_tensor(x))
            for idx, layer in enumerate(rest):
                if isinstance(layer, nn.Dropout):
                    keep = 1 - layer.p
                    feat = tuple(h.shape[1:])
                    m = torch.cat(
                        [
                            src.mask(idx, keep, feat, s, s + 1, lo, min(n, lo + MASK_BLOCK))[0]
                            for lo in range(0, n, MASK_BLOCK)
                        ]
                    )
                    h = h * m / keep
                else:
                    h = layer(h)
            out.append(torch.softmax(h, -1).numpy())
    return np.stack(out)


def baal_predict(model: nn.Module, x: np.ndarray, samples: int, batch_size: int) -> np.ndarray:
    from baal.bayesian.dropout import MCDropoutModule
    from baal.modelwrapper import ModelWrapper, TrainingArgs

    wrapped = MCDropoutModule(model)
    args = TrainingArgs(batch_size=batch_size, use_cuda=False, workers=0, replicate_in_memory=True)
    wrapper = ModelWrapper(wrapped, args)
    ds = torch.utils.data.TensorDataset(torch.as_tensor(x), torch.zeros(len(x), dtype=torch.long))
    logits = wrapper.predict_on_dataset(ds, iterations=samples, verbose=False)  # (N, C, T)
    wrapped.unpatch() if hasattr(wrapped, "unpatch") else None
    p = torch.softmax(torch.as_tensor(logits), dim=1).numpy()
    return np.transpose(p, (2, 0, 1)).astype(np.float32)


def timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--samples", type=int, default=100, help="T passes")
    ap.add_argument("--n", type=int, default=10_000, help="test images for ours")
    ap.add_argument("--baseline-n", type=int, default=1000, help="images for all three methods")
    ap.add_argument("--batch-size", type=int, default=256, help="ours / naive batch size")
    ap.add_argument("--baal-batch-size", type=int, default=32, help="Baal batch (× T in memory)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--train-epochs", type=int, default=1, help="epochs on a 10k training subset")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    T = args.samples

    ds = load_dataset("mnist")
    torch.manual_seed(args.seed)
    model = gal_cnn(10, 1, 28)
    sub = ds.train.subset(np.arange(10_000))
    fit(model, sub, epochs=args.train_epochs, seed=args.seed, progress=False)
    model.eval()
    x_all = ds.test.x[: args.n]
    x_b = ds.test.x[: args.baseline_n]
    print(
        f"gal_cnn trained {args.train_epochs} epoch(s) on 10k MNIST; T = {T}; "
        f"torch threads {torch.get_num_threads()}"
    )

    rows = []

    def record(name: str, n: int, seconds: float) -> None:
        rows.append(
            {
                "method": name,
                "images": n,
                "passes": T,
                "seconds": seconds,
                "image_passes_per_s": n * T / seconds,
            }
        )
        print(f"  {name:<28} {n:>6} images  {seconds:9.2f} s  {n * T / seconds:12.0f} img-passes/s")

    # warm-up (allocations, lazy init)
    predict_stochastic(model, x_b[:64], samples=4)
    p_ours_b, t = timed(
        predict_stochastic, model, x_b, samples=T, batch_size=args.batch_size, seed=args.seed
    )
    record("ours", len(x_b), t)
    p_naive, t = timed(naive_loop, model, x_b, T, args.batch_size)
    record("naive loop", len(x_b), t)
    p_baal, t = timed(baal_predict, model, x_b, T, args.baal_batch_size)
    record("baal MCDropoutModule", len(x_b), t)
    if args.n > args.baseline_n:
        _, t = timed(
            predict_stochastic, model, x_all, samples=T, batch_size=args.batch_size, seed=args.seed
        )
        record("ours (full)", len(x_all), t)
    p_ours_b2 = predict_stochastic(
        model, x_b, samples=T, batch_size=args.batch_size, seed=args.seed + 1
    )

    thr = {r["method"]: r["image_passes_per_s"] for r in rows}
    ratios = {
        "ours_vs_naive": thr["ours"] / thr["naive loop"],
        "ours_vs_baal": thr["ours"] / thr["baal MCDropoutModule"],
        "naive_vs_baal": thr["naive loop"] / thr["baal MCDropoutModule"],
    }
    if "ours (full)" in thr:
        ratios["ours_full_vs_baal"] = thr["ours (full)"] / thr["baal MCDropoutModule"]
        ratios["projected_baal_seconds_full_n"] = args.n * T / thr["baal MCDropoutModule"]

    # (a) exact equality with a naive loop using the same masks
    n_eq = min(256, len(x_b))
    ref = naive_same_masks(model, x_b[:n_eq], T, args.seed)
    exact = float(np.abs(ref - p_ours_b[:, :n_eq]).max())

    # (b) same distribution as Baal / the naive loop, up to Monte-Carlo noise
    def compare(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
        ma, mb = a.mean(0), b.mean(0)
        return {
            "mean_abs_diff_mean_probs": float(np.abs(ma - mb).mean()),
            "argmax_agreement": float((ma.argmax(1) == mb.argmax(1)).mean()),
            "bald_spearman": float(spearmanr(mutual_information(a), mutual_information(b))[0]),
        }

    equivalence = {
        "ours_vs_naive_same_masks_max_abs_diff": exact,
        "images_checked_exactly": n_eq,
        "ours_seed_vs_seed_noise_floor": compare(p_ours_b, p_ours_b2),
        "ours_vs_baal": compare(p_ours_b, p_baal),
        "ours_vs_naive_torch_rng": compare(p_ours_b, p_naive),
        "baal_vs_naive_torch_rng": compare(p_baal, p_naive),
    }
    print("\nratios (throughput, same images, same process):")
    for k, v in ratios.items():
        print(f"  {k:<32} {v:10.2f}")
    print(
        f"\n(a) ours vs naive loop with the same masks: max |Δp| = {exact:.2e} "
        f"over {n_eq} images × {T} passes"
    )
    print("(b) distribution agreement (mean |Δ p̄|, argmax agreement, Spearman of BALD):")
    for k in (
        "ours_seed_vs_seed_noise_floor",
        "ours_vs_baal",
        "ours_vs_naive_torch_rng",
        "baal_vs_naive_torch_rng",
    ):
        c = equivalence[k]
        print(
            f"  {k:<32} {c['mean_abs_diff_mean_probs']:.2e}  {c['argmax_agreement']:.4f}  "
            f"{c['bald_spearman']:.3f}"
        )
    import baal

    atomic_write_json(
        RESULTS,
        {
            "config": vars(args)
            | {
                "cpu": platform.processor() or platform.machine(),
                "cpu_count": os.cpu_count(),
                "torch": torch.__version__,
                "baal": getattr(baal, "__version__", "unknown"),
                "python": sys.version.split()[0],
            },
            "rows": rows,
            "ratios": ratios,
            "equivalence": equivalence,
        },
    )
    print(f"\nwrote {RESULTS}")


if __name__ == "__main__":
    main()
