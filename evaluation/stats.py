"""Closed-form intervals behind the privacy gate: proportions, their difference, and ROC AUC.

All take a normal quantile ``z`` rather than a level, so the gate can widen
every interval for the number of checks it makes at once (see ``z_value``).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats


def z_value(level: float, comparisons: int = 1) -> float:
    """Two-sided normal quantile for ``comparisons`` intervals that hold together at ``level`` (Bonferroni)."""
    return float(stats.norm.ppf(1 - (1 - level) / (2 * comparisons)))


def wilson_interval(count: float, n: int, z: float) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion ``count / n``."""
    if n == 0:
        return 0.0, 1.0
    p = count / n
    denom = 1 + z * z / n
    center = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, center - half), min(1.0, center + half)


def difference_interval(x1: float, n1: int, x2: float, n2: int, z: float) -> tuple[float, float, float]:
    """``p1 - p2`` of two independent proportions with Newcombe's hybrid score interval.

    Newcombe (1998), method 10: each proportion's Wilson interval, combined;
    it keeps its coverage at rates of 0 and 1, where the Wald interval has none.
    """
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson_interval(x1, n1, z)
    l2, u2 = wilson_interval(x2, n2, z)
    diff = p1 - p2
    return diff, diff - math.hypot(p1 - l1, u2 - p2), diff + math.hypot(u1 - p1, p2 - l2)


def auc_interval(positive: np.ndarray, negative: np.ndarray, z: float) -> dict:
    """ROC AUC of scores (higher: more likely positive), its DeLong standard error, and an interval.

    The interval is ``auc ± z * se`` with ``se`` the larger of DeLong's (which
    shrinks to 0 at an AUC of 0 or 1) and the AUC's standard deviation when
    the labels carry no signal (Mann-Whitney, ties corrected), so it excludes
    0.5 only when the rank test on the same scores would reject chance too.
    ``null_se`` alone gives the resolution the sample sizes allow.
    """
    positive, negative = np.asarray(positive, float), np.asarray(negative, float)
    m, n = len(positive), len(negative)
    pooled = np.r_[positive, negative]
    ranks = stats.rankdata(pooled)
    # DeLong via midranks (Sun & Xu, 2014): placement values of each positive and negative.
    v10 = (ranks[:m] - stats.rankdata(positive)) / n
    v01 = 1 - (ranks[m:] - stats.rankdata(negative)) / m
    auc = float(v10.mean())
    var = (v10.var(ddof=1) / m if m > 1 else 0.0) + (v01.var(ddof=1) / n if n > 1 else 0.0)
    null = null_auc_se(m, n, pooled)
    se = max(math.sqrt(var), null)
    return {"value": auc, "ci": [max(0.0, auc - z * se), min(1.0, auc + z * se)],
            "se_delong": math.sqrt(var), "null_se": null}


def null_auc_se(m: int, n: int, pooled: np.ndarray | None = None) -> float:
    """Standard deviation of the AUC of ``m`` positives and ``n`` negatives under chance (ties corrected)."""
    total = m + n
    tie_term = 0.0
    if pooled is not None and total > 1:
        _, counts = np.unique(pooled, return_counts=True)
        tie_term = float(((counts**3) - counts).sum()) / (total * (total - 1))
    var_u = m * n / 12 * ((total + 1) - tie_term)
    return math.sqrt(max(var_u, 0.0)) / (m * n)
