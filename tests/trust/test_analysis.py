"""The metrics the trust analyses use follow REFERENCE.md §4 on a case computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from samplescope.trust import confusion_masks, format_table, separability, summarize, trust_metrics

# five predictions: correct, correct, error, correct, error
CORRECT = np.array([1, 1, 0, 1, 0])
TRUST = np.array([0.9, 0.8, 0.7, 0.4, 0.1])


def test_metrics_by_hand() -> None:
    m = trust_metrics(CORRECT, TRUST)
    assert m["acc"] == pytest.approx(0.6)
    assert m["auroc"] == pytest.approx(5 / 6)  # 5 of the 6 (correct, error) pairs ordered right
    # AUPR-Error ranks errors by -trust: 0.1 (err, P=1), 0.4, 0.7 (err, P=2/3)
    assert m["aupr_error"] == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)
    # ... and not by +trust (Luo's ImageNet code): errors at ranks 3 and 5
    assert m["aupr_error"] != pytest.approx(0.5 * (1 / 3 + 2 / 5))
    assert m["aupr_success"] == pytest.approx((1 + 1 + 3 / 4) / 3)
    assert m["fpr95"] == pytest.approx(0.5)  # accepting all 3 correct accepts the error at 0.7
    assert m["tpr"] == pytest.approx(2 / 3)
    assert m["tnr"] == pytest.approx(0.5)
    aurc = (0 + 0 + 1 / 3 + 1 / 4 + 2 / 5) / 5
    assert m["aurc"] == pytest.approx(aurc)
    assert m["eaurc"] == pytest.approx(aurc - (0.4 + 0.6 * math.log(0.6)))


def test_negative_threshold_for_tnr() -> None:
    assert trust_metrics(CORRECT, TRUST, neg_threshold=0.05)["tnr"] == 0.0
    assert trust_metrics(CORRECT, TRUST, neg_threshold=0.75)["tnr"] == 1.0
    assert trust_metrics(CORRECT, TRUST, neg_threshold=0.75)["tpr"] == pytest.approx(2 / 3)


def test_confusion_masks() -> None:
    m = confusion_masks(CORRECT, TRUST, neg_threshold=0.5)
    assert [int(m[k].sum()) for k in ("TP", "FN", "TN", "FP")] == [2, 1, 1, 1]
    m = confusion_masks(CORRECT, TRUST, neg_threshold=0.05)
    assert int(m["TN"].sum()) == 0 and int(m["FP"].sum()) == 2


def test_separability_formulas() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(0.8, 0.1, 400)
    b = rng.normal(0.3, 0.2, 300)
    correct = np.r_[np.ones(400), np.zeros(300)]
    sep = separability(correct, np.r_[a, b])
    m1, v1, m2, v2 = a.mean(), a.var(), b.mean(), b.var()
    kl12 = math.log(math.sqrt(v2 / v1)) + (v1 + (m1 - m2) ** 2) / (2 * v2) - 0.5
    kl21 = math.log(math.sqrt(v1 / v2)) + (v2 + (m1 - m2) ** 2) / (2 * v1) - 0.5
    bd = 0.25 * math.log(0.25 * (v1 / v2 + v2 / v1 + 2)) + 0.25 * (m1 - m2) ** 2 / (v1 + v2)
    assert sep["kl_c_e"] == pytest.approx(kl12)
    assert sep["kl_e_c"] == pytest.approx(kl21)
    assert sep["kl_avg"] == pytest.approx((kl12 + kl21) / 2)
    assert sep["bhattacharyya"] == pytest.approx(bd)
    # identical distributions: zero separability (analytic limit)
    same = separability(np.r_[np.ones(5), np.zeros(5)], np.r_[np.arange(5.0), np.arange(5.0)])
    assert same["kl_avg"] == pytest.approx(0, abs=1e-12) and same["bhattacharyya"] == pytest.approx(
        0, abs=1e-12
    )
    # a constant group cannot be fitted: NaN, not an exception
    assert math.isnan(separability(CORRECT, np.array([0.9, 0.8, 0.5, 0.4, 0.5]))["kl_avg"])


def test_summarize_and_table() -> None:
    rows = [{"method": "ss", "seed": s, "auroc": v} for s, v in enumerate([0.8, 0.9, 1.0])]
    rows.append({"method": "ce", "seed": 0, "auroc": 0.5})
    summ = summarize(rows, ["auroc"], ["method"])
    assert [r["method"] for r in summ] == ["ss", "ce"]
    assert summ[0]["auroc_mean"] == pytest.approx(0.9) and summ[0]["auroc_std"] == pytest.approx(
        0.1
    )
    assert summ[1]["auroc_std"] == 0.0
    text = format_table(summ, columns=(("auroc", "AUROC", "↑"),), paper={"ss": {"auroc": 92.22}})
    assert "90.00±10.00" in text and "92.22" in text


def test_bad_input() -> None:
    with pytest.raises(ValueError):
        trust_metrics(CORRECT, TRUST[:3])
    with pytest.raises(ValueError):
        confusion_masks(CORRECT, np.array([0.1, np.nan, 0.2, 0.3, 0.4]))
