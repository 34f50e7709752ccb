"""How close synthetic data is to the real distribution.

Column metrics work on the raw tables; the rest work on feature matrices
(encoded tables, or features of a fixed network for images), real first.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import torch
from scipy import linalg, stats
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import StratifiedGroupKFold, cross_val_score

from evaluation.distances import knn, row_ids


def ks_complement(real: pd.Series, synthetic: pd.Series) -> float:
    """1 - two-sample Kolmogorov-Smirnov statistic (SDMetrics' KSComplement)."""
    r, s = pd.to_numeric(real).dropna(), pd.to_numeric(synthetic).dropna()
    if r.empty or s.empty:
        return 0.0
    return float(1.0 - stats.ks_2samp(r.to_numpy(float), s.to_numpy(float)).statistic)


def tv_complement(real: pd.Series, synthetic: pd.Series) -> float:
    """1 - total variation distance of the category frequencies (SDMetrics' TVComplement)."""
    f_real = real.value_counts(normalize=True)
    f_syn = synthetic.value_counts(normalize=True)
    f_real, f_syn = f_real.align(f_syn, fill_value=0.0)
    return float(1.0 - 0.5 * np.abs(f_real - f_syn).sum())


def correlation_similarity(real: pd.DataFrame, synthetic: pd.DataFrame) -> float | None:
    """Mean over numeric column pairs of 1 - |rho_real - rho_syn| / 2 (Pearson)."""
    if real.shape[1] < 2:
        return None
    c_real, c_syn = real.corr().to_numpy(), synthetic.corr().to_numpy()
    upper = np.triu_indices(real.shape[1], k=1)
    diff = np.abs(c_real[upper] - c_syn[upper])
    # A constant column has no correlation; pairs involving one are left out.
    diff = diff[~np.isnan(diff)]
    return float(np.mean(1.0 - diff / 2)) if len(diff) else None


def _sq_dists(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.cdist(a, b).pow(2)


def mmd_rbf(real: np.ndarray, synthetic: np.ndarray, bandwidth: float | None = None) -> float:
    """Unbiased squared MMD with a Gaussian kernel; bandwidth: median pairwise distance."""
    x, y = torch.from_numpy(real).double(), torch.from_numpy(synthetic).double()
    if bandwidth is None:
        pooled = torch.cat([x[:1000], y[:1000]])  # the median settles long before all pairs
        d = torch.cdist(pooled, pooled)
        bandwidth = float(d[d > 0].median()) if (d > 0).any() else 1.0
    gamma = 1.0 / (2 * bandwidth**2)
    return _unbiased_mmd2(
        torch.exp(-gamma * _sq_dists(x, x)),
        torch.exp(-gamma * _sq_dists(y, y)),
        torch.exp(-gamma * _sq_dists(x, y)),
    )


def _unbiased_mmd2(kxx: torch.Tensor, kyy: torch.Tensor, kxy: torch.Tensor) -> float:
    m, n = kxx.shape[0], kyy.shape[0]
    sxx = (kxx.sum() - kxx.diagonal().sum()) / (m * (m - 1))
    syy = (kyy.sum() - kyy.diagonal().sum()) / (n * (n - 1))
    return float(sxx + syy - 2 * kxy.mean())


def frechet_distance(real: np.ndarray, synthetic: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to the two feature sets (as in FID)."""
    mu1, mu2 = real.mean(0), synthetic.mean(0)
    s1 = np.atleast_2d(np.cov(real, rowvar=False))
    s2 = np.atleast_2d(np.cov(synthetic, rowvar=False))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        covmean = linalg.sqrtm(s1 @ s2)
    if caught or not np.isfinite(covmean).all():
        # Singular product (e.g. a constant feature): regularise as the reference FID code does.
        eps = np.eye(len(s1)) * 1e-6
        covmean = linalg.sqrtm((s1 + eps) @ (s2 + eps))
    covmean = np.real(covmean)
    return float(max(0.0, ((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean)))


def kid(
    real: np.ndarray, synthetic: np.ndarray, *, n_subsets: int = 10, subset_size: int = 1000,
    random_state: int = 0,
) -> float:
    """Kernel Inception-style distance: unbiased MMD^2, cubic polynomial kernel, subset mean."""
    rng = np.random.default_rng(random_state)
    size = min(subset_size, len(real), len(synthetic))
    dim = real.shape[1]
    values = []
    for _ in range(n_subsets):
        x = torch.from_numpy(real[rng.choice(len(real), size, replace=False)]).double()
        y = torch.from_numpy(synthetic[rng.choice(len(synthetic), size, replace=False)]).double()
        values.append(
            _unbiased_mmd2((x @ x.T / dim + 1) ** 3, (y @ y.T / dim + 1) ** 3, (x @ y.T / dim + 1) ** 3)
        )
    return float(np.mean(values))


def _knn_radii(points: np.ndarray, k: int) -> np.ndarray:
    """Distance of each point to its k-th nearest other point."""
    d, _ = knn(points, points, k=k + 1)
    return d[:, k]


def _within_balls(query: np.ndarray, centers: np.ndarray, radii: np.ndarray) -> torch.Tensor:
    """(len(query), len(centers)) booleans: query point inside each center's ball."""
    return torch.cdist(torch.from_numpy(query), torch.from_numpy(centers)) <= torch.from_numpy(radii)


def prdc(real: np.ndarray, synthetic: np.ndarray, k: int = 5) -> dict:
    """Precision, recall (Kynkäänniemi et al.), density and coverage (Naeem et al.) on k-NN balls."""
    r_real, r_syn = _knn_radii(real, k), _knn_radii(synthetic, k)
    syn_in_real = _within_balls(synthetic, real, r_real)
    real_in_syn = _within_balls(real, synthetic, r_syn)
    nearest_syn, _ = knn(real, synthetic)
    return {
        "precision": float(syn_in_real.any(1).double().mean()),
        "recall": float(real_in_syn.any(1).double().mean()),
        "density": float(syn_in_real.double().sum() / (k * len(synthetic))),
        "coverage": float((nearest_syn[:, 0] <= r_real).mean()),
    }


def alpha_beta_authenticity(real: np.ndarray, synthetic: np.ndarray, n_alphas: int = 30) -> dict:
    """Alpha-precision, beta-recall and authenticity (Alaa et al., 2022), integrated over alpha.

    The embedding is the identity on the given features, centred on the real
    mean (no learned one-class network). Each curve is compared with the
    diagonal: 1 means the synthetic alpha-support mass matches at every level.
    """
    alphas = np.linspace(0, 1, n_alphas)
    center = real.mean(0)
    real_r = np.linalg.norm(real - center, axis=1)
    syn_r = np.linalg.norm(synthetic - center, axis=1)
    alpha_precision = np.array([(syn_r <= q).mean() for q in np.quantile(real_r, alphas)])

    real_nn, _ = knn(real, real, k=2)
    real_to_real = real_nn[:, 1]
    real_to_syn, syn_idx = knn(real, synthetic)
    # Beta-recall: real points whose nearest synthetic point is inside their own k-NN
    # ball and lies in the synthetic beta-support (radius quantile around its centre).
    nearest = synthetic[syn_idx[:, 0]]
    nearest_r = np.linalg.norm(nearest - synthetic.mean(0), axis=1)
    close = real_to_syn[:, 0] <= real_to_real
    beta_recall = np.array([(close & (nearest_r <= q)).mean() for q in np.quantile(nearest_r, alphas)])

    # Authenticity: a synthetic point is a copy if it is closer to its nearest real
    # point than that point is to any other real point.
    syn_to_real, real_idx = knn(synthetic, real)
    authentic = syn_to_real[:, 0] > real_to_real[real_idx[:, 0]]
    step = alphas[1] - alphas[0]
    return {
        "alpha_precision": float(1 - 2 * np.abs(alphas - alpha_precision).sum() * step),
        "beta_recall": float(1 - 2 * np.abs(alphas - beta_recall).sum() * step),
        "authenticity": float(authentic.mean()),
    }


def c2st_auc(
    real: np.ndarray, synthetic: np.ndarray, *, folds: int = 5, random_state: int = 0
) -> float | None:
    """Classifier two-sample test: cross-validated ROC AUC of real vs synthetic (0.5 is ideal).

    Both sides are subsampled to the same size so the AUC is not skewed by
    imbalance. Equal rows share a fold: a synthetic copy of a real row is
    indistinguishable from it, and must not be learned from its twin with the
    other label (which drives the AUC far below 0.5). None when there are
    fewer rows per side, or distinct rows, than folds.
    """
    rng = np.random.default_rng(random_state)
    n = min(len(real), len(synthetic))
    x = np.r_[real[rng.choice(len(real), n, replace=False)], synthetic[rng.choice(len(synthetic), n, replace=False)]]
    y = np.r_[np.ones(n), np.zeros(n)]
    groups = row_ids(pd.DataFrame(x))
    if n < folds or len(np.unique(groups)) < folds:
        return None
    clf = HistGradientBoostingClassifier(max_iter=100, random_state=random_state)
    cv = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=random_state)
    return float(np.mean(cross_val_score(clf, x, y, groups=groups, cv=cv, scoring="roc_auc")))


def feature_metrics(
    real: np.ndarray, synthetic: np.ndarray, *, max_rows: int = 3000, random_state: int = 0
) -> dict:
    """All feature-space metrics, on at most ``max_rows`` rows per side (a fixed random sample).

    These metrics estimate distributions, so a seeded sample keeps their cost
    bounded; the privacy metrics never subsample.
    """
    rng = np.random.default_rng(random_state)
    real = real[rng.choice(len(real), min(max_rows, len(real)), replace=False)]
    synthetic = synthetic[rng.choice(len(synthetic), min(max_rows, len(synthetic)), replace=False)]
    k = max(1, min(5, len(real) - 1, len(synthetic) - 1))
    return {
        "mmd": mmd_rbf(real, synthetic),
        "frechet": frechet_distance(real, synthetic),
        "kid": kid(real, synthetic, random_state=random_state),
        **prdc(real, synthetic, k=k),
        **alpha_beta_authenticity(real, synthetic),
        "c2st_auc": c2st_auc(real, synthetic, random_state=random_state),
    }
