"""Fidelity metrics against closed forms, scipy and SDMetrics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sdmetrics.column_pairs import CorrelationSimilarity
from sdmetrics.single_column import KSComplement, TVComplement

from evaluation import fidelity


@pytest.fixture
def gaussians():
    rng = np.random.default_rng(0)
    return rng.normal(size=(600, 4)), rng.normal(size=(600, 4)), rng.normal(1.5, 1, size=(600, 4))


def test_ks_complement_is_one_minus_scipy_ks_and_equals_sdmetrics():
    rng = np.random.default_rng(0)
    a, b = pd.Series(rng.normal(size=400)), pd.Series(rng.normal(0.3, 1.2, size=300))
    ours = fidelity.ks_complement(a, b)
    assert ours == pytest.approx(1 - stats.ks_2samp(a, b).statistic, abs=1e-12)
    assert ours == pytest.approx(KSComplement.compute(a, b), abs=1e-9)
    assert fidelity.ks_complement(a, a) == 1.0


def test_tv_complement_equals_sdmetrics():
    rng = np.random.default_rng(1)
    a = pd.Series(rng.choice(list("abcd"), 500, p=[0.4, 0.3, 0.2, 0.1]))
    b = pd.Series(rng.choice(list("abce"), 400))
    assert fidelity.tv_complement(a, b) == pytest.approx(TVComplement.compute(a, b), abs=1e-6)
    assert fidelity.tv_complement(a, a) == 1.0


def test_correlation_similarity_equals_sdmetrics_pairwise_mean():
    rng = np.random.default_rng(2)
    real = pd.DataFrame(rng.multivariate_normal([0, 0, 0], [[1, .8, .1], [.8, 1, .4], [.1, .4, 1]], 500), columns=list("xyz"))
    syn = pd.DataFrame(rng.normal(size=(400, 3)), columns=list("xyz"))
    pairs = [("x", "y"), ("x", "z"), ("y", "z")]
    expected = np.mean([CorrelationSimilarity.compute(real[list(p)], syn[list(p)]) for p in pairs])
    assert fidelity.correlation_similarity(real, syn) == pytest.approx(expected, abs=1e-12)


def test_c2st_is_chance_for_identical_data_and_high_for_shifted(gaussians):
    real, _, shifted = gaussians
    assert fidelity.c2st_auc(real, real.copy()) == pytest.approx(0.5, abs=0.05)
    assert fidelity.c2st_auc(real, shifted) > 0.9


def test_mmd_matches_direct_unbiased_estimate(gaussians):
    real, same, shifted = gaussians
    x, y = real[:200], shifted[:150]
    bandwidth = 1.7
    k = lambda a, b: np.exp(-((a[:, None] - b[None]) ** 2).sum(-1) / (2 * bandwidth**2))  # noqa: E731
    kxx, kyy = k(x, x), k(y, y)
    expected = ((kxx.sum() - np.trace(kxx)) / (200 * 199) + (kyy.sum() - np.trace(kyy)) / (150 * 149)
                - 2 * k(x, y).mean())
    assert fidelity.mmd_rbf(x, y, bandwidth) == pytest.approx(expected, rel=1e-9)
    assert abs(fidelity.mmd_rbf(real, same)) < 0.01 < fidelity.mmd_rbf(real, shifted)


def test_frechet_distance_closed_form_for_diagonal_gaussians():
    rng = np.random.default_rng(3)
    real = rng.normal(0, 1, size=(20000, 3))
    syn = rng.normal(1, 2, size=(20000, 3))
    # Diagonal covariances: |mu1-mu2|^2 + sum(s1 + s2 - 2 sqrt(s1 s2)) = 3*1 + 3*(1 + 4 - 4) = 6.
    assert fidelity.frechet_distance(real, syn) == pytest.approx(6.0, rel=0.05)
    assert fidelity.frechet_distance(real, real) == pytest.approx(0.0, abs=1e-6)


def test_kid_near_zero_for_same_distribution(gaussians):
    real, same, shifted = gaussians
    assert abs(fidelity.kid(real, same, subset_size=300)) < 0.05 < fidelity.kid(real, shifted, subset_size=300)


def test_prdc_and_authenticity_on_copies_and_shifts(gaussians):
    real, _, shifted = gaussians
    copies = fidelity.prdc(real, real.copy())
    assert copies["precision"] == copies["recall"] == copies["coverage"] == 1.0
    assert copies["density"] >= 1.0
    far = fidelity.prdc(real, shifted + 3)
    assert far["precision"] < 0.2 and far["coverage"] < 0.2
    assert fidelity.alpha_beta_authenticity(real, real.copy())["authenticity"] == 0.0
    fresh = fidelity.alpha_beta_authenticity(real, gaussians[1])
    assert fresh["authenticity"] > 0.3 and fresh["alpha_precision"] > 0.8
