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
    "verdict": {"privacy_gate", "failed", "inconclusive", "checks", "intervals"},
}


def assert_contract(report: dict) -> None:
    assert report["schema"] == "synthreg.report/1"
    for section, keys in CONTRACT.items():
        assert keys <= set(report[section]), f"{section} lacks {keys - set(report[section])}"
    assert set(report["privacy"]["mia_auc"]) == {"distance", "density_ratio"}
    assert report["verdict"]["privacy_gate"] in ("pass", "fail", "inconclusive")
    for check in report["verdict"]["checks"]:
        assert check["status"] in ("pass", "fail", "inconclusive")
        if check["gate"] and check["name"] != "epsilon" and check["value"] is not None:
            low, high = check["ci"]
            assert low <= check["value"] <= high
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
    assert {"dcr_share", "exact_match_excess", "mia_auc.distance", "linkability_risk"} <= set(verdict["failed"])
    assert copy_report["utility"]["ratio"] == pytest.approx(1.0)


def test_independent_draws_pass_the_gate(independent_report):
    priv = independent_report["privacy"]
    assert independent_report["verdict"]["privacy_gate"] == "pass"
    assert independent_report["verdict"]["failed"] == independent_report["verdict"]["inconclusive"] == []
    assert priv["exact_match_rate"] == 0.0 and abs(priv["dcr_share"] - 0.5) < 0.05
    assert independent_report["summary"]["privacy_score"] > 80


def test_scores_rank_copies_below_independent_draws(copy_report, independent_report):
    assert copy_report["summary"]["privacy_score"] < 50 < independent_report["summary"]["privacy_score"]


def test_thresholds_override_and_epsilon_budget(real, fast_options):
    train, holdout = real
    # A third of the rows copied: a DCR share near 2/3, past the default 0.55.
    synthetic = pd.concat([train.iloc[:233], population(467, seed=4)], ignore_index=True)
    lenient = evaluation.build_tabular_report(
        train, holdout, synthetic, target=None, thresholds={"dcr_share": 0.8},
        epsilon=3.0, epsilon_budget=1.0, **fast_options,
    )
    assert_contract(lenient)
    assert lenient["utility"]["tstr"] is None and lenient["utility"]["ratio"] is None
    assert lenient["privacy"]["epsilon"] == 3.0
    checks = {c["name"]: c for c in lenient["verdict"]["checks"]}
    assert 0.6 < checks["dcr_share"]["value"] < 0.8 and checks["dcr_share"]["threshold"] == 0.8
    assert checks["dcr_share"]["status"] == "pass" and checks["dcr_share"]["ci"][0] > 0.5
    assert {"epsilon", "exact_match_excess"} <= set(lenient["verdict"]["failed"])
    default = evaluation.build_tabular_report(train, holdout, synthetic, target=None, **fast_options)
    assert "dcr_share" in default["verdict"]["failed"]
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


def test_report_holds_no_real_value(independent_report, copy_report, real):
    train, _ = real
    for report in (independent_report, copy_report):
        assert not _numbers(report) & set(train[["a", "b", "c"]].to_numpy().ravel())


