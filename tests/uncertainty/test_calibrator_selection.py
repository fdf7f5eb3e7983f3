"""Cross-validated fitting (fallback to the identity), selection by CV NLL, and the comparison."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from samplescope.functional import label_nll, softmax
from samplescope.uncertainty import (
    COMPARE_MEASURES,
    IdentityCalibrator,
    MatrixScaling,
    TemperatureScaling,
    compare_calibrators,
    cross_val_nll,
    cross_val_predict_proba,
    fit_calibrator,
    format_calibration_table,
    get_calibrator,
    select_calibrator,
)
from samplescope.uncertainty.calibrators.selection import cv_folds


def _data(n: int, c: int, seed: int, sharpen: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, c)) * 2.0
    p = softmax(z, axis=1)
    y = np.minimum((rng.random(n)[:, None] > np.cumsum(p, 1)).sum(1), c - 1)
    return sharpen * z, y


def test_overfitting_matrix_scaling_falls_back_to_identity_with_a_warning() -> None:
    z, y = _data(100, 10, 0)  # calibrated already; 110 free parameters on 100 samples
    with pytest.warns(
        UserWarning, match=r"matrix does not improve the 5-fold cross-validated NLL"
    ) as rec:
        cal = fit_calibrator(MatrixScaling(l2=0.0), logits=z, labels=y, cv=5, seed=0)
    msg = str(rec[0].message)
    rep = cal.cv_report_
    assert isinstance(cal, IdentityCalibrator) and rep["fell_back"]
    assert rep["cv_nll"] > rep["identity_cv_nll"]
    assert f"{rep['cv_nll']:.4f}" in msg and f"{rep['identity_cv_nll']:.4f}" in msg
    np.testing.assert_allclose(cal.predict_proba(logits=z), softmax(z, axis=1))


def test_a_helpful_calibrator_is_kept() -> None:
    z, y = _data(600, 5, 1, sharpen=3.0)  # over-confident: TS helps
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        cal = fit_calibrator("ts", logits=z, labels=y, cv=5)
    assert isinstance(cal, TemperatureScaling) and not cal.cv_report_["fell_back"]
    assert cal.cv_report_["cv_nll"] < cal.cv_report_["identity_cv_nll"]
    assert cal.temperature_ > 2
    assert fit_calibrator("ts", logits=z, labels=y, cv=None).cv_report_ is None


def test_min_improvement_and_bad_arguments() -> None:
    z, y = _data(200, 3, 2, sharpen=1.05)  # barely miscalibrated
    with pytest.warns(UserWarning, match="returning the identity"):
        fit_calibrator("ts", logits=z, labels=y, min_improvement=0.5)
    with pytest.raises(ValueError, match="cv: expected an integer number of folds"):
        fit_calibrator("ts", logits=z, labels=y, cv=1)
    with pytest.raises(ValueError, match="cv: expected"):
        fit_calibrator("ts", logits=z, labels=y, cv=201)
    with pytest.raises(ValueError, match="min_improvement"):
        fit_calibrator("ts", logits=z, labels=y, min_improvement=-1)
    with pytest.raises(ValueError, match="calibrator: expected a name"):
        fit_calibrator(3, logits=z, labels=y)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="name: unknown calibrator"):
        fit_calibrator("tempscale", logits=z, labels=y)
    with pytest.raises(ValueError, match="logits: expected exactly one"):
        fit_calibrator("ts", labels=y)


def test_folds_are_stratified_where_possible_and_out_of_fold() -> None:
    y = np.repeat([0, 1, 2], [50, 30, 20])
    folds, strat = cv_folds(y, 5, seed=0)
    assert strat
    for train, test in folds:
        assert not set(train) & set(test)
        np.testing.assert_array_equal(np.bincount(y[test]), [10, 6, 4])
    assert sorted(np.concatenate([t for _, t in folds]).tolist()) == list(range(100))
    _, strat = cv_folds(np.r_[y, 3, 3], 5, seed=0)  # class 3 has 2 < 5 samples
    assert not strat
    # out-of-fold: each row predicted by a fit that did not see it (differs from the full fit)
    z, yy = _data(100, 3, 3, sharpen=2.0)
    oof = cross_val_predict_proba("ts", logits=z, labels=yy, cv=5)
    full = get_calibrator("ts").fit(logits=z, labels=yy).predict_proba(logits=z)
    assert oof.shape == full.shape and not np.allclose(oof, full)
    rep = cross_val_nll("ts", logits=z, labels=yy, cv=5)
    assert rep["cv_nll"] == pytest.approx(np.mean(label_nll(oof, yy)))
    assert rep["identity_cv_nll"] == pytest.approx(np.mean(label_nll(softmax(z, axis=1), yy)))


def test_select_calibrator_picks_the_lowest_cv_nll() -> None:
    z, y = _data(300, 4, 4, sharpen=3.0)
    cal = select_calibrator(["ts", MatrixScaling(l2=0.0), "histogram"], logits=z, labels=y, cv=5)
    scores = cal.cv_report_["scores"]
    assert list(scores)[0] == "identity" and "MatrixScaling(l2=0.0)" in scores
    assert cal.cv_report_["chosen"] == min(scores, key=scores.get)
    assert isinstance(cal, TemperatureScaling)  # one parameter wins on 300 samples
    # on calibrated data with a tiny validation set nothing beats the identity
    z, y = _data(60, 4, 5)
    picked = select_calibrator(["matrix", "histogram", "isotonic"], logits=z, labels=y, cv=3)
    assert isinstance(picked, IdentityCalibrator)
    with pytest.raises(ValueError, match=r"calibrators\[1\]: unknown calibrator 'nope'"):
        select_calibrator(["ts", "nope"], logits=z, labels=y)
    with pytest.raises(ValueError, match="calibrators: expected a non-empty list"):
        select_calibrator("ts", logits=z, labels=y)  # type: ignore[arg-type]


def test_compare_calibrators_rows_and_table() -> None:
    zv, yv = _data(800, 4, 6, sharpen=3.0)
    zt, yt = _data(1000, 4, 7, sharpen=3.0)
    rows = compare_calibrators(
        ["ts", "histogram", "vector"],
        val_logits=zv,
        val_labels=yv,
        test_probs=softmax(zt, axis=1),
        test_labels=yt,
        n_boot=30,
        seed=1,
    )
    assert [r["method"] for r in rows] == ["identity", "ts", "histogram", "vector"]
    ident, ts, hist, vec = rows
    for r in rows:
        for m in COMPARE_MEASURES:
            v, lo, hi = r[m]
            assert np.isfinite(v) and lo <= hi
        assert r["fitted"] and not r["fell_back"] and r["fit_seconds"] >= 0
        assert r["accuracy_before"] == pytest.approx(ident["accuracy"][0])
    assert ts["accuracy"][0] == ident["accuracy"][0] and ts["argmax_changed"] == 0
    assert ts["accuracy_preserving"] and not hist["accuracy_preserving"]
    assert ts["nll"][0] < ident["nll"][0] and ts["ece"][0] < ident["ece"][0]
    # TS keeps each row's argmax but not the order of max-probabilities across rows, so its
    # AUROC differs from the identity's; binned confidences tie, a coarser ranking
    assert hist["auroc"][0] < ts["auroc"][0]  # binned confidences tie: a worse ranking
    text = format_calibration_table(rows, title="toy")
    lines = text.splitlines()
    assert lines[0] == "toy" and lines[1].startswith("method") and len(lines) == 3 + len(rows)
    assert "ECE %" in lines[1] and "AURC" in lines[1]
    # same seed, same numbers
    again = compare_calibrators(
        ["ts"],
        val_logits=zv,
        val_labels=yv,
        test_probs=softmax(zt, axis=1),
        test_labels=yt,
        n_boot=30,
        seed=1,
    )
    assert again[1]["ece"] == ts["ece"]


def test_compare_with_cv_marks_the_fallback() -> None:
    zv, yv = _data(80, 6, 8)
    zt, yt = _data(300, 6, 9)
    with pytest.warns(UserWarning, match="returning the identity"):
        rows = compare_calibrators(
            [MatrixScaling(l2=0.0)],
            val_logits=zv,
            val_labels=yv,
            test_logits=zt,
            test_labels=yt,
            cv=4,
            n_boot=10,
        )
    assert rows[1]["fell_back"] and not rows[1]["fitted"]
    assert rows[1]["cv_nll"] > rows[1]["identity_cv_nll"]
    assert rows[1]["nll"] == rows[0]["nll"]  # the identity's predictions
    assert "* fell back to the identity" in format_calibration_table(rows)


def test_compare_bad_input_names_the_split() -> None:
    zv, yv = _data(50, 3, 10)
    with pytest.raises(ValueError, match="test_logits: expected 3 columns"):
        compare_calibrators(
            ["ts"],
            val_logits=zv,
            val_labels=yv,
            test_logits=np.zeros((5, 4)),
            test_labels=np.zeros(5, int),
        )
    with pytest.raises(ValueError, match="val_labels: expected 50 labels"):
        compare_calibrators(
            ["ts"], val_logits=zv, val_labels=yv[:3], test_logits=zv, test_labels=yv
        )
    with pytest.raises(ValueError, match="val_logits: expected exactly one"):
        compare_calibrators(["ts"], val_labels=yv, test_logits=zv, test_labels=yv)
    with pytest.raises(ValueError, match=r"methods\[0\]: unknown calibrator 'tz'"):
        compare_calibrators(["tz"], val_logits=zv, val_labels=yv, test_logits=zv, test_labels=yv)
    with pytest.raises(ValueError, match="n_boot: expected a positive integer"):
        compare_calibrators(
            ["ts"],
            val_logits=zv,
            val_labels=yv,
            test_logits=zv,
            test_labels=yv,
            n_boot=float("nan"),
        )
    with pytest.raises(ValueError, match="ci_method"):
        compare_calibrators(
            ["ts"], val_logits=zv, val_labels=yv, test_logits=zv, test_labels=yv, ci_method="bca"
        )
    with pytest.raises(ValueError, match="rows: row 0 is not a compare_calibrators row"):
        format_calibration_table([{"method": "ts"}])
    with pytest.raises(ValueError, match="rows: expected a non-empty list"):
        format_calibration_table([])
    with pytest.raises(ValueError, match="methods: expected a non-empty list"):
        compare_calibrators([], val_logits=zv, val_labels=yv, test_logits=zv, test_labels=yv)


def test_cross_validated_calibrators_select_inside_fit() -> None:
    from samplescope.uncertainty import CrossValidatedCalibrator, DirichletCV

    z, y = _data(400, 4, 11, sharpen=2.5)
    cal = get_calibrator("dirichlet_cv", grid=(1e-2, 1.0), cv=4).fit(logits=z, labels=y)
    assert isinstance(cal, DirichletCV) and set(cal.cv_scores_) == {
        "identity",
        "DirichletCalibration(lam=0.01, mu=0.01)",
        "DirichletCalibration(lam=1.0, mu=1.0)",
    }
    assert cal.chosen_ == min(cal.cv_scores_, key=cal.cv_scores_.get)
    np.testing.assert_allclose(cal.predict_proba(logits=z), cal.selected_.predict_proba(logits=z))
    same = select_calibrator(
        [
            get_calibrator("dirichlet", lam=1e-2, mu=1e-2),
            get_calibrator("dirichlet", lam=1.0, mu=1.0),
        ],
        logits=z,
        labels=y,
        cv=4,
    )
    assert same.cv_report_["scores"] == cal.cv_scores_
    wrapped = CrossValidatedCalibrator(["ts", "vector"], cv=3).fit(
        probs=softmax(z, axis=1), labels=y
    )
    assert wrapped.chosen_ in {"identity", "ts", "vector"}
    with pytest.raises(ValueError, match="grid"):
        DirichletCV(grid=()).fit(logits=z, labels=y)
