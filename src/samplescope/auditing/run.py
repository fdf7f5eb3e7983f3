"""``audit``: every per-sample quantity samplescope has, for the user's data, in one table.

One call trains what it needs and joins, per sample (rows aligned with the data):

- **difficulty** (higher = harder): ``loss``, ``margin``, ``aum``, ``action_score``,
  ``forgetting``, ``cartography_confidence`` / ``cartography_variability`` from one
  training run with the dynamics callbacks; ``gen_error`` / ``gen_bias`` / ``gen_variance``
  / ``oof_loss`` (the held-out cross-entropy of the audit's cross-fitting and its
  decomposition) from cross-fitting, chosen by ``gen_error``:

  - ``"fast"`` (default): ONE stacked run of 2 folds × 2 repeats of half-data models
    (:func:`samplescope.difficulty.fast_generalization_error`, about 1.3 plain trainings
    for the stacked MLPs, about 2 for CNNs); the same run also gives ``gen_error_fast``
    (with ``gen_error_fast_bias`` / ``gen_error_fast_variance``), the one-run estimate of
    Zhou's 5-fold generalization error (``benchmarks/cheap_gen_error.py``: clean-sample
    Spearman 0.84-0.96 with the 5 × 4 K-fold ``gen_error``), the column to rank samples by
    in this mode;
  - ``"kfold"``: Zhou's 5 folds × 3 repeats (15 fits on 80% of the data, 12 trainings'
    worth of steps; 5 × 4 measured 6-14 plain trainings stacked on a CPU): ``gen_error`` IS
    the reference measure, and ``gen_error_fast`` is not computed (a second estimate);
- **uncertainty**: ``predictive_entropy`` (total), ``expected_entropy`` (aleatoric),
  ``mutual_information`` (epistemic) — by default of the held-out ensemble, the ``R``
  out-of-fold predictions of each sample by models trained on different random halves
  (Zhou et al.'s epistemic estimate; free once cross-fitted); with
  ``uncertainty="mc_dropout"`` of ``samples`` MC-dropout passes of a dropout model trained
  on every sample (in-sample, and every fit then uses that dropout model);
- **held-out prediction**: ``oof_pred`` and ``oof_correct`` (the argmax of the mean
  out-of-fold probabilities, by models that never saw the sample);
- **trust**: ``confidence_calibrated``, the max-prob of the out-of-fold probabilities after
  temperature scaling (itself cross-fitted: each sample's temperature is fitted on the
  other folds; the identity when scaling does not improve cross-validated NLL), and
  ``trust``, the best of three trust scores by AUROC of the held-out correctness;
- **label issues**: ``is_label_issue``, ``label_quality``, ``suggested_label``
  (:func:`samplescope.labels.find_label_issues` on the out-of-fold probabilities).

``report.html`` (:func:`samplescope.report.render_report`) is written beside the table.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .sources import AuditData, load_audit_data

__all__ = ["AUDIT_MEASURES", "AuditResult", "audit"]

AUDIT_MEASURES = (
    "loss",
    "margin",
    "aum",
    "action_score",
    "forgetting",
    "cartography_confidence",
    "cartography_variability",
    "gen_error",
    "gen_bias",
    "gen_variance",
    "oof_loss",
)
#: gen_error mode -> (folds, repeats) of the audit's cross-fitting
_GEN = {"fast": (2, 2), "kfold": (5, 3)}
#: the one-run estimator's columns, added in the "fast" mode (from the same stacked run)
_FAST_MEASURES = ("gen_error_fast", "gen_error_fast_bias", "gen_error_fast_variance")


@dataclass
class AuditResult:
    """The joined table, where it was written, and what the report's headline says."""

    table: Any  # ScoreTable
    data: AuditData
    summary: dict[str, Any] = field(default_factory=dict)
    table_path: Path | None = None
    report_path: Path | None = None


def _trust_scores(
    correct: np.ndarray, candidates: dict[str, np.ndarray]
) -> tuple[str, np.ndarray, dict[str, float]]:
    """The candidate with the highest AUROC of separating correct from wrong predictions."""
    from ..metrics import failure_report

    aurocs: dict[str, float] = {}
    if 0 < correct.mean() < 1:
        for name, s in candidates.items():
            aurocs[name] = float(failure_report(correct.astype(bool), s)["auroc"])
        best = max(aurocs, key=lambda k: aurocs[k])
    else:
        best = next(iter(candidates))
    return best, candidates[best], aurocs


