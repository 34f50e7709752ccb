"""Gaussian copula: per-column marginals on public bins, joined by a correlation of normal scores.

Each column's marginal is its histogram on the fine bins of ``binning`` (a piecewise-uniform
CDF; discrete columns get one interval of [0, 1] per level). Rows are mapped through those CDFs
to normal scores, whose correlation matrix joins the columns; sampling runs the other way.

With ``epsilon`` the fit is differentially private (zCDP, see ``accounting``): a share
``marginal_share`` of the budget buys Gaussian noise on every column histogram (L2 sensitivity
1 each), the rest noise on the sum of outer products of the normal scores, each row's scores
clipped to L2 norm ``clip_norm``·√d first (sensitivity (clip_norm²·d) on the upper triangle).
The noisy sums are normalised by their own diagonal (the row count cancels), then projected to
the nearest positive-definite correlation. Bounds and categories come from the metadata.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from generators.tabular import accounting
from generators.tabular.base import TabularSynthesizer
from generators.tabular.binning import Bins
from generators.tabular.metadata import Metadata

_U_CLIP = 1e-6


def nearest_correlation(matrix: np.ndarray, floor: float = 1e-3) -> np.ndarray:
    """A symmetric matrix made positive definite (eigenvalues floored) with unit diagonal."""
    sym = (matrix + matrix.T) / 2
    values, vectors = np.linalg.eigh(sym)
    fixed = (vectors * np.maximum(values, floor * max(values.max(), 1.0))) @ vectors.T
    scale = 1 / np.sqrt(np.diag(fixed))
    out = fixed * scale[:, None] * scale[None, :]
    np.fill_diagonal(out, 1.0)
    return out


class GaussianCopula(TabularSynthesizer):
    def __init__(self, epsilon: float | None = None, delta: float = 1e-5, fine_bins: int = 64,
                 marginal_share: float = 0.5, clip_norm: float = 1.0, random_state: int = 0):
        self.epsilon = epsilon
        self.delta = delta
        self.fine_bins = fine_bins
        self.marginal_share = marginal_share
        self.clip_norm = clip_norm
        self.random_state = random_state

    def _fit(self, table: pd.DataFrame, metadata: Metadata, rng: np.random.Generator) -> None:
        bins = Bins(metadata, self.fine_bins)
        codes, positions = bins.locate(table, rng)
        counts = bins.counts(codes)
        d = len(counts)
        if self.epsilon is None:
            self.weights_ = counts
            z = self._scores(codes, positions)
            self.correlation_ = nearest_correlation(np.corrcoef(z, rowvar=False)) if d > 1 else np.ones((1, 1))
            return
        acct = accounting.ZCDPAccountant(self.delta)
        rho = accounting.rho_from_epsilon(self.epsilon, self.delta)
        sigma_m = accounting.gaussian_sigma(self.marginal_share * rho / d)
        self.weights_ = [c + rng.normal(0, sigma_m, len(c)) for c in counts]
        acct.gaussian("column histograms", sigma_m, count=d)
        z = self._scores(codes, positions)  # through the noisy CDFs: post-processing
        bound = self.clip_norm**2 * d
        norms = np.linalg.norm(z, axis=1, keepdims=True)
        z = z * np.minimum(1.0, np.sqrt(bound) / np.maximum(norms, 1e-12))
        sigma_c = accounting.gaussian_sigma((1 - self.marginal_share) * rho, sensitivity=bound)
        upper = np.triu(rng.normal(0, sigma_c, (d, d)))
        noisy = z.T @ z + upper + np.triu(upper, 1).T
        acct.gaussian("sum of normal-score outer products (upper triangle)", sigma_c, sensitivity=bound)
        diag = np.maximum(np.diag(noisy), 1e-3 * bound)
        self.correlation_ = nearest_correlation(noisy / np.sqrt(np.outer(diag, diag)))
        self.privacy_ = acct.spent()

    def _cdf_parts(self, j: int) -> tuple[np.ndarray, np.ndarray]:
        w = np.clip(self.weights_[j], 0, None) + 1e-9
        w = w / w.sum()
        return w, np.concatenate([[0.0], np.cumsum(w)[:-1]])

    def _scores(self, codes: np.ndarray, positions: np.ndarray) -> np.ndarray:
        u = np.empty(codes.shape)
        for j in range(codes.shape[1]):
            w, before = self._cdf_parts(j)
            u[:, j] = before[codes[:, j]] + w[codes[:, j]] * positions[:, j]
        return ndtri(np.clip(u, _U_CLIP, 1 - _U_CLIP))

    def _sample(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
        d = len(self.weights_)
        values, vectors = np.linalg.eigh(self.correlation_)
        z = rng.standard_normal((n, d)) @ (vectors * np.sqrt(np.maximum(values, 0))).T
        u = ndtr(z)
        codes = np.empty((n, d), dtype=np.int64)
        positions = np.empty((n, d))
        for j in range(d):
            w, before = self._cdf_parts(j)
            code = np.clip(np.searchsorted(before, u[:, j], side="right") - 1, 0, len(w) - 1)
            codes[:, j] = code
            positions[:, j] = np.clip((u[:, j] - before[code]) / w[code], 0, 1)
        return Bins(self.metadata_, self.fine_bins).values(codes, positions)

    def _arrays(self) -> tuple[dict[str, np.ndarray], dict]:
        arrays = {f"weights.{j}": w for j, w in enumerate(self.weights_)}
        arrays["correlation"] = self.correlation_
        return arrays, {}

    def _restore(self, arrays: dict[str, np.ndarray], state: dict) -> None:
        self.weights_ = [arrays[f"weights.{j}"] for j in range(len(self.metadata_.columns))]
        self.correlation_ = arrays["correlation"]