def test_rare_real_categories_and_real_extremes_stay_out_of_plots():
    real = pd.Series(["common"] * 50 + ["Zebulon-Q"] * 2 + ["Yolanda-R"])
    holdout = pd.Series(["common"] * 20 + ["Xavier-S"] + ["Yolanda-R"] * 9)
    # The synthetic data copies rare real labels (one from the holdout only) and adds a label of its own.
    synthetic = pd.Series(["common"] * 40 + ["new"] * 3 + ["Zebulon-Q", "Xavier-S", "Yolanda-R"])
    bars = _column_plot(real, synthetic, holdout=holdout)
    assert not {"Zebulon-Q", "Xavier-S"} & set(bars["labels"]) and "(other)" in bars["labels"]
    assert {"common", "new", "Yolanda-R"} <= set(bars["labels"])  # 10 real rows share Yolanda-R
    restricted = _column_plot(real, synthetic, holdout=holdout, synthetic_labels=False)
    assert set(restricted["labels"]) == {"common", "Yolanda-R", "(other)"}
    hist = _column_plot(pd.Series([-1000.0, 0.5, 0.6]), pd.Series([0.0, 1.0, 0.4]))
    assert hist["edges"][0] == 0.0 and hist["edges"][-1] == 1.0
    assert sum(hist["real"]) == pytest.approx(1.0)  # the outlier is counted, at the edge
    # Edges are round numbers, never a record's value (even when the synthetic data copies one).
    copied = _column_plot(pd.Series([987654.321, 1.0]), pd.Series([987654.321, 12.5]))
    assert copied["edges"][0] == 0.0 and copied["edges"][-1] == 990000.0
    single = _column_plot(pd.Series([987654.321]), pd.Series([987654.321, 987654.321]))
    assert not any("987654" in repr(edge) for edge in single["edges"])


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


def rms_to_closest(images: np.ndarray, real: np.ndarray) -> np.ndarray:
    """Root-mean-square pixel difference of each image to its closest real image, over the range 0..16."""
    from scipy.spatial.distance import cdist

    flat = images.reshape(len(images), -1)
    return cdist(flat, real.reshape(len(real), -1)).min(1) / np.sqrt(flat.shape[1]) / 16


def test_real_digits_as_synthetic_leave_no_real_image_in_the_report():
    digits = load_digits()
    images, labels = digits.images, digits.target
    rng = np.random.default_rng(0)
    # "Synthetic": holdout digits as they are, and training digits with faint noise.
    synthetic = np.r_[images[300:450], np.clip(images[:150] + rng.normal(0, 0.3, (150, 8, 8)), 0, 16)]
    report = evaluation.build_image_report(
        images[:300], labels[:300], images[300:600], labels[300:600], synthetic, labels[150:450],
        seeds=(0,), fidelity_rows=300, models=("linear",),
    )
    samples = report["details"]["samples"]
    assert samples["images"] == [] and samples["labels"] == []
    assert samples["dropped_near_copies"] == 300 and samples["tolerance"]["max"] == 1 / 16
    page = evaluation.render_html(report)
    assert "synthetic samples" not in page.lower()
    assert report["verdict"]["privacy_gate"] == "fail"


def test_near_copies_are_dropped_from_the_samples_and_the_rest_kept():
    digits = load_digits()
    images, labels = digits.images, digits.target
    rng = np.random.default_rng(1)
    real = images[:600]
    # Ten training digits copied outright, then new digits: real ones never trained on, made noisy.
    fresh = np.clip(images[600:700] + rng.normal(0, 1.5, (100, 8, 8)), 0, 16)
    synthetic = np.r_[images[:10], fresh]
    report = evaluation.build_image_report(
        images[:300], labels[:300], images[300:600], labels[300:600], synthetic, np.r_[labels[:10], labels[600:700]],
        seeds=(0,), fidelity_rows=110, models=("linear",), n_samples=25,
    )
    samples = report["details"]["samples"]
    shown = np.array(samples["images"])
    assert len(shown) == 25
    assert (rms_to_closest(shown, real) > 1 / 16).all()
    examined = synthetic[: 25 + samples["dropped_near_copies"]]
    assert samples["dropped_near_copies"] == int((rms_to_closest(examined, real) <= 1 / 16).sum()) >= 10
    hidden = evaluation.build_image_report(
        images[:300], labels[:300], images[300:600], labels[300:600], synthetic, np.r_[labels[:10], labels[600:700]],
        seeds=(0,), fidelity_rows=110, models=("linear",), include_samples=False,
    )
    assert hidden["details"]["samples"] is None
    assert "synthetic samples" not in evaluation.render_html(hidden).lower()