def audit(
    data: Any,
    *,
    label: str | None = None,
    model: str = "auto",
    gen_error: str = "fast",
    epochs: int | None = None,
    uncertainty: str = "ensemble",
    samples: int = 20,
    seed: int = 0,
    noise: float = 0.0,
    noise_kind: str = "symmetric",
    train_subset: int | None = None,
    data_dir: str | os.PathLike | None = None,
    out: str | os.PathLike | None = None,
    executor: Any = None,
    progress: bool = True,
) -> AuditResult:
    """Audit ``data`` (a built-in name, a file or folder, or a ``DataSplit``); see the module.

    Args:
        data / label: what :func:`samplescope.auditing.load_audit_data` reads (``label``: the
            label column of a CSV / Parquet file).
        model: ``auto`` | ``mlp`` | ``cnn`` | ``gal_cnn`` | ``resnet`` (``auto``: an MLP for
            8×8 inputs, the small CNN otherwise; with ``uncertainty="mc_dropout"`` an MLP gets
            dropout 0.5 and ``auto`` on images is Gal's CNN), or the path of a ``model.pt``
            whose architecture is retrained.
        gen_error: ``"fast"`` (one stacked 2 × 2 cross-fitting run, which also gives
            ``gen_error_fast``) or ``"kfold"`` (5 folds × 3 repeats); see the module.
        epochs: training epochs of every fit (default: 30 for digits-sized data, 3 otherwise).
        uncertainty: ``"ensemble"`` (the held-out predictions of the cross-fitting repeats)
            or ``"mc_dropout"``.
        samples: S, the MC-dropout passes (``uncertainty="mc_dropout"``).
        noise / noise_kind / train_subset: corrupt a built-in data set (a demo with known
            flipped labels: the report then scores the flags against them).
        out: a folder; ``audit.parquet`` and ``report.html`` are written there.
    """
    from .._validation import check_choice, check_integer

    check_choice(gen_error, "gen_error", tuple(_GEN))
    check_choice(uncertainty, "uncertainty", ("ensemble", "mc_dropout"))
    samples = check_integer(samples, "samples")
    if epochs is not None:
        epochs = check_integer(epochs, "epochs")
    ad = load_audit_data(
        data,
        label=label,
        data_dir=data_dir,
        noise=noise,
        noise_kind=noise_kind,
        train_subset=train_subset,
        seed=seed,
    )
    arch = _architecture(model, ad, need_dropout=uncertainty == "mc_dropout")
    out_dir = None if out is None else Path(out)
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    cols, summary = _compute(
        ad, arch, gen_error, epochs, uncertainty, samples, seed, executor, progress
    )
    summary["seconds"] = round(time.perf_counter() - t0, 2)
    table = _join(ad, cols)
    res = AuditResult(table, ad, summary)
    if out_dir is not None:
        res.table_path = table.save(out_dir / "audit.parquet")
        from ..report import render_report

        res.report_path = render_report(
            table.df,
            out_dir / "report.html",
            class_names=ad.class_names,
            title=f"samplescope audit: {ad.name}",
            description=ad.description,
            images=ad.images,
            features=ad.features,
            meta=summary,
        )
    return res


def _architecture(model: str, ad: AuditData, *, need_dropout: bool) -> dict[str, Any]:
    from ..models import load_model, model_spec

    if isinstance(model, (str, os.PathLike)) and str(model).endswith(".pt"):
        _, spec = load_model(model, flag="model")
        if list(spec["input_shape"]) != list(ad.split.x.shape[1:]):
            raise ValueError(
                f"model: {model} takes inputs {spec['input_shape']}, the data has "
                f"{list(ad.split.x.shape[1:])}"
            )
        if int(spec["num_classes"]) != ad.num_classes:
            raise ValueError(
                f"model: {model} has {spec['num_classes']} classes, the data {ad.num_classes}"
            )
    else:
        spec = model_spec(model, ad.split.x.shape[1:], ad.num_classes, need_dropout=need_dropout)
    if need_dropout:
        from ..models import build_model, has_dropout

        if not has_dropout(build_model(spec)):
            raise ValueError(
                f"model: {spec['kind']!r} has no dropout layer, which uncertainty='mc_dropout' "
                "needs; use mlp, cnn or gal_cnn, or uncertainty='ensemble'"
            )
    return spec


