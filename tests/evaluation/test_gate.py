"""The privacy gate: copies fail however they are dressed up; independent real data never fails."""

from __future__ import annotations

import json
import math
from html import escape

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from sklearn import datasets

import evaluation
from evaluation import metrics
from evaluation.gate import judge
from evaluation.stats import null_auc_se

from .conftest import population

FAST = {"seeds": (0,), "models": ("linear",), "fidelity_rows": 300, "n_attacks": 200}
WORDS = np.array([f"zq{i}x" for i in range(400)])


def real_table(name: str) -> tuple[pd.DataFrame, str]:
    if name == "fair":
        return sm.datasets.fair.load_pandas().data, "affairs"
    return getattr(datasets, f"load_{name}")(as_frame=True).frame, "target"


def three_samples(frame: pd.DataFrame, rows: int, seed: int) -> list[pd.DataFrame]:
    """Disjoint samples: real train, real holdout, and an independent real sample as "synthetic"."""
    order = np.random.default_rng(seed).permutation(len(frame))
    return [frame.iloc[order[i * rows:(i + 1) * rows]].reset_index(drop=True) for i in range(3)]


def gate_checks(report: dict) -> dict[str, dict]:
    return {c["name"]: c for c in report["verdict"]["checks"] if c["gate"]}


@pytest.mark.parametrize("name", ["iris", "wine", "breast_cancer", "diabetes", "fair"])
@pytest.mark.parametrize("rows", [10, 147, 2000])
def test_independent_real_samples_never_fail(name, rows):
    frame, target = real_table(name)
    rows = min(rows, len(frame) // 3)
    for seed in (0, 1):
        train, holdout, other = three_samples(frame, rows, seed)
        report = evaluation.build_tabular_report(train, holdout, other, target=target, random_state=seed, **FAST)
        verdict = report["verdict"]
        assert verdict["privacy_gate"] in ("pass", "inconclusive"), verdict["failed"]
        assert verdict["failed"] == []
        for item in verdict["inconclusive"]:
            assert item["reason"] and (item["rows_needed"] is None or item["rows_needed"] > 0)


def test_a_large_independent_sample_passes():
    train, holdout, other = three_samples(*real_table("fair")[:1], 2000, 0)
    report = evaluation.build_tabular_report(train, holdout, other, target="affairs", **FAST | {"n_attacks": 600})
    assert report["verdict"]["privacy_gate"] == "pass" and report["verdict"]["inconclusive"] == []
    assert report["summary"]["privacy_score"] > 80


def test_tiny_tables_are_inconclusive_with_the_size_needed(tmp_path):
    train, holdout, other = three_samples(*real_table("iris")[:1], 10, 0)
    report = evaluation.build_tabular_report(train, holdout, other, target="target", **FAST)
    verdict = report["verdict"]
    assert verdict["privacy_gate"] == "inconclusive"
    unsure = {i["check"]: i for i in verdict["inconclusive"]}
    assert unsure["mia_auc.density_ratio"]["rows_needed"] == 20  # too few rows to fit its reference density
    needed = unsure["mia_auc.distance"]["rows_needed"]
    z = verdict["intervals"]["z"]
    margin = metrics.get("mia_auc").clear_leak - 0.5
    # At the size named, the AUC interval of chance is as narrow as the clear-leak margin; one row less is not.
    assert z * null_auc_se(needed, needed) <= margin * 1.01
    assert needed > 10 and z * null_auc_se(needed // 2, needed // 2) > margin
    # Checks without a value (the density attack) render too, with their reasons.
    page = evaluation.render_html(report)
    assert "INCONCLUSIVE" in page and escape(unsure["mia_auc.density_ratio"]["reason"]) in page
    evaluation.render_pdf(report, tmp_path / "r.pdf")


@pytest.mark.parametrize("rows", [10, 100])
def test_a_copy_fails_even_on_a_tiny_table(rows):
    train, holdout, _ = three_samples(*real_table("iris")[:1], rows, 0)
    report = evaluation.build_tabular_report(train, holdout, train.copy(), target="target", **FAST)
    assert report["verdict"]["privacy_gate"] == "fail"
    assert "exact_match_excess" in report["verdict"]["failed"]


def with_ids(frame: pd.DataFrame, start: int) -> pd.DataFrame:
    return frame.assign(record=[f"rec-{start + i:07d}" for i in range(len(frame))])


def sentences(rng: np.random.Generator, n: int) -> list[str]:
    return [" ".join(rng.choice(WORDS, rng.integers(5, 12))) for _ in range(n)]


@pytest.fixture(scope="module")
def dressed_copies():
    """Copies of the training rows with a fresh per-row id, or with fresh free text."""
    rng = np.random.default_rng(0)
    train, holdout = population(400, 1), population(400, 2)
    cases = {
        "id": (with_ids(train, 0), with_ids(holdout, 400), with_ids(train, 9_000_000)),
        "free text": (train.assign(note=sentences(rng, 400)), holdout.assign(note=sentences(rng, 400)),
                      train.assign(note=sentences(rng, 400))),
    }
    return {case: (tables, evaluation.build_tabular_report(*tables, target="label", **FAST))
            for case, tables in cases.items()}


@pytest.mark.parametrize(("case", "column", "kind"), [("id", "record", "identifier"), ("free text", "note", "free_text")])
def test_a_copy_with_an_id_or_free_text_column_fails_on_the_other_columns(dressed_copies, case, column, kind):
    (train, _, synthetic), report = dressed_copies[case]
    priv, verdict = report["privacy"], report["verdict"]
    assert [(e["column"], e["kind"]) for e in priv["excluded_columns"]] == [(column, kind)]
    assert verdict["privacy_gate"] == "fail"
    assert {"exact_match_excess", "dcr_share", "mia_auc.distance"} <= set(verdict["failed"])
    # The rest of each row is a copy: every synthetic row is an exact match there, and at distance 0.
    assert priv["exact_match_rate"] == 1.0 and priv["dcr_share"] == 1.0
    assert report["summary"]["privacy_score"] < 20
    assert column not in report["details"]["columns"] and column not in report["fidelity"]["columns"]
    # No value of the left-out column reaches the report or its page.
    page = evaluation.render_html(report)
    for text in (json.dumps(report), page):
        assert "rec-" not in text and "zq" not in text


def test_without_the_screen_fresh_ids_would_hide_the_copy():
    """The failure the screen fixes: fresh ids make copies look like holdout rows in an "other" slot."""
    from evaluation.distances import knn
    from evaluation.encoding import TableEncoder
    from evaluation.privacy import closer_share

    train, holdout = with_ids(population(300, 1), 0), with_ids(population(300, 2), 300)
    synthetic = with_ids(population(300, 1), 5_000_000)
    old = TableEncoder.fit(train)  # categories of the training rows only
    to_train, _ = knn(old.transform(synthetic), old.transform(train))
    to_holdout, _ = knn(old.transform(synthetic), old.transform(holdout))
    assert closer_share(to_train[:, 0], to_holdout[:, 0]) < 0.05  # copies judged "closer to holdout"
    report = evaluation.build_tabular_report(train, holdout, synthetic, target="label", **FAST)
    assert report["privacy"]["dcr_share"] == 1.0 and report["verdict"]["privacy_gate"] == "fail"


def test_one_column_made_far_off_cannot_hide_a_copy():
    frame, _ = real_table("iris")
    train, holdout, _ = three_samples(frame, 50, 0)
    synthetic = train.assign(**{"sepal length (cm)": 1e9})
    report = evaluation.build_tabular_report(train, holdout, synthetic, target="target", **FAST)
    assert report["privacy"]["exact_match_rate"] == 0.0
    assert report["verdict"]["privacy_gate"] == "fail"
    assert "dcr_share_worst_subset" in report["verdict"]["failed"]
    assert "sepal length (cm)" not in report["privacy"]["dcr_worst_subset_columns"]


PATTERNS = np.array([[1, 2, 3, 1], [2, 2, 2, 2], [3, 1, 1, 2], [1, 1, 1, 1], [4, 3, 2, 1]], float)


def survey(n: int, seed: int) -> pd.DataFrame:
    """35% of respondents give one of five common answer patterns, the rest answer freely."""
    rng = np.random.default_rng(seed)
    answers = rng.normal(2.5, 1, (n, 4)).round(3)
    common = rng.random(n) < 0.35
    answers[common] = PATTERNS[rng.integers(0, 5, common.sum())]
    return pd.DataFrame(answers, columns=["q1", "q2", "q3", "q4"]).assign(group=rng.choice(["a", "b"], n))


def test_real_repeats_do_not_fail_exact_matches_but_extra_copies_do():
    train, holdout = survey(1000, 1), survey(1000, 2)
    independent = evaluation.build_tabular_report(train, holdout, survey(1000, 3), target="group", **FAST)
    priv, exact = independent["privacy"], gate_checks(independent)["exact_match_excess"]
    assert priv["exact_match_rate"] > 0.3 and priv["exact_match_rate_holdout"] > 0.3
    assert exact["value"] == pytest.approx(priv["exact_match_rate"] - priv["exact_match_rate_holdout"])
    assert exact["status"] == "pass" and independent["verdict"]["privacy_gate"] != "fail"
    # A fifth of the synthetic rows copied on top of the real repeat rate: that is a leak.
    leaky = pd.concat([train.iloc[:200], survey(800, 3)], ignore_index=True)
    report = evaluation.build_tabular_report(train, holdout, leaky, target="group", **FAST)
    exact = gate_checks(report)["exact_match_excess"]
    assert exact["status"] == "fail" and exact["ci"][0] > 0


def test_the_check_rules():
    base = {"null_half_width": 0.02, "rows": 500}
    fail, why = judge("dcr_share", base | {"value": 0.6, "ci": [0.58, 0.62]}, 0.55)
    assert fail["status"] == "fail" and why is None
    # Past the threshold but within noise of the ideal: not a failure.
    noisy, _ = judge("dcr_share", {"value": 0.6, "ci": [0.45, 0.75], "null_half_width": 0.15, "rows": 40}, 0.55)
    assert noisy["status"] == "inconclusive"
    # Surely above the ideal but below the threshold: a pass.
    small, _ = judge("dcr_share", base | {"value": 0.53, "ci": [0.51, 0.55]}, 0.55)
    assert small["status"] == "pass"
    # Clear evidence wins over a small sample.
    clear, _ = judge("mia_auc.distance", {"value": 1.0, "ci": [0.7, 1.0], "null_half_width": 0.3, "rows": 10}, 0.6)
    assert clear["status"] == "fail"
    wide, why = judge("dcr_share", {"value": 0.5, "ci": [0.3, 0.7], "null_half_width": 0.2, "rows": 30}, 0.55)
    assert wide["status"] == "inconclusive" and why["rows_needed"] == math.ceil(30 * (0.2 / 0.1) ** 2)
    missing, why = judge("inference_risk", None, 0.1)
    assert missing["status"] == "inconclusive" and why["check"] == "inference_risk"


def test_a_renamed_threshold_is_refused_with_its_new_name(real):
    train, holdout = real
    with pytest.raises(ValueError, match="'exact_match_rate' is now exact_match_excess"):
        evaluation.build_tabular_report(train, holdout, train, target="label",
                                        thresholds={"exact_match_rate": 0.16})


def test_one_extreme_real_value_cannot_make_an_independent_sample_fail():
    """An outlier in the holdout alone once blunted anonymeter's control attacks (scaled by its range)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(240, 3))
    frame = pd.DataFrame(x, columns=["a", "b", "c"]).assign(target=(x[:, 0] + 0.5 * x[:, 1] > 0).astype(int))
    train, holdout, other = frame.iloc[:80].copy(), frame.iloc[80:160].copy(), frame.iloc[160:].copy()
    holdout.iloc[0, 0] = 987654.321
    report = evaluation.build_tabular_report(train, holdout, other, target="target", **FAST)
    assert report["verdict"]["failed"] == []
    inference = report["privacy"]["inference_risk"]["success_rate"]
    assert abs(inference["train"] - inference["control"]) < 0.1