def test_non_finite_values_are_refused_in_one_line_naming_table_and_column(real):
    train, holdout = real
    broken = train.assign(b=np.where(np.arange(len(train)) == 3, np.inf, train["b"]))
    for args, where in (((broken, holdout, train), "real_train column 'b'"),
                        ((train, holdout, broken.assign(b=-broken["b"])), "synthetic column 'b'")):
        with pytest.raises(ValueError, match="holds infinite values") as caught:
            evaluation.build_tabular_report(*args, target="label")
        assert where in str(caught.value) and "\n" not in str(caught.value)
    # Missing values stay allowed: NaN means missing.
    evaluation.validate_tables(train.assign(b=np.nan), holdout, train, "label")
    digits = load_digits()
    images = digits.images[:40].copy()
    images[5, 2, 2] = np.nan
    with pytest.raises(ValueError, match="synthetic images hold non-finite pixels"):
        evaluation.build_image_report(digits.images[:40], digits.target[:40], digits.images[40:80],
                                      digits.target[40:80], images, digits.target[:40])
    with pytest.raises(ValueError, match="real_holdout images are not numbers"):
        evaluation.build_image_report(digits.images[:40], digits.target[:40], [[["x"]]] * 3,
                                      digits.target[:3], images, digits.target[:40])


def test_identifier_labels_stay_out_of_plots_and_synthetic_labels_out_of_restricted_reports(fast_options):
    train, holdout = population(300, 1), population(300, 2)
    train, holdout = (t.assign(record=[f"rec-{i:05d}" for i in range(start, start + 300)])
                      for t, start in ((train, 0), (holdout, 300)))
    synthetic = population(300, 3).assign(record=[f"rec-{i:05d}" for i in range(300)],
                                          group=lambda t: np.where(t.index < 20, "invented", t["group"]))
    report = evaluation.build_tabular_report(train, holdout, synthetic, target="label", include_samples=False,
                                             **fast_options | {"models": ("linear",)})
    assert "record" not in report["details"]["columns"]
    assert "invented" not in report["details"]["columns"]["group"]["labels"]
    page = evaluation.render_html(report)
    assert "rec-" not in page and "rec-" not in json.dumps(report) and "invented" not in page


def test_tiny_and_nearly_constant_tables_give_a_report_not_a_traceback(real):
    train, holdout = real
    fast = {"seeds": (0,), "models": ("linear",), "n_attacks": 50, "fidelity_rows": 200}
    two_rows = evaluation.build_tabular_report(train, holdout, population(2, seed=7), target=None, **fast)
    assert two_rows["fidelity"]["c2st_auc"] is None and two_rows["verdict"]["privacy_gate"] == "inconclusive"
    # One column of two values: no attack needs a second column, none is asked for.
    one = evaluation.build_tabular_report(train[["group"]], holdout[["group"]], population(300, 8)[["group"]],
                                          target=None, **fast)
    names = {c["name"] for c in one["verdict"]["checks"]}
    assert "linkability_risk" not in names and "inference_risk" not in names
    assert one["verdict"]["failed"] == [] and one["fidelity"]["c2st_auc"] is None


def test_the_pdf_opens_with_a_title_block_rounded_scores_and_the_gate(copy_report, tmp_path):
    from evaluation.pdf import _summary_page

    report = {**copy_report, "subject": {"version": "faces@v3", "reference": "real-faces@v1", "date": "2026-12-01"}}
    texts = [t.get_text() for t in _summary_page(report).texts]
    for expected in ("faces", "v3", "real-faces@v1", "2026-12-01", "FAIL", str(report["evaluation_version"])):
        assert any(expected in text for text in texts), expected
    quality = report["summary"]["quality_score"]
    assert f"{quality:.3g}" in texts and not any(repr(float(quality)) in t for t in texts if len(repr(float(quality))) > 6)
    failed = [c["name"] for c in report["verdict"]["checks"] if c["status"] == "fail"]
    assert failed and all(name in texts for name in failed)
    evaluation.render_pdf(report, tmp_path / "r.pdf")
    assert (tmp_path / "r.pdf").read_bytes().count(b"/Type /Page") - 1 == 1 + len(evaluation.plots.figures(report))