def _compute(
    ad: AuditData,
    arch: dict[str, Any],
    gen_error: str,
    epochs: int | None,
    uncertainty: str,
    samples: int,
    seed: int,
    executor: Any,
    progress: bool,
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    from scipy.special import logsumexp

    from ..difficulty import compute_measures
    from ..labels import find_label_issues
    from ..metrics import ece, nll
    from ..models import build_model
    from ..uncertainty import (
        cross_val_predict_proba,
        decompose,
        predict_stochastic,
    )

    split, c = ad.split, ad.num_classes
    folds, repeats = _GEN[gen_error]
    ep = epochs if epochs is not None else (30 if int(np.prod(split.x.shape[1:])) <= 64 else 3)
    fast = gen_error == "fast"
    gen_cols = ("gen_error", "gen_bias", "gen_variance", "oof_loss")
    measures = [m for m in AUDIT_MEASURES if not (fast and m in gen_cols)]
    res = compute_measures(
        split,
        c,
        measures + (list(_FAST_MEASURES) if fast else []),
        folds=folds,
        repeats=repeats,
        model_fn=lambda s: build_model(arch),
        epochs=ep,
        seed=seed,
        executor=executor,
        progress=progress,
    )
    cols = {n: res.table.column(n) for n in res.table.measures}
    y = split.y
    held = res.fast if fast else res.gen  # the held-out predictions of the cross-fitting
    assert held is not None
    if fast:  # the 2 x 2 run's held-out columns, as a plain 2 x 2 cross-fitting gives them
        ft = res.fast.table
        cols["gen_error"] = ft.column("gen_error_fast_heldout")
        cols["gen_bias"] = ft.column("gen_error_fast_bias")
        cols["gen_variance"] = ft.column("gen_error_fast_variance")
        lp0 = held.oof_logits[0] - logsumexp(held.oof_logits[0], axis=1, keepdims=True)
        cols["oof_loss"] = -lp0[np.arange(len(y)), y]
    p_oof = held.oof_probs.mean(0)  # (N, C): the mean held-out prediction over repeats
    cols["oof_pred"] = p_oof.argmax(1)
    correct = cols["oof_pred"] == y
    cols["oof_correct"] = correct
    # temperature scaling, itself cross-fitted; kept only if it lowers the out-of-fold NLL
    # (the rule of fit_calibrator, on the same out-of-fold predictions, computed once)
    q_cv = cross_val_predict_proba("ts", probs=p_oof, labels=y, cv=5, seed=seed)
    nll_ts, nll_id = nll(q_cv, y), nll(p_oof, y)
    fell_back = not nll_ts < nll_id
    q = p_oof if fell_back else q_cv
    cols["confidence_calibrated"] = q.max(1)
    if uncertainty == "mc_dropout":
        stoch = predict_stochastic(res.model, split, "mc_dropout", samples=samples, seed=seed)
        what = f"{samples} MC-dropout passes of the model trained on every sample"
    else:
        stoch = held.oof_probs  # (R, N, C): each from models that never saw the sample
        what = f"the {repeats} held-out predictions of the cross-fitting repeats"
    cols.update(decompose(stoch))
    trust_name, cols["trust"], aurocs = _trust_scores(
        correct,
        {
            "calibrated max-prob": cols["confidence_calibrated"],
            "minus predictive entropy": -cols["predictive_entropy"],
            "minus mutual information": -cols["mutual_information"],
        },
    )
    issues = find_label_issues(y, probs=p_oof, num_classes=c)
    cols.update(issues.to_columns())
    summary: dict[str, Any] = {
        "epochs": ep,
        "gen_error": f"{gen_error}: {repeats} x {folds}-fold cross-fitting"
        + (
            f" ({'one stacked run' if res.fast.stacked else 'fits one by one'}), with "
            "gen_error_fast (rank by it)"
            if fast and res.fast is not None
            else ""
        ),
        "model": arch,
        "uncertainty": what,
        "oof_accuracy": float(correct.mean()),
        "ece": float(ece(q, y)),
        "temperature_scaling": "identity (did not improve CV NLL)" if fell_back else "cross-fitted",
        "trust_name": trust_name,
        "trust_auroc": aurocs,
        "estimated_issues": int(np.sum(cols["is_label_issue"])),
        "estimated_issues_per_class": [int(v) for v in issues.issues_per_class],
        "label_issue_method": f"count {issues.count}, ranked by {issues.rank_by}",
        "notes": [
            f"trust = {trust_name}, the best of {len(aurocs) or 1} scores by AUROC of the "
            "held-out correctness on these samples"
            + (f" ({', '.join(f'{k} {v:.3f}' for k, v in aurocs.items())})" if aurocs else ""),
            f"calibration: temperature scaling {'not used' if fell_back else 'used'} (5-fold "
            f"cross-validated NLL {nll_ts:.4f} vs {nll_id:.4f} without)",
            f"held-out = out-of-fold predictions of {repeats} x {folds}-fold cross-fitting; "
            f"{ep} epochs per fit; uncertainty from {what}",
        ],
    }
    return cols, summary


def _join(ad: AuditData, cols: dict[str, np.ndarray]) -> Any:
    from ..io import ScoreTable

    split = ad.split
    flags = {"oof_pred", "oof_correct", "is_label_issue", "suggested_label"}
    table = ScoreTable.from_arrays(
        split.sample_id,
        split.y,
        true_label=split.true_y,
        **{k: np.asarray(v, dtype=np.float64) for k, v in cols.items() if k not in flags},
    )
    for k in ("oof_pred", "suggested_label"):
        table.df[k] = np.asarray(cols[k], dtype=np.int64)
    for k in ("oof_correct", "is_label_issue"):
        table.df[k] = np.asarray(cols[k], dtype=bool)
    return table
