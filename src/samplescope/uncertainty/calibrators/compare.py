"""Side-by-side comparison of calibrators: fit on validation data, measure on test data.

:func:`compare_calibrators` fits every method on the validation split only (optionally with
the cross-validated fallback to the identity of :func:`fit_calibrator`) and reports on the
test split, each measure with a percentile-bootstrap interval over the test samples
(:func:`samplescope.metrics.calibration_report`; all methods on the same resamples):

- calibration, lower = better: NLL, binned ECE (15 bins), top-label smooth ECE, Brier;
- accuracy before (identity) and after, higher = better;
- failure prediction by the calibrated max-probability confidence: AUROC (positive = correct,
  higher = better) and AURC of its risk–coverage curve (lower = better).

A calibrator can lower ECE while ties or a coarser confidence make the risk–coverage curve
worse (histogram binning does); the table shows both. The identity row comes first (the free
baseline; DESIGN.md). :func:`format_calibration_table` renders the rows as plain text.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..._validation import check_choice, check_fraction, check_integer, check_labels
from ...metrics import calibration_report
from .base import Calibrator, IdentityCalibrator, resolve_input
from .registry import calibrator_name, make_calibrator
from .selection import fit_calibrator

__all__ = ["compare_calibrators", "format_calibration_table", "COMPARE_MEASURES"]

#: Measures with intervals in every row (names of :data:`samplescope.metrics.REPORT_MEASURES`).
COMPARE_MEASURES = ("nll", "ece", "smooth_ece", "brier", "accuracy", "auroc", "aurc")


def _split(
    logits: Any, probs: Any, labels: Any, which: str, num_classes: int | None = None
) -> tuple[str, np.ndarray, np.ndarray]:
    try:
        kind, a = resolve_input(logits, probs, num_classes=num_classes)
    except ValueError as exc:  # name the split's argument (val_logits, test_probs, ...)
        raise ValueError(f"{which}_{exc}") from None
    y = check_labels(labels, f"{which}_labels", num_classes=a.shape[1], n=a.shape[0])
    return kind, a, y


def compare_calibrators(
    methods: Sequence[str | Calibrator],
    *,
    val_logits: Any = None,
    val_probs: Any = None,
    val_labels: Any,
    test_logits: Any = None,
    test_probs: Any = None,
    test_labels: Any,
    ci: float = 0.95,
    n_boot: int = 200,
    cv: int | None = None,
    n_bins: int = 15,
    seed: int = 0,
    ci_method: str = "percentile",
) -> list[dict[str, Any]]:
    """Fit each method on the validation split and measure it on the test split.

    Args:
        methods: registered names (``"ts"``, ``"dirichlet"``, ...) or unfitted calibrators;
            the identity row always comes first (added when missing).
        val_logits / val_probs: validation ``(N_val, C)`` (exactly one); val_labels ``(N_val,)``.
        test_logits / test_probs: test ``(N_test, C)`` (the same kind as validation not
            required); test_labels ``(N_test,)``.
        ci, n_boot: bootstrap interval level and resamples (over test samples; the same
            resamples for every method).
        cv: ``None`` fits each method directly; an int uses :func:`fit_calibrator` with that
            many folds (falls back to the identity, with a warning, when the CV NLL does not
            improve).
        n_bins: bins of the binned ECE.
        seed: seed of the folds and the resampling.
        ci_method: ``"percentile"`` or ``"basic"`` bootstrap (see
            :mod:`samplescope.metrics.bootstrap`: the percentile interval of ECE / smooth ECE
            can lie above a small point value).

    Returns:
        One dict per method: ``method`` (name), ``fitted`` (False when it fell back to the
        identity), ``fell_back``, ``accuracy_preserving``, ``cv_nll`` / ``identity_cv_nll``
        (None without ``cv``), each of :data:`COMPARE_MEASURES` as ``(value, low, high)``,
        ``accuracy_before`` (identity, float), ``argmax_changed`` (fraction of test samples
        whose predicted class changed), ``fit_seconds``.
    """
    if isinstance(methods, (str, Calibrator)) or len(methods) == 0:
        raise ValueError(
            f"methods: expected a non-empty list of names/Calibrators, got {methods!r}"
        )
    vkind, va, vy = _split(val_logits, val_probs, val_labels, "val")
    tkind, ta, ty = _split(test_logits, test_probs, test_labels, "test", num_classes=va.shape[1])
    # every argument is checked before any fitting
    cals = [make_calibrator(m, f"methods[{i}]") for i, m in enumerate(methods)]
    check_fraction(ci, "ci", inclusive_high=False)
    check_integer(n_boot, "n_boot", minimum=1)
    check_integer(n_bins, "n_bins", minimum=1)
    check_choice(ci_method, "ci_method", ("percentile", "basic"))
    if cv is not None:
        check_integer(cv, "cv", minimum=2, maximum=len(vy))
    cals = [IdentityCalibrator()] + [c for c in cals if not isinstance(c, IdentityCalibrator)]
    base = IdentityCalibrator().fit(**{tkind: ta}, labels=ty).predict_proba(**{tkind: ta})
    pred_before = base.argmax(1)
    rows = []
    for cal in cals:
        name = calibrator_name(cal)
        t0 = time.perf_counter()
        if cv is None:
            fitted, report = cal.fit(**{vkind: va}, labels=vy), None
        else:
            fitted = fit_calibrator(cal, **{vkind: va}, labels=vy, cv=cv, seed=seed)
            report = fitted.cv_report_
        seconds = time.perf_counter() - t0
        q = fitted.predict_proba(**{tkind: ta})
        measures = calibration_report(
            q,
            ty,
            ci=ci,
            n_boot=n_boot,
            n_bins=n_bins,
            measures=COMPARE_MEASURES,
            seed=seed,
            method=ci_method,
        )
        fell_back = bool(report and report["fell_back"]) and not isinstance(cal, IdentityCalibrator)
        rows.append(
            {
                "method": name,
                "fitted": not fell_back,
                "fell_back": fell_back,
                "accuracy_preserving": bool(type(cal).accuracy_preserving),
                "cv_nll": None if report is None else report["cv_nll"],
                "identity_cv_nll": None if report is None else report["identity_cv_nll"],
                **measures,
                "accuracy_before": float(np.mean(pred_before == ty)),
                "argmax_changed": float(np.mean(q.argmax(1) != pred_before)),
                "fit_seconds": seconds,
            }
        )
    return rows


def _cell(v: tuple[float, float, float], scale: float, digits: int) -> str:
    a, lo, hi = (scale * x for x in v)
    return f"{a:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


def format_calibration_table(rows: Sequence[dict[str, Any]], *, title: str | None = None) -> str:
    """Plain-text table of :func:`compare_calibrators` rows (ECE and smooth ECE in %).

    Columns: method (``*`` = fell back to the identity), NLL, ECE %, smECE %, Brier,
    accuracy before → after, argmax changed %, AUROC and AURC of the calibrated confidence,
    fit seconds; intervals in brackets.
    """
    head = ["method", "NLL", "ECE %", "smECE %", "Brier", "acc % before->after", "changed %",
            "AUROC", "AURC", "fit s"]  # fmt: skip
    need = {
        "method",
        "accuracy",
        "accuracy_before",
        "argmax_changed",
        "fit_seconds",
        *COMPARE_MEASURES,
    }
    if isinstance(rows, (str, dict)) or not rows:
        raise ValueError(
            f"rows: expected a non-empty list of compare_calibrators rows, got {rows!r:.80}"
        )
    for i, r in enumerate(rows):
        missing = sorted(need - set(r)) if isinstance(r, dict) else sorted(need)
        if missing:
            raise ValueError(f"rows: row {i} is not a compare_calibrators row (missing {missing})")
    body = []
    for r in rows:
        acc = r["accuracy"]
        body.append(
            [
                r["method"] + (" *" if r.get("fell_back") else ""),
                _cell(r["nll"], 1, 4),
                _cell(r["ece"], 100, 2),
                _cell(r["smooth_ece"], 100, 2),
                _cell(r["brier"], 1, 4),
                f"{100 * r['accuracy_before']:.2f} -> {100 * acc[0]:.2f}",
                f"{100 * r['argmax_changed']:.2f}",
                _cell(r["auroc"], 1, 4),
                _cell(r["aurc"], 1, 4),
                f"{r['fit_seconds']:.3f}",
            ]
        )
    widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(head)]
    lines = [] if title is None else [title]
    lines.append("  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)).rstrip())
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(b, widths, strict=True)).rstrip() for b in body]
    if any(r.get("fell_back") for r in rows):
        lines.append("* fell back to the identity: no cross-validated NLL gain on validation")
    return "\n".join(lines)
