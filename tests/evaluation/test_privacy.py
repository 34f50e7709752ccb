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


def test_closer_share_treats_float_noise_as_a_tie():
    assert privacy.closer_share(np.array([0.3]), np.array([0.1 + 0.2])) == 0.5


def test_share_null_sd_equals_the_closed_form_without_ties():
    # Without ties a synthetic row scores the side of its nearest real row, so the share is
    # sum(w_j L_j) / W over a random half L of the pooled rows: a sum drawn without replacement.
    rng = np.random.default_rng(3)
    n = 150
    pooled, synthetic = rng.normal(size=(2 * n, 3)), rng.normal(size=(400, 3))
    splits = privacy.resplits(n, 3000, rng)
    _, nearest = knn(synthetic, pooled)
    w = np.bincount(nearest[:, 0], minlength=2 * n)
    expected = np.sqrt(n * n / (2 * n - 1) * w.var()) / w.sum()
    assert privacy.share_null_sd(synthetic, pooled, splits) == pytest.approx(expected, rel=0.05)


def test_share_null_sd_matches_recomputed_shares_when_rows_tie():
    # Few distinct values: many real rows tie; each re-split is scored from scratch.
    rng = np.random.default_rng(4)
    n = 40
    pooled = rng.integers(0, 3, size=(2 * n, 2)).astype(float)
    synthetic = rng.integers(0, 3, size=(60, 2)).astype(float)
    splits = privacy.resplits(n, 600, rng)
    direct = []
    for split in splits[:300]:
        to_t, _ = knn(synthetic, pooled[split])
        to_h, _ = knn(synthetic, pooled[~split])
        direct.append(privacy.closer_share(to_t[:, 0], to_h[:, 0]))
    assert privacy.share_null_sd(synthetic, pooled, splits) == pytest.approx(np.std(direct, ddof=1), rel=0.15)


def test_column_subsets_leave_one_out_on_narrow_tables_and_take_thirds_of_wide_ones():
    rng = np.random.default_rng(0)
    narrow = {c: [i] for i, c in enumerate("abcd")}
    assert privacy.column_subsets(narrow, rng) == [list("bcd"), list("acd"), list("abd"), list("abc")]
    wide = {f"c{i}": [i] for i in range(12)}
    thirds = privacy.column_subsets(wide, rng, n_subsets=5)
    assert len(thirds) == 5 and all(len(s) == 4 for s in thirds)
    assert privacy.column_subsets({"a": [0], "b": [1]}, rng) == []


def test_dcr_share_of_copies_is_near_one_and_of_independent_draws_near_half(points):
    train, holdout, fresh = points
    copies = privacy.dcr_metrics(train, holdout, train.copy())
    assert copies["dcr_share"] == 1.0 and copies["dcr_synthetic_p05"] == 0.0
    # Each copy sits on its own real row: the no-leak spread is that of a half of 1,200 rows.
    assert copies["dcr_share_null_sd"] == pytest.approx(np.sqrt(600 * 600 / 1199 / 4) / 600, rel=0.1)
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
    members, nonmembers = privacy.mia_distance_scores(train, holdout, train.copy())
    assert (members == 0).all() and (nonmembers < 0).all()  # a member's copy is at distance 0
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


def test_anonymeter_risks_have_intervals_from_their_counts():
    from statsmodels.stats.proportion import confint_proportions_2indep

    train, holdout = population(300, seed=0), population(300, seed=1)
    level = 0.99
    risks = privacy.anonymeter_risks(train, holdout, train.copy(), secret="label", n_attacks=100,
                                     confidence_level=level)
    for key in ("singling_out_risk", "linkability_risk", "inference_risk"):
        risk = risks[key]
        assert risk is not None and risk["ci"][0] <= risk["value"] <= risk["ci"][1]
        rates, n = risk["success_rate"], risk["n_attacks"]
        headroom = 1 - rates["control"]
        assert risk["value"] == pytest.approx(max(0.0, (rates["train"] - rates["control"]) / headroom))
        low, high = confint_proportions_2indep(rates["train"] * n, n, rates["control"] * n, n,
                                               method="newcomb", compare="diff", alpha=1 - level)
        assert risk["ci"] == pytest.approx([max(0.0, low / headroom), min(1.0, high / headroom)])
    assert risks["linkability_risk"]["value"] > 0.5  # copies link every split record
    assert risks["inference_risk"]["value"] > 0.5


def test_random_baseline_is_zero_for_copies_and_one_for_random_rows():
    from evaluation.encoding import TableEncoder

    train = population(300, seed=0)
    encode = TableEncoder.fit(train).transform
    copies = privacy.random_baseline(0.0, train, encode, n=300)
    assert copies["score"] == 0.0 and copies["random_median"] > 0
    random_rows = privacy.uniform_baseline(train, 300, seed=9)
    d, _ = knn(encode(random_rows), encode(train))
    assert privacy.random_baseline(float(np.median(d)), train, encode, n=300)["score"] == pytest.approx(1.0, abs=0.15)


def test_density_ratio_attack_ignores_rounding_noise_in_directions_without_variance():
    # A category one-hot encoded: its two columns always sum to 1, so one direction has no variance.
    # Noise in the last bits (another CPU's rounding) must not move the attack's scores.
    rng = np.random.default_rng(0)

    def rows(n):
        north = rng.integers(0, 2, n).astype(float)
        return np.c_[rng.normal(size=(n, 3)), north, 1.0 - north]

    train, holdout, synthetic = rows(200), rows(200), rows(200)
    members, nonmembers = privacy.mia_density_ratio_scores(train, holdout, synthetic)

    def jitter(a):
        return a * (1 + rng.uniform(-4e-16, 4e-16, a.shape))

    again = privacy.mia_density_ratio_scores(jitter(train), jitter(holdout), jitter(synthetic))
    np.testing.assert_allclose(np.r_[members, nonmembers], np.r_[again], rtol=1e-6, atol=1e-9)
