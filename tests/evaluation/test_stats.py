"""The gate's intervals against statsmodels, scipy, a bootstrap and permutations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as scipy_stats
from sklearn.metrics import roc_auc_score
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from evaluation.stats import (
    auc_interval,
    difference_interval,
    null_auc_se,
    wilson_interval,
    z_value,
)


def test_z_value_is_the_bonferroni_normal_quantile():
    assert z_value(0.95) == pytest.approx(1.959964, abs=1e-6)
    assert z_value(0.95, 8) == pytest.approx(scipy_stats.norm.ppf(1 - 0.05 / 16))


@pytest.mark.parametrize(("count", "n"), [(0, 10), (3, 10), (10, 10), (35, 100), (1, 1000)])
@pytest.mark.parametrize("level", [0.95, 0.99375])
def test_wilson_interval_equals_statsmodels(count, n, level):
    expected = proportion_confint(count, n, alpha=1 - level, method="wilson")
    assert wilson_interval(count, n, z_value(level)) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(("x1", "n1", "x2", "n2"), [(0, 50, 0, 50), (12, 40, 3, 60), (350, 1000, 340, 1000),
                                                     (20, 20, 0, 20), (5, 500, 0, 200)])
def test_difference_interval_equals_statsmodels_newcombe(x1, n1, x2, n2):
    z = z_value(0.95, 8)
    diff, low, high = difference_interval(x1, n1, x2, n2, z)
    expected = confint_proportions_2indep(x1, n1, x2, n2, method="newcomb", compare="diff", alpha=0.05 / 8)
    assert diff == pytest.approx(x1 / n1 - x2 / n2)
    assert (low, high) == pytest.approx(expected, abs=1e-12)


def test_auc_interval_value_is_sklearns_and_delong_se_matches_a_bootstrap():
    rng = np.random.default_rng(0)
    positive, negative = rng.normal(0.6, 1, 300), rng.normal(0, 1, 400)
    out = auc_interval(positive, negative, 1.96)
    labels = np.r_[np.ones(300), np.zeros(400)]
    assert out["value"] == pytest.approx(roc_auc_score(labels, np.r_[positive, negative]), abs=1e-12)
    boot = [roc_auc_score(labels, np.r_[rng.choice(positive, 300), rng.choice(negative, 400)]) for _ in range(600)]
    assert out["se_delong"] == pytest.approx(np.std(boot), rel=0.12)
    se = max(out["se_delong"], out["null_se"])  # here chance's spread is the wider one
    assert out["null_se"] > out["se_delong"]
    assert out["ci"] == pytest.approx([out["value"] - 1.96 * se, out["value"] + 1.96 * se])


def test_delong_by_hand_on_a_tiny_sample():
    # Placements: positives 0.9 -> 1, 0.4 -> 0.5 (beats 0.1, loses to 0.8); negatives 0.1 -> 1, 0.8 -> 0.5.
    out = auc_interval(np.array([0.9, 0.4]), np.array([0.1, 0.8]), 1.0)
    assert out["value"] == 0.75
    v10, v01 = np.array([1.0, 0.5]), np.array([1.0, 0.5])
    assert out["se_delong"] == pytest.approx(np.sqrt(v10.var(ddof=1) / 2 + v01.var(ddof=1) / 2))


def test_null_auc_se_is_the_auc_spread_of_shuffled_labels_with_ties():
    rng = np.random.default_rng(1)
    scores = rng.integers(0, 4, 120).astype(float)  # heavy ties, as distances of 0 give
    m, n = 50, 70
    # AUC from the rank sum of a random choice of m positives (Mann-Whitney U / mn).
    ranks = scipy_stats.rankdata(scores)
    chosen = np.argsort(rng.random((20000, len(scores))), axis=1)[:, :m]
    shuffled = (ranks[chosen].sum(1) - m * (m + 1) / 2) / (m * n)
    assert null_auc_se(m, n, scores) == pytest.approx(np.std(shuffled), rel=0.03)
    assert null_auc_se(m, n) == pytest.approx(np.sqrt((m + n + 1) / (12 * m * n)))


def test_auc_interval_never_narrower_than_chance_allows():
    # Perfect separation: DeLong's se is 0, the interval still spans what 10 + 10 scores can tell.
    out = auc_interval(np.arange(10.0) + 10, np.arange(10.0), 2.0)
    assert out["value"] == 1.0 and out["se_delong"] == 0.0
    assert out["ci"][0] == pytest.approx(1 - 2.0 * np.sqrt(21 / 1200))
