"""The report contract, the privacy gate, and that no real record leaks into JSON, HTML or PDF."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_digits

import evaluation
from evaluation.report import FIDELITY_KEYS, PRIVACY_KEYS, _column_plot

from .conftest import population

CONTRACT = {
    "summary": {"quality_score", "privacy_score", "composition"},
    "utility": {"task", "metric", "tstr", "trtr", "ratio"},
    "fidelity": set(FIDELITY_KEYS),
    "privacy": set(PRIVACY_KEYS),
    "verdict": {"privacy_gate", "failed"},
}


def assert_contract(report: dict) -> None:
    assert report["schema"] == "synthreg.report/1"
    for section, keys in CONTRACT.items():
        assert keys <= set(report[section]), f"{section} lacks {keys - set(report[section])}"
    assert set(report["privacy"]["mia_auc"]) == {"distance", "density_ratio"}
    assert report["verdict"]["privacy_gate"] in ("pass", "fail")
    for score in ("quality_score", "privacy_score"):
        assert 0 <= report["summary"][score] <= 100
    json.dumps(report, allow_nan=False)


def test_contract_keys(copy_report, independent_report):
    assert set(FIDELITY_KEYS) == {
        "ks_complement", "tv_complement", "correlation_similarity", "mmd", "frechet", "kid",
        "precision", "recall", "density", "coverage", "alpha_precision", "beta_recall",
        "authenticity", "c2st_auc"}
    assert set(PRIVACY_KEYS) == {
        "dcr_share", "dcr_synthetic_p05", "dcr_holdout_p05", "nndr_p05", "exact_match_rate",
        "mia_auc", "singling_out_risk", "linkability_risk", "inference_risk", "epsilon"}
    for report in (copy_report, independent_report):
        assert_contract(report)
        assert report["privacy"]["epsilon"] is None  # not DP: null, not missing
        assert {"mean", "std", "by_model"} <= set(report["utility"]["tstr"])


def test_copies_fail_the_gate_and_look_perfect(copy_report):
    fid, priv, verdict = copy_report["fidelity"], copy_report["privacy"], copy_report["verdict"]
    assert fid["ks_complement"] == 1.0 and fid["tv_complement"] == 1.0
    assert fid["c2st_auc"] == pytest.approx(0.5, abs=0.05)
    assert priv["exact_match_rate"] == 1.0 and priv["dcr_share"] > 0.95
    assert verdict["privacy_gate"] == "fail"
    assert {"dcr_share", "exact_match_rate", "mia_auc.distance"} <= set(verdict["failed"])
    assert copy_report["utility"]["ratio"] == pytest.approx(1.0)


def test_independent_draws_pass_the_gate(independent_report):
    priv = independent_report["privacy"]
    assert independent_report["verdict"]["privacy_gate"] == "pass"
    assert independent_report["verdict"]["failed"] == []
    assert priv["exact_match_rate"] == 0.0 and abs(priv["dcr_share"] - 0.5) < 0.05
    assert independent_report["summary"]["privacy_score"] > 80


def test_scores_rank_copies_below_independent_draws(copy_report, independent_report):
    assert copy_report["summary"]["privacy_score"] < 50 < independent_report["summary"]["privacy_score"]


def test_thresholds_override_and_epsilon_budget(real, fast_options):
    train, holdout = real
    synthetic = population(700, seed=4)
    strict = evaluation.build_tabular_report(
        train, holdout, synthetic, target=None, thresholds={"dcr_share": 0.2},
        epsilon=3.0, epsilon_budget=1.0, **fast_options,
    )
    assert_contract(strict)
    assert strict["utility"]["tstr"] is None and strict["utility"]["ratio"] is None
    assert strict["privacy"]["epsilon"] == 3.0
    assert {"dcr_share", "epsilon"} <= set(strict["verdict"]["failed"])
    with pytest.raises(ValueError, match="unknown threshold"):
        evaluation.build_tabular_report(train, holdout, synthetic, target=None, thresholds={"dcr": 1})


def test_bad_tables_are_refused_with_the_column_named(real):
    train, holdout = real
    with pytest.raises(ValueError, match="missing column.*'b'"):
        evaluation.build_tabular_report(train, holdout, train.drop(columns="b"), target="label")
    with pytest.raises(ValueError, match="target column 'nope'"):
        evaluation.build_tabular_report(train, holdout, train, target="nope")
    with pytest.raises(ValueError, match="synthetic has fewer than 2 rows with a value in target column 'label'"):
        evaluation.build_tabular_report(train, holdout, train.assign(label=None), target="label")
    with pytest.raises(ValueError, match="'a' is numeric in real_train but categorical in synthetic"):
        evaluation.build_tabular_report(train, holdout, train.assign(a="x"), target="label")


def test_progress_is_monotone_and_ends_at_one(real, fast_options):
    train, holdout = real
    seen = []
    evaluation.build_tabular_report(train[:200], holdout[:200], population(200, seed=5), target="label",
                                    progress=lambda f, m: seen.append(f), **fast_options)
    assert seen[-1] == 1.0 and seen == sorted(seen) and len(seen) > 5


def _numbers(value) -> set[float]:
    if isinstance(value, dict):
        return set().union(*map(_numbers, value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*map(_numbers, value)) if value else set()
    return {value} if isinstance(value, float) else set()


def test_report_holds_no_real_value(independent_report, real):
    train, _ = real
    assert not _numbers(independent_report) & set(train[["a", "b", "c"]].to_numpy().ravel())


def test_rare_real_categories_and_real_extremes_stay_out_of_plots():
    real = pd.Series(["common"] * 50 + ["Zebulon-Q"] * 2)
    synthetic = pd.Series(["common"] * 40 + ["new"] * 3)
    bars = _column_plot(real, synthetic)
    assert "Zebulon-Q" not in bars["labels"] and "(other)" in bars["labels"]
    hist = _column_plot(pd.Series([-1000.0, 0.5, 0.6]), pd.Series([0.0, 1.0, 0.4]))
    assert hist["edges"][0] == 0.0 and hist["edges"][-1] == 1.0
    assert sum(hist["real"]) == pytest.approx(1.0)  # the outlier is counted, at the edge


def test_html_and_pdf_are_self_contained(copy_report, independent_report, tmp_path):
    for report in (copy_report, independent_report):
        page = evaluation.render_html(report)
        assert page.count("<svg") >= 4 and "<script" not in page
        assert 'src="http' not in page and 'href="http' not in page and "<link" not in page
        for check in report["verdict"]["checks"]:
            assert check["name"] in page
        path = tmp_path / "report.pdf"
        evaluation.render_pdf(report, path)
        assert path.read_bytes().startswith(b"%PDF") and path.stat().st_size > 5000


@pytest.fixture(scope="module")
def digits_report():
    digits = load_digits()
    images, labels = digits.images, digits.target
    rng = np.random.default_rng(0)
    order = rng.permutation(len(images))
    tr, ho = order[:500], order[500:1000]
    # "Synthetic": real digits from a third disjoint part, blurred a little by noise.
    sy = order[1000:1500]
    synthetic = np.clip(images[sy] + rng.normal(0, 1.0, images[sy].shape), 0, 16)
    return evaluation.build_image_report(
        images[tr], labels[tr], images[ho], labels[ho], synthetic, labels[sy],
        seeds=(0,), fidelity_rows=500,
    ), images[tr]


def test_image_report(digits_report):
    report, train_images = digits_report
    assert_contract(report)
    assert report["kind"] == "image"
    assert report["privacy"]["singling_out_risk"] is None and report["fidelity"]["tv_complement"] is None
    assert report["fidelity"]["features"]["seed"] == 0 and len(report["fidelity"]["features"]["weights_sha256"]) == 64
    assert report["utility"]["trtr"]["mean"] > 0.8 and report["utility"]["ratio"] > 0.7
    assert report["verdict"]["privacy_gate"] == "pass"
    samples = np.array(report["details"]["samples"]["images"])
    assert samples.shape == (25, 8, 8)
    # The sample grid shows synthetic images only.
    flat_train = train_images.reshape(len(train_images), -1)
    assert not any((flat_train == s.ravel()).all(1).any() for s in samples)
    assert "<svg" in evaluation.render_html(report)


def test_image_report_flags_copied_digits():
    digits = load_digits()
    images, labels = digits.images[:600], digits.target[:600]
    report = evaluation.build_image_report(
        images[:300], labels[:300], images[300:600], labels[300:600], images[:300].copy(), labels[:300],
        seeds=(0,), fidelity_rows=300, models=("linear",),
    )
    assert report["verdict"]["privacy_gate"] == "fail"
    assert report["privacy"]["exact_match_rate"] == 1.0 and report["fidelity"]["authenticity"] == 0.0
