"""Candidates for a one-run generalization-error estimator vs the 5 × 4 K-fold reference (issue 14).

Reference per setting: :func:`samplescope.difficulty.generalization_error` with 5 stratified
folds × 4 repeats (``gen_error``; ``gen_bias`` / ``gen_variance`` also reported as rows) of
the same model (MLP ``D-256-128-C``, the library's default MLP) and the same training
(Adam, lr 1e-3, batch 128, the setting's epochs), stacked path where it wins.

Candidates (higher = harder), each from the library where it exists:

- one plain run + one eval pass: ``loss`` (final in-sample cross-entropy), ``margin``
  (registry ``logits`` measures);
- one run with the batch-source dynamics recorder (:class:`TrainingDynamics`, as
  ``compute_measures`` attaches it): ``aum``, ``forgetting``, ``cartography_confidence``
  (``1 - mean_e p_e[y]``), ``cartography_variability``;
- one run with the eval-source recorder (:class:`ActionScore`, an eval pass over the training
  split at every epoch end): ``action_score`` (Σ_e loss_e, the cumulative sample loss),
  ``learning_time`` (first epoch after which the sample stays correctly classified, from the
  recorder's per-epoch correctness ``correct_``; never learned = E);
- one run with eval passes at the last 3 epoch ends only: ``ckpt_ens_loss``, the
  cross-entropy of the mean probabilities of those 3 checkpoints (a checkpoint ensemble);
- a short run of ``ceil(0.2 E)`` epochs: ``el2n_early`` = ``||softmax(z) - onehot(y)||_2``
  (Paul et al. 2021, EL2N, computed here in the benchmark, one seed);
- :func:`samplescope.training.crossfit` ``folds=2, repeats=1`` (the two half-data models
  trained stacked in one run: the same number of sample-gradient steps as one training):
  ``oof2_loss``; and ``folds=2, repeats=2``: ``gen_error_2x2`` (the decomposition's
  ``gen_error`` over the 2 repeats);
- ``rankavg_pair``: the mean of the ranks of two candidates; the pair is CHOSEN on the digits
  settings only (highest mean clean-sample Spearman over the digits settings that finished)
  and reported on the MNIST / Fashion-MNIST settings only;
- ``gen_error_fast`` (``--fast``): :func:`samplescope.difficulty.fast_generalization_error`,
  the library's one-run estimator (one stacked run of the 2 × 2 half-data models with the
  margin recorder: rank mean of the held-out loss and the in-sample -AUM), with its parts
  ``gen_error_fast:heldout`` / ``gen_error_fast:aum`` as diagnostic rows. Its weight
  ``FAST_AUM_WEIGHT`` was fitted by ``--fit-weight`` on the four digits settings of seed 0
  only (grid 0..1 step 0.05, highest mean clean Spearman), so the digits rows of
  ``gen_error_fast`` are in-sample for that one number and the MNIST / Fashion-MNIST rows
  (and every seed-1 row) are not. Its cost is best-of-2 interleaved with a plain run in the
  same process (``--fast`` rows: ``cheap_gen_error_fast_rows.jsonl``, merged into the tables).

Columns: Spearman with the K-fold ``gen_error`` over all samples and over the clean samples
(label = true label), top-10% overlap (fraction of the reference's 10% hardest that are in
the candidate's 10% hardest), noise-detection AUROC / AP (noisy settings), the tail-vs-head
ratio of mean scores (imbalanced setting: 3 rarest classes / 3 most frequent), and
``cost`` = candidate wall time / one plain training run's wall time (both measured in this
process, one after the other; ``load`` is the 1-minute load average at the row).

Run: ``python benchmarks/cheap_gen_error.py [--only NAME ...]``. Finished settings are
appended to ``benchmarks/results/cheap_gen_error_rows.jsonl`` and skipped on a rerun; the
per-sample scores go to ``runs/cheap_gen_error/<setting>.npz`` (for the fitted combination),
the K-fold fits are checkpointed under ``runs/cheap_gen_error/kfold_<setting>``.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import time
from typing import Any

import numpy as np
import torch
from _common import RESULTS, ROOT, load, warmup
from scipy.stats import rankdata, spearmanr

from samplescope.data import inject_label_noise, load_dataset, make_imbalanced
from samplescope.difficulty import generalization_error, get_measure
from samplescope.difficulty.dynamics import ActionScore, TrainingDynamics
from samplescope.difficulty.generalization import decompose_cross_entropy
from samplescope.io import atomic_write_json
from samplescope.metrics import noise_detection_report
from samplescope.models import mlp
from samplescope.training import Callback, FoldConfig, crossfit, fit, predict_logits

ROWS = RESULTS / "cheap_gen_error_rows.jsonl"
FAST_ROWS = RESULTS / "cheap_gen_error_fast_rows.jsonl"
FIT_ON = ("digits_clean", "digits_sym20", "digits_memorise", "digits_sym20_memorise")
RUNS = ROOT.parent / "runs" / "cheap_gen_error"
BATCH, LR, SEED = 128, 1e-3, 0

# name, data set, per-class subset (None = whole train split), noise kind, rate, imbalance, epochs
SETTINGS: list[dict[str, Any]] = [
    dict(name="digits_clean", data="digits", per_class=None, noise=None, imb=None, epochs=20),
    dict(
        name="digits_sym20", data="digits", per_class=None, noise="symmetric", imb=None, epochs=20
    ),
    dict(name="mnist5k_clean", data="mnist", per_class=500, noise=None, imb=None, epochs=10),
    dict(name="mnist5k_sym20", data="mnist", per_class=500, noise="symmetric", imb=None, epochs=10),
    dict(
        name="mnist5k_asym20", data="mnist", per_class=500, noise="asymmetric", imb=None, epochs=10
    ),
    dict(
        name="fmnist5k_sym20",
        data="fashion-mnist",
        per_class=500,
        noise="symmetric",
        imb=None,
        epochs=10,
    ),
    dict(name="mnist_imb10", data="mnist", per_class=800, noise=None, imb=10.0, epochs=10),
    dict(name="digits_memorise", data="digits", per_class=None, noise=None, imb=None, epochs=100),
    dict(name="mnist2k_memorise", data="mnist", per_class=200, noise=None, imb=None, epochs=60),
    dict(
        name="digits_sym20_memorise",
        data="digits",
        per_class=None,
        noise="symmetric",
        imb=None,
        epochs=100,
    ),
    dict(
        name="mnist2k_sym20_memorise",
        data="mnist",
        per_class=200,
        noise="symmetric",
        imb=None,
        epochs=60,
    ),
]


class _LastLogits(Callback):
    """Keeps the eval logits of the training split at the last ``last`` of ``epochs`` epoch ends."""

    def __init__(self, epochs: int, last: int = 3) -> None:
        self.epochs, self.last = epochs, last
        self.logits: list[np.ndarray] = []
        self._seen = 0

    def on_epoch_end(self, state: Any) -> None:
        self._seen += 1
        if self._seen > self.epochs - self.last:
            ev = state.evaluate(state.train)
            self.logits.append(np.asarray(ev.logits, dtype=np.float64))
            self.ids = ev.sample_ids


def _model_fn(shape: tuple[int, ...], C: int):
    def make(seed: int) -> torch.nn.Module:
        torch.manual_seed(seed)
        return mlp(shape, C)

    return make


def _split(st: dict[str, Any]):
    seed = st.get("seed", SEED)
    ds = load_dataset(st["data"])
    s = ds.train
    rng = np.random.default_rng(seed)
    if st["per_class"] is not None:
        idx = np.sort(
            np.concatenate(
                [
                    rng.choice(np.flatnonzero(s.y == c), st["per_class"], replace=False)
                    for c in range(10)
                ]
            )
        )
        s = s.subset(idx)
    if st["imb"] is not None:
        s = s.subset(make_imbalanced(s.y, st["imb"], seed=seed, num_classes=10))
    if st["noise"] is not None:
        y, _ = inject_label_noise(
            s.y,
            0.2,
            st["noise"],
            10,
            seed=seed,
            mapping=st["data"] if st["noise"] == "asymmetric" else None,
        )
        s = s.with_labels(y)
    return s


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(-1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(-1, keepdims=True)


def _ce(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    return -np.log(np.clip(_softmax(z)[np.arange(len(y)), y], 1e-300, None))


def learning_time(correct: np.ndarray) -> np.ndarray:
    """``(E, N)`` per-epoch correctness -> first epoch (1-based) after which it stays right; E if not."""
    E = correct.shape[0]
    c = np.nan_to_num(correct, nan=0.0) > 0.5
    # stays right from epoch e on: suffix-all of c
    suffix = np.flip(np.cumprod(np.flip(c, 0), axis=0), 0).astype(bool)
    first = np.where(suffix.any(0), suffix.argmax(0) + 1, E)
    return first.astype(np.float64)


def el2n(logits: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Paul et al. (2021): ``||softmax(z) - onehot(y)||_2`` per sample."""
    p = _softmax(logits)
    p[np.arange(len(y)), y] -= 1.0
    return np.sqrt((p**2).sum(1))


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def run_setting(st: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, np.ndarray]]:
    s = _split(st)
    seed = st.get("seed", SEED)
    E, C = st["epochs"], 10
    shape = tuple(s.x.shape[1:])
    mf = _model_fn(shape, C)
    y = s.y
    kw = dict(epochs=E, batch_size=BATCH, lr=LR, seed=seed, progress=False)

    def plain():
        m = mf(seed)
        fit(m, s, **kw)
        return m

    model, t_plain1 = _timed(plain)
    logits_final, t_pred = _timed(lambda: predict_logits(model, s))
    train_acc = float((logits_final.argmax(1) == y).mean())
    scores: dict[str, np.ndarray] = {
        "loss": get_measure("loss").fn(logits_final, y),
        "margin": get_measure("margin").fn(logits_final, y),
    }
    cost_s: dict[str, float] = {"loss": t_pred, "margin": t_pred}  # + t_plain below

    # batch-source dynamics (no extra pass)
    dyn = TrainingDynamics(source="batches")
    _, t_dyn = _timed(lambda: fit(mf(seed), s, callbacks=[dyn], **kw))
    d = dyn.scores()
    pos = s.positions(dyn.sample_ids)
    for k in ("aum", "forgetting", "cartography_confidence", "cartography_variability"):
        scores[k] = np.empty(len(s))
        scores[k][pos] = d[k]
        cost_s[k] = t_dyn

    # eval-source recorder: action score, learning time
    act = ActionScore()
    _, t_eval = _timed(lambda: fit(mf(seed), s, callbacks=[act], **kw))
    pos = s.positions(act.sample_ids)
    a = act.scores()["action_score"]
    lt = learning_time(act.correct_)
    # checkpoint ensemble: eval passes at the last 3 epoch ends only
    rec = _LastLogits(E, 3)
    _, t_ens = _timed(lambda: fit(mf(seed), s, callbacks=[rec], **kw))
    pr = _softmax(np.stack(rec.logits)).mean(0)  # (N, C) in rec.ids order
    rpos = s.positions(rec.ids)
    ens = np.empty(len(s))
    ens[rpos] = -np.log(np.clip(pr[np.arange(len(rpos)), y[rpos]], 1e-300, None))
    for k, v in (("action_score", a), ("learning_time", lt)):
        scores[k] = np.empty(len(s))
        scores[k][pos] = v
        cost_s[k] = t_eval
    scores["ckpt_ens_loss"] = ens
    cost_s["ckpt_ens_loss"] = t_ens

    # EL2N after a short run (20% of the epochs)
    e_early = max(1, math.ceil(0.2 * E))

    def short():
        m = mf(seed)
        fit(m, s, **{**kw, "epochs": e_early})
        return predict_logits(m, s)

    z_early, t_short = _timed(short)
    scores["el2n_early"] = el2n(z_early, y)
    cost_s["el2n_early"] = t_short

    # a second plain run: the cost denominator is the faster of the two
    _, t_plain2 = _timed(plain)
    t_plain = min(t_plain1, t_plain2)
    for k in ("loss", "margin"):
        cost_s[k] += t_plain

    # 2-fold cross-fitting, stacked: the two half-data models in one run
    cfg = FoldConfig(C, epochs=E, batch_size=BATCH, lr=LR, model_fn=mf)
    cf2, t_cf2 = _timed(lambda: crossfit(s, cfg, folds=2, repeats=1, seed=seed, vectorize=True))
    scores["oof2_loss"] = _ce(cf2.oof_logits[0], y)
    cost_s["oof2_loss"] = t_cf2
    cf22, t_cf22 = _timed(lambda: crossfit(s, cfg, folds=2, repeats=2, seed=seed, vectorize=True))
    scores["gen_error_2x2"] = decompose_cross_entropy(logits=cf22.oof_logits, labels=y)["gen_error"]
    cost_s["gen_error_2x2"] = t_cf22

    # the reference: 5 folds x 4 repeats
    RUNS.mkdir(parents=True, exist_ok=True)
    t_file = RUNS / f"kfold_{st['name']}_seconds.json"
    gen, t_ref = _timed(
        lambda: generalization_error(
            s,
            C,
            folds=5,
            repeats=4,
            model_fn=mf,
            epochs=E,
            batch_size=BATCH,
            lr=LR,
            seed=seed,
            checkpoint_dir=RUNS / f"kfold_{st['name']}",
            progress=False,
        )
    )
    if t_file.is_file():  # resumed from the checkpoints: the time of the run that trained them
        t_ref = json.loads(t_file.read_text())["t_ref_s"]
    else:
        t_file.write_text(json.dumps({"t_ref_s": t_ref}))
    ref = gen.table.column("gen_error")
    refs = {k: gen.table.column(k) for k in ("gen_error", "gen_bias", "gen_variance")}
    np.savez_compressed(
        RUNS / f"{st['name']}.npz",
        y=y,
        true_y=s.true_y if s.true_y is not None else y,
        **{f"ref_{k}": v for k, v in refs.items()},
        **scores,
    )
    meta = dict(
        n=len(s),
        epochs=E,
        train_acc=train_acc,
        t_plain_s=t_plain,
        t_ref_s=t_ref,
        e_early=e_early,
    )
    rows = [_metrics(st, f"ref:{k}", v, ref, s, t_ref / t_plain, meta) for k, v in refs.items()]
    rows += [_metrics(st, k, v, ref, s, cost_s[k] / t_plain, meta) for k, v in scores.items()]
    return rows, scores


