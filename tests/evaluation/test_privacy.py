"""Privacy metrics on copies (maximal leak) and independent draws (no leak), and against SDMetrics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sdmetrics.single_table import DCRBaselineProtection, DCROverfittingProtection

from evaluation import privacy
from evaluation.distances import knn

from .conftest import population


@pytest.fixture
def points():
    rng = np.random.default_rng(0)
    return rng.normal(size=(600, 4)), rng.normal(size=(600, 4)), rng.normal(size=(600, 4))


def test_closer_share_counts_ties_half():
    assert privacy.closer_share(np.array([0.0, 1.0, 2.0, 3.0]), np.array([1.0, 1.0, 1.0, 1.0])) == 0.375


def test_dcr_share_of_copies_is_near_one_and_of_independent_draws_near_half(points):
    train, holdout, fresh = points
    copies = privacy.dcr_metrics(train, holdout, train.copy())
    assert copies["dcr_share"] == 1.0 and copies["dcr_synthetic_p05"] == 0.0
    assert copies["dcr_holdout_p05"] > 0
    independent = privacy.dcr_metrics(train, holdout, fresh)
    assert independent["dcr_share"] == pytest.approx(0.5, abs=0.06)
    assert independent["nndr_p05"] > copies["nndr_p05"]


def test_worst_column_subset_finds_a_leak_in_a_few_columns():
    rng = np.random.default_rng(1)
    train, holdout = rng.normal(size=(500, 12)), rng.normal(size=(500, 12))
    synthetic = rng.normal(size=(500, 12))
    synthetic[:, :6] = train[:, :6]  # six copied columns, diluted among twelve
    groups = {f"c{i}": [i] for i in range(12)}
    out = privacy.dcr_metrics(train, holdout, synthetic, groups=groups, n_subsets=16)
    assert out["dcr_share"] < 0.55  # the full-width share misses the leak
    assert out["dcr_share_worst_subset"] > 0.9
    assert set(out["dcr_worst_subset_columns"]) <= {f"c{i}" for i in range(6)}


def test_exact_match_rate():
    train = population(50, seed=0)
    synthetic = pd.concat([train.iloc[:10], population(30, seed=1)], ignore_index=True)
    assert privacy.exact_match_rate(train, synthetic) == 0.25
    assert privacy.exact_match_rate(train, train) == 1.0


def test_membership_inference_auc_detects_copies_only(points):
    train, holdout, fresh = points
    assert privacy.mia_distance_auc(train, holdout, train.copy()) > 0.9
    assert privacy.mia_distance_auc(train, holdout, fresh) == pytest.approx(0.5, abs=0.06)
    # Copies with a little noise: the synthetic density peaks at the members.
    leaky = train + np.random.default_rng(2).normal(0, 0.05, train.shape)
    assert privacy.mia_density_ratio_auc(train, holdout, leaky) > 0.65
    assert privacy.mia_density_ratio_auc(train, holdout, fresh) == pytest.approx(0.5, abs=0.08)


def _sd_metadata(frame: pd.DataFrame) -> dict:
    return {"columns": {c: {"sdtype": "categorical" if frame[c].dtype == object else "numerical"}
                        for c in frame}}


def test_dcr_scores_equal_sdmetrics():
    train, holdout, synthetic = (population(150, seed=s) for s in (0, 1, 2))
    synthetic.iloc[:20] = train.iloc[:20].to_numpy()  # some leaked rows
    metadata = _sd_metadata(train)
    expected = DCROverfittingProtection.compute_breakdown(train, synthetic, holdout, metadata, None)
    assert privacy.dcr_overfitting_protection(train, synthetic, holdout, ["group", "label"]) == expected

    DCRBaselineProtection._seed = 7
    try:
        expected = DCRBaselineProtection.compute_breakdown(train, synthetic, metadata, None)
    finally:
        DCRBaselineProtection._seed = None
    assert privacy.dcr_baseline_protection(train, synthetic, ["group", "label"], seed=7) == expected


def test_uniform_baseline_is_sdmetrics_random_table():
    real = population(100, seed=0)
    DCRBaselineProtection._seed = 3
    try:
        expected = DCRBaselineProtection._generate_random_data(real, 80)
    finally:
        DCRBaselineProtection._seed = None
    pd.testing.assert_frame_equal(privacy.uniform_baseline(real, 80, seed=3), expected)


def test_anonymeter_risks_have_intervals():
    train, holdout = population(300, seed=0), population(300, seed=1)
    risks = privacy.anonymeter_risks(train, holdout, train.copy(), secret="label", n_attacks=100)
    for key in ("singling_out_risk", "linkability_risk", "inference_risk"):
        risk = risks[key]
        assert risk is not None and risk["ci"][0] <= risk["value"] <= risk["ci"][1]
    assert risks["linkability_risk"]["value"] > 0.5  # copies link every split record


def test_random_baseline_is_zero_for_copies_and_one_for_random_rows():
    from evaluation.encoding import TableEncoder

    train = population(300, seed=0)
    encode = TableEncoder.fit(train).transform
    copies = privacy.random_baseline(0.0, train, encode, n=300)
    assert copies["score"] == 0.0 and copies["random_median"] > 0
    random_rows = privacy.uniform_baseline(train, 300, seed=9)
    d, _ = knn(encode(random_rows), encode(train))
    assert privacy.random_baseline(float(np.median(d)), train, encode, n=300)["score"] == pytest.approx(1.0, abs=0.15)
