"""One BALD acquisition step, samplescope vs Baal: same model, same pool subset, T = 20.

The step timed is what differs between the libraries: MC-dropout predictions of the
2000-image pool subset (T = 20) + BALD + choosing the top 10. The model is Gal's CNN with
the same weights in both (trained briefly on 20 balanced MNIST labels). samplescope runs
the deterministic prefix before the first dropout once and only the stochastic rest T
times; Baal (MCDropoutModule + ModelWrapper.predict_on_dataset + heuristics.BALD) runs
the whole network T times. Baal is timed at batch sizes 32 (its default) and 128 and its
best time is used; both are timed alternately, ``--repeats`` times, the minimum is kept.
Also checked: both pick nearly the same top-10 (the MC noise differs, so overlap < 10 is
expected) and the BALD scores correlate.

``--curves`` measures the other half: labels to 95% test accuracy over ``--seeds`` full
active-learning runs per library, BALD, T = 20, the same Gal CNN, the same initial 20
labels per seed, 2000-image pool subsets, 10 labels per step, retrain from scratch each
step with Gal's protocol (50 epochs, batch 128, Adam 1e-3, L2 3.5/N on the dense layer),
MC-dropout accuracy on the full MNIST test set. samplescope runs :class:`ActiveLoop`; Baal
runs its own ``ActiveLearningDataset`` + ``ActiveLearningLoop(max_sample=2000)`` +
``ModelWrapper`` (its DataLoader, its MC dropout of the whole net, its BALD). Every run
checkpoints after every step (``--out``, default ``benchmarks/results/active_vs_baal_runs``)
and resumes. Each run is a full curve (~22k Adam updates): meant for a GPU
(``--device cuda``) with the runs over processes (``--executor process --workers 6``).

    nice -n 10 env OMP_NUM_THREADS=1 python benchmarks/active_vs_baal.py
    python benchmarks/active_vs_baal.py --curves --device cuda --executor process --workers 6
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from samplescope.active import (
    ActiveLoop,
    MCDropoutLearner,
    balanced_random_initial_set,
    bald,
    mc_probs,
    top_k,
)
from samplescope.data import load_dataset
from samplescope.io import atomic_write_json
from samplescope.models import gal_cnn

OUT = Path(__file__).parent / "results" / "active_vs_baal.json"
CURVES_OUT = Path(__file__).parent / "results" / "active_vs_baal_curves.json"
RUNS = Path(__file__).parent / "results" / "active_vs_baal_runs"
GAL = {"epochs": 50, "batch_size": 128, "lr": 1e-3, "dense_l2": 3.5, "T": 20}


def ours(model, x, t, seed, device="cpu"):
    p = mc_probs(model, x, samples=t, seed=seed, batch_size=1024, device=device)
    s = bald(p)
    return top_k(s, 10), s


def baal_step(model, x, t, batch_size, device="cpu"):
    from baal.active.heuristics import BALD
    from baal.bayesian.dropout import MCDropoutModule
    from baal.modelwrapper import ModelWrapper, TrainingArgs

    wrapped = MCDropoutModule(model)
    mw = ModelWrapper(
        wrapped,
        TrainingArgs(
            batch_size=batch_size,
            use_cuda=device.startswith("cuda"),
            workers=0,
            criterion=torch.nn.CrossEntropyLoss(),
        ),
    )
    ds = torch.utils.data.TensorDataset(torch.as_tensor(x), torch.zeros(len(x), dtype=torch.long))
    preds = mw.predict_on_dataset(ds, iterations=t, verbose=False)  # (N, C, T) logits
    h = BALD()
    scores = h.get_uncertainties(preds)
    ranks = np.argsort(-scores, kind="stable")[:10]
    wrapped.unpatch() if hasattr(wrapped, "unpatch") else None
    return ranks, scores


# --- labels to 95% accuracy: full curves, ours vs Baal ------------------------------------


def _learner(device: str) -> MCDropoutLearner:
    return MCDropoutLearner.gal_protocol(device=device)  # = GAL


def _loop_kw(steps: int) -> dict:
    return {"initial": 20, "per_step": 10, "steps": steps, "pool_subset": 2000}


def ours_curve(train, test, out: str, device: str, steps: int, seed: int) -> list[dict]:
    run = Path(out) / "runs" / f"samplescope_r{seed}"
    run.mkdir(parents=True, exist_ok=True)
    atomic_write_json(
        run / "spec.json",
        {"label": "samplescope", "acquisition": "bald", "repeat": seed, "initial": 20},
    )
    loop = ActiveLoop(
        _learner(device),
        train,
        test,
        acquisition="bald",
        checkpoint_dir=run,
        seed=seed,
        **_loop_kw(steps),
    )
    return loop.run(resume=True)


def _baal_optimizer(model: torch.nn.Module, n: int) -> torch.optim.Optimizer:
    # the same optimizer as ours: Adam, Gal's L2 (c/N)·Σw² on the dense layer's weight
    return MCDropoutLearner(gal_cnn, lr=GAL["lr"], dense_l2=GAL["dense_l2"])._optimizer(model, n)(
        model.parameters()
    )


def _quiet_baal() -> None:
    import logging

    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))


def baal_curve(train, test, out: str, device: str, steps: int, seed: int) -> list[dict]:
    """Baal's own loop; checkpoint = labelled dataset positions + history (JSON, atomic)."""
    import json

    from baal.active import ActiveLearningDataset
    from baal.active.active_loop import ActiveLearningLoop
    from baal.active.heuristics import BALD
    from baal.bayesian.dropout import MCDropoutModule
    from baal.modelwrapper import ModelWrapper, TrainingArgs

    from samplescope.active.loop import _seed

    _quiet_baal()
    run = Path(out) / "runs" / f"baal_r{seed}"
    run.mkdir(parents=True, exist_ok=True)
    ckpt = run / "baal_state.json"
    full = torch.utils.data.TensorDataset(torch.as_tensor(train.x), torch.as_tensor(train.y))
    test_ds = torch.utils.data.TensorDataset(torch.as_tensor(test.x), torch.as_tensor(test.y))
    al = ActiveLearningDataset(full)
    if ckpt.exists():
        state = json.loads(ckpt.read_text())
    else:
        # the same class-balanced initial 20 as ActiveLoop draws for this seed
        init = ActiveLoop(
            _learner("cpu"), train, test, seed=seed, **_loop_kw(steps)
        )._initial_pool()
        state = {"labelled": train.positions(init.labelled_ids).tolist(), "history": [], "step": 0}
    al.label(state["labelled"])  # the pool is the whole set here: pool index = dataset index
    history = state["history"]
    use_cuda = device.startswith("cuda")
    for t in range(state["step"], steps + 1):
        t0 = time.perf_counter()
        torch.manual_seed(_seed(seed, t, 2) % 2**31)
        np.random.seed(_seed(seed, t, 4) % 2**31)  # Baal draws its pool subset from np.random
        model = MCDropoutModule(gal_cnn())
        if use_cuda:
            model = model.cuda()
        args = TrainingArgs(
            optimizer=_baal_optimizer(model, len(al)),
            batch_size=GAL["batch_size"],
            epoch=GAL["epochs"],
            use_cuda=use_cuda,
            workers=0,
            criterion=torch.nn.CrossEntropyLoss(),
        )
        wrapper = ModelWrapper(model, args)
        wrapper.train_on_dataset(al)
        logits = wrapper.predict_on_dataset(test_ds, iterations=GAL["T"], verbose=False)
        z = torch.as_tensor(logits).float()  # (N, C, T)
        acc = float((torch.softmax(z, 1).mean(-1).argmax(1).numpy() == test.y).mean())
        rec = {"step": t, "n_labelled": len(al), "accuracy": acc}
        if t < steps:
            loop = ActiveLearningLoop(
                al,
                wrapper.predict_on_dataset,
                heuristic=BALD(),
                query_size=10,
                max_sample=2000,
                iterations=GAL["T"],
                verbose=False,
            )
            loop.step()
        rec["step_s"] = round(time.perf_counter() - t0, 3)
        history.append(rec)
        state = {
            "labelled": np.flatnonzero(al.labelled).tolist(),
            "history": history,
            "step": t + 1,
        }
        atomic_write_json(ckpt, state)
    return history