def _metrics(st, cand, score, ref, s, cost, meta) -> dict[str, Any]:
    y = s.y
    true_y = s.true_y if s.true_y is not None else y
    clean = true_y == y
    noisy = ~clean
    r: dict[str, Any] = {"setting": st["name"], "candidate": cand, **meta}
    r["spearman_all"] = float(spearmanr(score, ref).statistic)
    r["spearman_clean"] = float(spearmanr(score[clean], ref[clean]).statistic)
    k = max(1, int(round(0.1 * len(y))))
    top_ref = set(np.argsort(-ref, kind="mergesort")[:k])
    top_c = set(np.argsort(-score, kind="mergesort")[:k])
    r["top10_overlap"] = len(top_ref & top_c) / k
    if noisy.any():
        rep = noise_detection_report(noisy, score)
        r["auroc"], r["ap"] = rep["auroc"], rep["ap"]
    else:
        r["auroc"] = r["ap"] = None
    if st["imb"] is not None:
        counts = np.bincount(y, minlength=10)
        order = np.argsort(counts)
        tail, head = np.isin(y, order[:3]), np.isin(y, order[-3:])
        # mean ratio only for non-negative scores (margin / aum are signed); the rank ratio
        # (mean percentile rank of the tail / of the head) is defined for every score
        r["tail_head"] = (
            float(score[tail].mean() / score[head].mean()) if score.min() >= 0 else None
        )
        r["tail_head_ref"] = float(ref[tail].mean() / ref[head].mean())
        q, qr = rankdata(score) / len(y), rankdata(ref) / len(y)
        r["tail_head_rank"] = float(q[tail].mean() / q[head].mean())
        r["tail_head_rank_ref"] = float(qr[tail].mean() / qr[head].mean())
    else:
        r["tail_head"] = r["tail_head_ref"] = None
        r["tail_head_rank"] = r["tail_head_rank_ref"] = None
    r["cost"] = float(cost)
    r["load"] = load()
    return r


def _setting(key: str) -> dict[str, Any]:
    """The setting of a row key: ``name`` (seed 0) or ``name_s<seed>``."""
    m = re.fullmatch(r"(.+)_s(\d+)", key)
    base, seed = (m.group(1), int(m.group(2))) if m else (key, SEED)
    st = next(x for x in SETTINGS if x["name"] == base)
    return {**st, "name": key, "seed": seed}


def _combo_rows(done: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Rank-average of the pair chosen on the digits settings, reported on the others."""
    fit_on = [  # the digits settings of seed 0 only
        n
        for n in done
        if n.startswith("digits")
        and not re.fullmatch(r".+_s\d+", n)
        and (RUNS / f"{n}.npz").is_file()
    ]
    report_on = [n for n in done if not n.startswith("digits") and (RUNS / f"{n}.npz").is_file()]
    if not fit_on or not report_on:
        return []
    cands = [r["candidate"] for r in done[fit_on[0]] if not r["candidate"].startswith("ref:")]
    cost = {n: {r["candidate"]: r["cost"] for r in done[n]} for n in done}
    best, best_val = None, -2.0
    data = {n: np.load(RUNS / f"{n}.npz") for n in fit_on + report_on}
    for i, a in enumerate(cands):
        for b in cands[i + 1 :]:
            vals = []
            for n in fit_on:
                z = data[n]
                clean = z["true_y"] == z["y"]
                sc = rankdata(z[a]) + rankdata(z[b])
                vals.append(spearmanr(sc[clean], z["ref_gen_error"][clean]).statistic)
            if np.mean(vals) > best_val:
                best, best_val = (a, b), float(np.mean(vals))
    out = []
    assert best is not None
    for n in report_on:
        z = data[n]
        st = _setting(n)
        s = _split(st)
        sc = rankdata(z[best[0]]) + rankdata(z[best[1]])
        meta = {
            k: done[n][0][k]
            for k in ("n", "epochs", "train_acc", "t_plain_s", "t_ref_s", "e_early")
        }
        # cost: both from separate runs (upper bound; one eval-recorded run gives all dynamics)
        c = cost[n][best[0]] + cost[n][best[1]]
        r = _metrics(st, f"rankavg({best[0]},{best[1]})", sc, z["ref_gen_error"], s, c, meta)
        r["note"] = f"pair chosen on {fit_on} (mean clean Spearman {best_val:.3f}); not fitted here"
        out.append(r)
    return out


COLS = [
    ("candidate", 38),
    ("spearman_all", 8),
    ("spearman_clean", 8),
    ("top10_overlap", 7),
    ("auroc", 6),
    ("ap", 6),
    ("tail_head", 6),
    ("tail_head_rank", 6),
    ("cost", 6),
]


def print_setting(name: str, rows: list[dict[str, Any]]) -> None:
    r0 = rows[0]
    print(
        f"\n== {name}: n={r0['n']} epochs={r0['epochs']} train_acc={r0['train_acc']:.3f} "
        f"plain run {r0['t_plain_s']:.2f}s, 5x4 K-fold {r0['t_ref_s']:.1f}s, load {r0['load']} =="
    )
    hdr = ["candidate", "rho_all", "rho_cln", "top10", "AUROC", "AP", "tl/hd", "rk t/h", "cost"]
    print(
        "  ".join(
            f"{h:>{w}}" if i else f"{h:<{w}}"
            for i, (h, (_, w)) in enumerate(zip(hdr, COLS, strict=True))
        )
    )
    for r in rows:
        cells = []
        for i, (k, w) in enumerate(COLS):
            v = r.get(k)
            if i == 0:
                cells.append(f"{v:<{w}}")
            elif v is None:
                cells.append(f"{'-':>{w}}")
            else:
                cells.append(f"{v:>{w}.3f}" if k != "cost" else f"{v:>{w - 1}.2f}x")
        print("  ".join(cells))
    if r0.get("tail_head_ref") is not None:
        print(
            f"  (reference gen_error tail/head: mean ratio {r0['tail_head_ref']:.3f}, "
            f"rank ratio {r0['tail_head_rank_ref']:.3f})"
        )


def _read_rows() -> dict[str, list[dict[str, Any]]]:
    done: dict[str, list[dict[str, Any]]] = {}
    if ROWS.is_file():
        for line in ROWS.read_text().splitlines():
            if line.strip():
                r = json.loads(line)
                done.setdefault(r["setting"], []).append(r)
    return done


def summary(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per candidate over the settings: min / mean clean Spearman, and the issue's target count.

    Target per setting: ``spearman_clean >= 0.9``, ``cost <= 1.5`` and (noisy settings) AUROC
    at least the reference ``gen_error``'s.
    """
    ref_auroc = {r["setting"]: r["auroc"] for r in rows if r["candidate"] == "ref:gen_error"}
    out: dict[str, dict[str, Any]] = {}
    for r in rows:
        c = r["candidate"]
        if c.startswith("ref:") or c == "gen_error_fast_variance":  # (vs gen_variance)
            continue
        if c.startswith("rankavg"):
            c = "rankavg(pair chosen on digits)"
        d = out.setdefault(c, {"candidate": c, "rho": [], "cost": [], "met": 0, "auroc_ok": 0})
        d["rho"].append(r["spearman_clean"])
        d["cost"].append(r["cost"])
        ra = ref_auroc.get(r["setting"])
        a_ok = ra is None or (r["auroc"] is not None and r["auroc"] >= ra - 1e-12)
        d["auroc_ok"] += int(a_ok and ra is not None)
        d["met"] += int(r["spearman_clean"] >= 0.9 and r["cost"] <= 1.5 and a_ok)
    res = []
    for d in out.values():
        res.append(
            {
                "candidate": d["candidate"],
                "settings": len(d["rho"]),
                "rho_clean_min": float(np.min(d["rho"])),
                "rho_clean_mean": float(np.mean(d["rho"])),
                "cost_median": float(np.median(d["cost"])),
                "auroc_ge_ref": d["auroc_ok"],
                "target_met": d["met"],
            }
        )
    res.sort(key=lambda x: -x["rho_clean_mean"])
    print("\n== summary over settings (target: rho_clean >= 0.9, cost <= 1.5x, AUROC >= ref) ==")
    print(
        f"{'candidate':<32} {'n':>3} {'rho_min':>8} {'rho_mean':>8} {'cost_med':>8} {'AUROC>=ref':>10} {'met':>4}"
    )
    for x in res:
        print(
            f"{x['candidate']:<32} {x['settings']:>3} {x['rho_clean_min']:>8.3f} "
            f"{x['rho_clean_mean']:>8.3f} {x['cost_median']:>7.2f}x {x['auroc_ge_ref']:>10} "
            f"{x['target_met']:>4}"
        )
    return res


def cost_rows(name: str, reps: int = 3, only: list[str] | None = None) -> list[dict[str, Any]]:
    """Best-of-``reps`` wall time of each kind of run, interleaved (``_common.best_of``), / plain.

    ``only``: substrings of the run names to time (with the plain fit, always timed)."""
    from _common import best_of

    from samplescope.difficulty import fast_generalization_error

    st = next(x for x in SETTINGS if x["name"] == name)
    s = _split(st)
    E, C = st["epochs"], 10
    mf = _model_fn(tuple(s.x.shape[1:]), C)
    kw = dict(epochs=E, batch_size=BATCH, lr=LR, seed=SEED, progress=False)
    cfg = FoldConfig(C, epochs=E, batch_size=BATCH, lr=LR, model_fn=mf)

    def run(cbs=(), epochs=E):
        m = mf(SEED)
        fit(m, s, callbacks=list(cbs), **{**kw, "epochs": epochs})
        return predict_logits(m, s)

    fns = {
        "plain fit": lambda: fit(mf(SEED), s, **kw),
        "fit + final eval (loss, margin)": run,
        "batch dynamics (aum, forgetting, cartography)": lambda: run(
            [TrainingDynamics(source="batches")]
        ),
        "eval every epoch (action_score, learning_time)": lambda: run([ActionScore()]),
        "eval last 3 epochs (ckpt_ens_loss)": lambda: run([_LastLogits(E, 3)]),
        "short fit 20% (el2n_early)": lambda: run(epochs=max(1, math.ceil(0.2 * E))),
        "crossfit 2x1 stacked (oof2_loss)": lambda: crossfit(
            s, cfg, folds=2, repeats=1, seed=SEED, vectorize=True
        ),
        "crossfit 2x2 stacked (gen_error_2x2)": lambda: crossfit(
            s, cfg, folds=2, repeats=2, seed=SEED, vectorize=True
        ),
        "fast_generalization_error (gen_error_fast)": lambda: fast_generalization_error(
            s, C, model_fn=mf, epochs=E, batch_size=BATCH, lr=LR, seed=SEED
        ),
    }
    if only:
        fns = {k: f for k, f in fns.items() if k == "plain fit" or any(o in k for o in only)}
    best, _ = best_of(fns, reps)
    base = best["plain fit"]
    return [
        {"setting": name, "run": k, "best_s": v, "cost": v / base, "reps": reps, "load": load()}
        for k, v in best.items()
    ]


def fast_setting(
    st: dict[str, Any], ref_meta: dict[str, Any], reps: int = 2
) -> list[dict[str, Any]]:
    """``gen_error_fast`` of the library vs the stored reference; cost best-of-``reps`` vs plain."""
    from samplescope.difficulty import fast_generalization_error

    z = np.load(RUNS / f"{st['name']}.npz")  # the reference of run_setting (same data, seed)
    s = _split(st)
    if not np.array_equal(z["y"], s.y):
        raise RuntimeError(f"{st['name']}: the split differs from the stored reference's")
    seed, E = st.get("seed", SEED), st["epochs"]
    mf = _model_fn(tuple(s.x.shape[1:]), 10)
    kw = dict(epochs=E, batch_size=BATCH, lr=LR, seed=seed)
    t_plain, t_fast, res = [], [], None
    for _ in range(reps):  # interleaved, the same load for both
        _, t = _timed(lambda: fit(mf(seed), s, progress=False, **kw))
        t_plain.append(t)
        res, t = _timed(lambda: fast_generalization_error(s, 10, model_fn=mf, **kw))
        t_fast.append(t)
    assert res is not None
    ref = z["ref_gen_error"]
    meta = dict(n=len(s), epochs=E, t_plain_s=min(t_plain), t_fast_s=min(t_fast), reps=reps)
    meta.update({k: ref_meta[k] for k in ("train_acc", "t_ref_s")})
    cost = min(t_fast) / min(t_plain)
    np.savez_compressed(
        RUNS / f"{st['name']}_fast.npz",
        **{c: res.table.column(c) for c in res.table.measures},
        aum_weight=res.aum_weight,
    )
    rows = []
    for cand, col in (
        ("gen_error_fast", "gen_error_fast"),
        ("gen_error_fast:heldout", "gen_error_fast_heldout"),
        ("gen_error_fast:aum", "gen_error_fast_aum"),
        ("gen_error_fast:bias", "gen_error_fast_bias"),
    ):
        r = _metrics(st, cand, res.table.column(col), ref, s, cost, meta)
        r["aum_weight"], r["stacked"] = res.aum_weight, res.stacked
        r["weight_fit_on"] = list(FIT_ON)
        rows.append(r)
    # the decomposition's variance against the reference's (rows of the 2x2 held-out models)
    rv = _metrics(
        st,
        "gen_error_fast_variance",
        res.table.column("gen_error_fast_variance"),
        z["ref_gen_variance"],
        s,
        cost,
        meta,
    )
    rv["note"] = "Spearman / top-10% against ref:gen_variance (not gen_error)"
    rv["aum_weight"], rv["stacked"] = res.aum_weight, res.stacked
    rows.append(rv)
    return rows


def fit_weight() -> dict[str, Any]:
    """The AUM weight: highest mean clean Spearman over the digits settings of seed 0 only."""
    from samplescope.difficulty import rank_combine

    grid = np.round(np.arange(0.0, 1.0001, 0.05), 2)
    per: dict[str, list[float]] = {}
    for n in FIT_ON:
        z, f = np.load(RUNS / f"{n}.npz"), np.load(RUNS / f"{n}_fast.npz")
        clean = z["true_y"] == z["y"]
        per[n] = [
            float(
                spearmanr(
                    rank_combine(f["gen_error_fast_heldout"], f["gen_error_fast_aum"], w)[clean],
                    z["ref_gen_error"][clean],
                ).statistic
            )
            for w in grid
        ]
    mean = np.mean([per[n] for n in FIT_ON], axis=0)
    best = float(grid[int(np.argmax(mean))])
    out = {
        "fit_on": list(FIT_ON),
        "grid": grid.tolist(),
        "per_setting": per,
        "mean": mean.tolist(),
        "best_weight": best,
    }
    atomic_write_json(RESULTS / "cheap_gen_error_weight.json", out)
    print("w     " + "  ".join(f"{n[:14]:>14}" for n in FIT_ON) + "      mean")
    for i, w in enumerate(grid):
        print(f"{w:4.2f}  " + "  ".join(f"{per[n][i]:14.3f}" for n in FIT_ON) + f"  {mean[i]:8.3f}")
    print(f"best weight on {list(FIT_ON)}: {best}")
    return out


def heldout_trajectory(name: str) -> None:
    """Would a held-out trajectory beat the final held-out loss? (a probe, printed only)

    The 2 x 2 run stopped after 20/40/60/80/100% of the epochs (the same seeds: a shorter
    run is the prefix of the longer one, no schedule), the mean held-out CE over those 5
    checkpoints vs the final one, each alone and rank-combined with the final in-sample AUM.
    """
    from sklearn.metrics import roc_auc_score

    from samplescope.difficulty import fast_generalization_error, rank_combine

    st = _setting(name)
    s, E = _split(st), st["epochs"]
    mf = _model_fn(tuple(s.x.shape[1:]), 10)
    z = np.load(RUNS / f"{name}.npz")
    ref, clean = z["ref_gen_error"], z["true_y"] == z["y"]
    pts = sorted({max(1, round(E * f)) for f in (0.2, 0.4, 0.6, 0.8, 1.0)})
    held, res = [], None
    for e in pts:
        kw = dict(epochs=e, batch_size=BATCH, lr=LR, seed=st.get("seed", SEED))
        res = fast_generalization_error(s, 10, model_fn=mf, **kw)
        held.append(res.table.column("gen_error_fast_heldout"))
    assert res is not None
    aum, H = res.table.column("gen_error_fast_aum"), np.array(held)

    def r(v: np.ndarray) -> float:
        return float(spearmanr(v[clean], ref[clean]).statistic)

    def au(v: np.ndarray) -> float:
        return float(roc_auc_score(~clean, v)) if (~clean).any() else float("nan")

    traj = H.mean(0)
    print(name, "pts", pts)
    print(
        f"  final heldout {r(H[-1]):.3f} auroc {au(H[-1]):.4f} | traj mean {r(traj):.3f} "
        f"auroc {au(traj):.4f} | ref auroc {au(ref):.4f}"
    )
    for w in (0.2, 0.35, 0.5):
        f, g = rank_combine(H[-1], aum, w), rank_combine(traj, aum, w)
        print(f"  w={w}: final+aum {r(f):.3f} {au(f):.4f} | traj+aum {r(g):.3f} {au(g):.4f}")
    print("".join(f"   ckpt {p}: {r(H[k]):.3f}" for k, p in enumerate(pts)), flush=True)


def _read_fast_rows() -> dict[str, list[dict[str, Any]]]:
    """The ``--fast`` rows of the current ``FAST_AUM_WEIGHT`` (older weights are ignored)."""
    from samplescope.difficulty import FAST_AUM_WEIGHT

    done: dict[str, list[dict[str, Any]]] = {}
    if FAST_ROWS.is_file():
        for line in FAST_ROWS.read_text().splitlines():
            if line.strip():
                r = json.loads(line)
                if r["aum_weight"] == FAST_AUM_WEIGHT:
                    done.setdefault(r["setting"], []).append(r)
    return done


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", nargs="*", help="setting names to run (default: all, in order)")
    ap.add_argument(
        "--costs", nargs="*", help="only time each kind of run best-of-3 on these settings"
    )
    ap.add_argument("--seed", type=int, default=0, help="data subset / noise / init seed")
    ap.add_argument("--fast", action="store_true", help="add the gen_error_fast rows")
    ap.add_argument("--runs", nargs="*", help="with --costs: substrings of the runs to time")
    ap.add_argument("--trajectory", nargs="*", help="probe: held-out trajectory (settings)")
    ap.add_argument("--fit-weight", action="store_true", help="fit FAST_AUM_WEIGHT on digits")
    args = ap.parse_args()
    torch.set_num_threads(1)
    if args.fit_weight:
        fit_weight()
        return
    if args.trajectory:
        for n in args.trajectory:
            heldout_trajectory(n)
        return
    warmup()
    if args.fast:
        fast_done = _read_fast_rows()
        for st in SETTINGS:
            st = _setting(st["name"] + (f"_s{args.seed}" if args.seed else ""))
            base = re.sub(r"_s\d+$", "", st["name"])
            if st["name"] in fast_done or (args.only and base not in args.only):
                continue
            t0 = time.perf_counter()
            rows = fast_setting(st, _read_rows()[st["name"]][0])
            with FAST_ROWS.open("a") as f:
                for r in rows:
                    f.write(json.dumps(r) + "\n")
            print_setting(st["name"], rows)
            print(f"  [took {time.perf_counter() - t0:.0f}s]", flush=True)
    if args.costs:
        rows = [r for n in args.costs for r in cost_rows(n, only=args.runs)]
        for r in rows:
            print(
                f"{r['setting']:<16} {r['run']:<48} {r['best_s']:7.2f}s {r['cost']:6.2f}x  load {r['load']}"
            )
        name = "cheap_gen_error_costs_fast.json" if args.runs else "cheap_gen_error_costs.json"
        atomic_write_json(RESULTS / name, {"rows": rows})
        return
    done = _read_rows()
    settings = [_setting(st["name"] + (f"_s{args.seed}" if args.seed else "")) for st in SETTINGS]
    if args.fast:
        settings = []
    for st in settings:
        base = re.sub(r"_s\d+$", "", st["name"])
        if st["name"] in done or (args.only and base not in args.only):
            continue
        t0 = time.perf_counter()
        rows, _ = run_setting(st)
        with ROWS.open("a") as f:
            for r in rows:
                f.write(json.dumps(r) + "\n")
        done[st["name"]] = rows
        print_setting(st["name"], rows)
        print(f"  [setting took {time.perf_counter() - t0:.0f}s]", flush=True)
    combo = _combo_rows(done)
    fast = _read_fast_rows()
    for n in done:
        done[n] = done[n] + fast.get(n, [])
        print_setting(n, done[n] + [r for r in combo if r["setting"] == n])
    all_rows = [r for n in done for r in done[n]] + combo
    atomic_write_json(
        RESULTS / "cheap_gen_error.json",
        {
            "settings": SETTINGS,
            "rows": all_rows,
            "summary": summary(all_rows),
            "torch_threads": torch.get_num_threads(),
            "target": "spearman_clean >= 0.9 at cost <= 1.5x with AUROC >= ref:gen_error's",
        },
    )
    print(f"saved {RESULTS / 'cheap_gen_error.json'}")


if __name__ == "__main__":
    main()