def _curve_task(train, test, out, device, steps, lib, seed):
    fn = ours_curve if lib == "samplescope" else baal_curve
    return fn(train, test, out, device, steps, seed)


def labels_to_accuracy(history: list[dict], target: float, initial: int = 20) -> float:
    hit = [r["n_labelled"] - initial for r in history if r["accuracy"] >= target]
    return float(min(hit)) if hit else float("nan")


def curves_main(args) -> None:
    from samplescope.executors import run_tasks

    ds = load_dataset("mnist")
    train, test = ds.train, ds.test
    if args.test_subset:
        test = test.subset(np.arange(args.test_subset))
    libs = ["samplescope", "baal"]
    tasks = [(lib, s) for s in range(args.seeds) for lib in libs]
    t0 = time.time()
    hist = run_tasks(
        _curve_task,
        tasks,
        args.executor,
        workers=args.workers,
        common=(train, test, str(args.out), args.device, args.steps),
    )
    rows = []
    print(
        f"labels acquired (after the initial 20) to reach {args.target:.0%} test accuracy, BALD T=20"
    )
    print(
        f"{'library':12s} "
        + " ".join(f"{'seed ' + str(s):>7s}" for s in range(args.seeds))
        + f" {'mean':>7s} {'acc@last':>9s} {'s/step':>7s}"
    )
    for lib in libs:
        hs = [h for (lb, _), h in zip(tasks, hist, strict=True) if lb == lib]
        per_seed = [labels_to_accuracy(h, args.target) for h in hs]
        acc_last = float(np.mean([h[-1]["accuracy"] for h in hs]))
        step_s = float(np.mean([r["step_s"] for h in hs for r in h]))
        mean = float(np.mean(per_seed)) if not any(np.isnan(per_seed)) else float("nan")
        print(
            f"{lib:12s} "
            + " ".join(f"{v:7.0f}" for v in per_seed)
            + f" {mean:7.1f} {acc_last:9.4f} {step_s:7.2f}"
        )
        rows.append(
            {
                "library": lib,
                "labels_to_target": per_seed,
                "mean": mean,
                "acc_at_last": acc_last,
                "mean_step_s": step_s,
            }
        )
    ratio = rows[0]["mean"] / rows[1]["mean"]
    print(f"ours / Baal labels to {args.target:.0%}: {ratio:.3f} (target ≤ 1: equal or better)")
    atomic_write_json(
        CURVES_OUT if args.out == RUNS else args.out / "curves.json",
        {
            "rows": rows,
            "ratio_labels_ours_over_baal": ratio,
            "target_accuracy": args.target,
            "steps": args.steps,
            "seeds": args.seeds,
            "device": args.device,
            "test_size": len(test),
            "settings": GAL,
            "wall_s": round(time.time() - t0, 1),
        },
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--subset", type=int, default=2000)
    ap.add_argument("--mc-samples", type=int, default=20)
    ap.add_argument("--curves", action="store_true", help="labels to 95%% accuracy, ours vs Baal")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--target", type=float, default=0.95)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--executor", default=None)
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--test-subset", type=int, default=0, help="0 = the full test set")
    ap.add_argument("--out", type=Path, default=RUNS)
    ap.add_argument("--fit-n", type=int, default=0, help="also time retraining on N labels")
    args = ap.parse_args()
    torch.set_num_threads(1)
    if args.curves:
        curves_main(args)
        return
    ds = load_dataset("mnist")
    init = balanced_random_initial_set(ds.train.sample_id, ds.train.y, 2, seed=0)
    learner = MCDropoutLearner(gal_cnn, updates=50, mc_samples=args.mc_samples, device=args.device)
    learner.fit(ds.train.subset(ds.train.positions(init)), seed=0)
    model = learner.model_
    rng = np.random.default_rng(0)
    x = ds.train.x[rng.choice(len(ds.train), args.subset, replace=False)]
    t_ours, t_baal = [], {32: [], 128: []}
    picks = {}
    for r in range(args.repeats):
        t0 = time.perf_counter()
        picks["ours"] = ours(model, x, args.mc_samples, seed=r, device=args.device)
        t_ours.append(time.perf_counter() - t0)
        for bs in t_baal:
            import copy

            m = copy.deepcopy(model)
            t0 = time.perf_counter()
            picks[f"baal{bs}"] = baal_step(m, x, args.mc_samples, bs, args.device)
            t_baal[bs].append(time.perf_counter() - t0)
    best_bs = min(t_baal, key=lambda b: min(t_baal[b]))
    ours_s, baal_s = min(t_ours), min(t_baal[best_bs])
    overlap = len(set(picks["ours"][0].tolist()) & set(picks[f"baal{best_bs}"][0].tolist()))
    corr = float(np.corrcoef(picks["ours"][1], picks[f"baal{best_bs}"][1])[0, 1])
    row = {
        "task": f"BALD step: MC dropout T={args.mc_samples} on {args.subset} MNIST images + top-10",
        "device": args.device,
        "ours_s": round(ours_s, 3),
        "baal_s": round(baal_s, 3),
        "baal_batch_size": best_bs,
        "ratio_ours_over_baal": round(ours_s / baal_s, 3),
        "target_ratio": 0.5,
        "top10_overlap": overlap,
        "bald_score_correlation": round(corr, 3),
        "all_times_s": {"ours": t_ours, **{f"baal_bs{b}": v for b, v in t_baal.items()}},
        "threads": 1,
        "labels_to_95": "see active_vs_baal_curves.json (--curves)",
    }
    print(f"{'task':60s} {'ours (s)':>9s} {'baal (s)':>9s} {'ours/baal':>10s}")
    print(f"{row['task']:60s} {ours_s:9.3f} {baal_s:9.3f} {ours_s / baal_s:10.3f}")
    print(f"top-10 overlap {overlap}/10, BALD score correlation {corr:.3f} (different MC noise)")
    if args.fit_n:
        row["retrain"] = retrain_times(ds, args)
    atomic_write_json(
        OUT if args.device == "cpu" else OUT.with_name(f"active_vs_baal_{args.device}.json"), row
    )


def retrain_times(ds, args) -> dict:
    """The other half of a step: retraining from scratch on ``--fit-n`` labels (Gal's protocol)."""
    from baal.bayesian.dropout import MCDropoutModule
    from baal.modelwrapper import ModelWrapper, TrainingArgs

    _quiet_baal()
    pos = np.random.default_rng(1).choice(len(ds.train), args.fit_n, replace=False)
    lab = ds.train.subset(np.sort(pos))
    t_ours, t_baal = [], []
    for r in range(args.repeats):
        t0 = time.perf_counter()
        _learner(args.device).fit(lab, seed=r)
        t_ours.append(time.perf_counter() - t0)
        torch.manual_seed(r)
        model = MCDropoutModule(gal_cnn())
        if args.device.startswith("cuda"):
            model = model.cuda()
        wrapper = ModelWrapper(
            model,
            TrainingArgs(
                optimizer=_baal_optimizer(model, len(lab)),
                batch_size=GAL["batch_size"],
                epoch=GAL["epochs"],
                use_cuda=args.device.startswith("cuda"),
                workers=0,
                criterion=torch.nn.CrossEntropyLoss(),
            ),
        )
        ds_t = torch.utils.data.TensorDataset(torch.as_tensor(lab.x), torch.as_tensor(lab.y))
        t0 = time.perf_counter()
        wrapper.train_on_dataset(ds_t)
        t_baal.append(time.perf_counter() - t0)
    out = {"n": args.fit_n, "ours_s": min(t_ours), "baal_s": min(t_baal)}
    out["ratio_ours_over_baal"] = out["ours_s"] / out["baal_s"]
    print(
        f"{'retrain from scratch, ' + str(args.fit_n) + ' labels, 50 epochs':60s} "
        f"{out['ours_s']:9.3f} {out['baal_s']:9.3f} {out['ratio_ours_over_baal']:10.3f}"
    )
    return out


if __name__ == "__main__":
    main()
