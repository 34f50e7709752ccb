"""Privacy of synthetic data against the real records it was fitted on.

The real holdout (never used for fitting, the same size as the training set)
is the baseline: a generator that learned the distribution rather than the
records puts synthetic rows as close to the holdout as to the training set.
Distances are exact nearest neighbours (``evaluation.distances``) on the
encoding of ``evaluation.encoding`` and always use the full data.
"""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import KernelDensity

from evaluation.distances import knn, row_ids, sdmetrics_dcr


def closer_share(to_train: np.ndarray, to_holdout: np.ndarray) -> float:
    """Share of records closer to training than to holdout, ties counted half (0.5 is ideal)."""
    return float(np.mean((to_train < to_holdout) + 0.5 * (to_train == to_holdout)))


def dcr_metrics(
    train: np.ndarray,
    holdout: np.ndarray,
    synthetic: np.ndarray,
    *,
    groups: dict[str, list[int]] | None = None,
    n_subsets: int = 8,
    min_columns_for_subsets: int = 10,
    random_state: int = 0,
) -> dict:
    """DCR share, 5th percentiles, NNDR, and for wide tables the worst column-subset share.

    ``groups`` maps each original column to its encoded features; tables with at
    least ``min_columns_for_subsets`` columns are also scored on ``n_subsets``
    random subsets of a third of their columns, since a leak confined to a few
    columns is diluted in the full-width distance.
    """
    d_train, _ = knn(synthetic, train, k=2)
    d_hold, _ = knn(synthetic, holdout, k=1)
    base, _ = knn(holdout, train, k=1)
    # NNDR: closest over second-closest training record; near 0 means one record stands out.
    nndr = d_train[:, 0] / np.maximum(d_train[:, 1], 1e-12)
    nndr[d_train[:, 1] == 0] = 0.0
    out = {
        "dcr_share": closer_share(d_train[:, 0], d_hold[:, 0]),
        "dcr_synthetic_p05": float(np.percentile(d_train[:, 0], 5)),
        "dcr_synthetic_median": float(np.median(d_train[:, 0])),
        "dcr_holdout_p05": float(np.percentile(base[:, 0], 5)),
        "nndr_p05": float(np.percentile(nndr, 5)),
        "dcr_share_worst_subset": None,
        "dcr_worst_subset_columns": None,
        "histogram": _dcr_histogram(d_train[:, 0], base[:, 0]),
    }
    if groups and len(groups) >= min_columns_for_subsets:
        rng = np.random.default_rng(random_state)
        names = list(groups)
        size = max(2, len(names) // 3)
        worst = (-1.0, [])
        for _ in range(n_subsets):
            chosen = sorted(rng.choice(len(names), size=size, replace=False))
            feats = [f for i in chosen for f in groups[names[i]]]
            to_t, _ = knn(synthetic[:, feats], train[:, feats])
            to_h, _ = knn(synthetic[:, feats], holdout[:, feats])
            share = closer_share(to_t[:, 0], to_h[:, 0])
            if share > worst[0]:
                worst = (share, [names[i] for i in chosen])
        out["dcr_share_worst_subset"], out["dcr_worst_subset_columns"] = worst
    return out


def _dcr_histogram(synthetic: np.ndarray, holdout: np.ndarray, bins: int = 30) -> dict:
    """Histogram of synthetic→train and holdout→train DCRs on shared edges (distances only)."""
    top = float(np.percentile(np.concatenate([synthetic, holdout]), 99)) or 1.0
    edges = np.linspace(0.0, top, bins + 1)
    return {
        "edges": edges.tolist(),
        "synthetic": np.histogram(np.clip(synthetic, 0, top), edges)[0].tolist(),
        "holdout": np.histogram(np.clip(holdout, 0, top), edges)[0].tolist(),
    }


def exact_match_rate(train: pd.DataFrame, synthetic: pd.DataFrame) -> float:
    """Share of synthetic rows equal, value for value, to some training row."""
    ids = row_ids(pd.concat([train, synthetic[list(train.columns)]], ignore_index=True))
    return float(np.isin(ids[len(train) :], ids[: len(train)]).mean())


def _members_and_nonmembers(
    train: np.ndarray, holdout: np.ndarray, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    members = train[rng.choice(len(train), size=n, replace=False)]
    nonmembers = holdout[rng.choice(len(holdout), size=n, replace=False)]
    return members, nonmembers


def mia_distance_auc(
    train: np.ndarray, holdout: np.ndarray, synthetic: np.ndarray, *, random_state: int = 0
) -> float:
    """AUC of guessing membership from closeness to the synthetic data (0.5: no signal)."""
    rng = np.random.default_rng(random_state)
    n = min(len(train), len(holdout))
    members, nonmembers = _members_and_nonmembers(train, holdout, n, rng)
    d_in, _ = knn(members, synthetic)
    d_out, _ = knn(nonmembers, synthetic)
    labels = np.r_[np.ones(n), np.zeros(n)]
    return float(roc_auc_score(labels, -np.r_[d_in[:, 0], d_out[:, 0]]))


def mia_density_ratio_auc(
    train: np.ndarray,
    holdout: np.ndarray,
    synthetic: np.ndarray,
    *,
    max_components: int = 8,
    max_fit_rows: int = 5_000,
    max_candidates: int = 2_000,
    random_state: int = 0,
) -> float | None:
    """DOMIAS-style attack: score p_synthetic(x) / p_real(x), as AUC.

    Half the holdout stands in for the attacker's reference sample of the real
    population (its density is the denominator); the other half are the
    non-members. Densities are Gaussian KDEs (Scott's bandwidth) on whitened
    principal components fitted on the reference half. KDE cost grows with
    fitted rows x scored rows, so both are capped (seeded samples): the AUC of
    2,000 + 2,000 candidates is already within about 0.01.
    """
    if len(holdout) < 20:
        return None
    rng = np.random.default_rng(random_state)
    order = rng.permutation(len(holdout))
    reference, outside = holdout[order[: len(order) // 2]], holdout[order[len(order) // 2 :]]
    n = min(len(outside), len(train), max_candidates)
    members, nonmembers = _members_and_nonmembers(train, outside, n, rng)
    pca = PCA(n_components=min(max_components, reference.shape[1], len(reference) - 1), whiten=True)
    pca.fit(reference)
    syn_fit = synthetic[rng.choice(len(synthetic), size=min(len(synthetic), max_fit_rows), replace=False)]
    p_syn = KernelDensity(bandwidth="scott").fit(pca.transform(syn_fit))
    p_ref = KernelDensity(bandwidth="scott").fit(pca.transform(reference))
    candidates = pca.transform(np.r_[members, nonmembers])
    score = p_syn.score_samples(candidates) - p_ref.score_samples(candidates)
    return float(roc_auc_score(np.r_[np.ones(n), np.zeros(n)], score))


def anonymeter_risks(
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    secret: str | None,
    n_attacks: int = 300,
    random_state: int = 0,
) -> dict:
    """Singling-out, linkability and inference risk (anonymeter), each with a 95% interval.

    The holdout is anonymeter's control set, so each risk is the attack's
    success on training records beyond its success on records never seen.
    Inference is attribute inference of ``secret`` (default: the last column)
    from all other columns.
    """
    from anonymeter.evaluators import (
        InferenceEvaluator,
        LinkabilityEvaluator,
        SinglingOutEvaluator,
    )

    n_attacks = max(1, min(n_attacks, len(holdout), len(train)))
    cols = list(train.columns)
    secret = secret if secret in cols else cols[-1]
    out: dict[str, dict | None] = {}
    out["singling_out_risk"] = _risk(
        lambda: SinglingOutEvaluator(
            train, synthetic, n_attacks=n_attacks, control=holdout, seed=random_state,
            max_attempts=20 * n_attacks,
        ).evaluate(mode="univariate")
    )
    half = len(cols) // 2
    out["linkability_risk"] = (
        _risk(
            lambda: LinkabilityEvaluator(
                train, synthetic, aux_cols=(cols[:half], cols[half:]),
                n_attacks=n_attacks, control=holdout, n_neighbors=10,
            ).evaluate(n_jobs=1)
        )
        if len(cols) >= 2
        else None
    )
    aux = [c for c in cols if c != secret]
    regression = pd.api.types.is_float_dtype(train[secret])
    out["inference_risk"] = (
        _risk(
            lambda: InferenceEvaluator(
                train, synthetic, aux_cols=aux, secret=secret, regression=regression,
                n_attacks=n_attacks, control=holdout,
            ).evaluate(n_jobs=1)
        )
        if aux
        else None
    )
    out["inference_secret"] = secret
    return out


def _risk(run) -> dict | None:
    logger = logging.getLogger("anonymeter")
    level = logger.level
    # anonymeter warns and logs on every small-sample attack; its interval already says so.
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            risk = run().risk()
    except Exception:  # an attack anonymeter cannot mount (too few rows, no query) is unknown
        return None
    finally:
        logger.setLevel(level)
    return {"value": float(risk.value), "ci": [float(risk.ci[0]), float(risk.ci[1])]}


# --- SDMetrics-compatible scores ---------------------------------------------


def dcr_overfitting_protection(
    train: pd.DataFrame, synthetic: pd.DataFrame, holdout: pd.DataFrame, categorical=()
) -> dict:
    """``sdmetrics...DCROverfittingProtection.compute_breakdown`` with the same values."""
    to_train = sdmetrics_dcr(synthetic, train, categorical)
    to_holdout = sdmetrics_dcr(synthetic, holdout, categorical)
    closer = float(np.where(to_train < to_holdout, 1.0, 0.0).sum() / len(to_train))
    return {
        "score": min((1.0 - closer) * 2, 1.0),
        "synthetic_data_percentages": {"closer_to_training": closer, "closer_to_holdout": 1 - closer},
    }


def uniform_baseline(real: pd.DataFrame, n: int, seed: int | None = None) -> pd.DataFrame:
    """Random rows drawn per column as SDMetrics' DCRBaselineProtection does.

    Integer columns uniform on [min, max], floats uniform on [min, max),
    anything else uniform over the observed values; the same seed gives the same
    table as SDMetrics (same generator calls in the same order).
    """
    rng = np.random.default_rng(seed)
    data = {}
    for col in real.columns:
        s = real[col]
        if pd.api.types.is_integer_dtype(s):
            values = rng.integers(low=s.min(), high=s.max() + 1, size=n)
        elif pd.api.types.is_float_dtype(s):
            values = rng.uniform(low=s.min(), high=s.max(), size=n)
        else:
            values = rng.choice(s.dropna().unique(), size=n)
        values = pd.Series(values)
        nan_ratio = s.isna().mean()
        if nan_ratio > 0:
            values[rng.random(n) < nan_ratio] = np.nan
        data[col] = values
    return pd.DataFrame(data)


def random_baseline(
    synthetic_median: float, train: pd.DataFrame, encode, *, n: int = 5_000, seed: int = 0
) -> dict:
    """Median synthetic DCR over the median DCR of uniform random rows (SDMetrics' baseline idea).

    Near 0: synthetic rows sit far closer to training records than random rows
    do (expected of any useful generator); the score alone is no leak signal,
    it says how far from "random noise" the data is. ``encode`` maps a frame
    to the distance space of ``synthetic_median``.
    """
    random = uniform_baseline(train, n, seed)
    d_random, _ = knn(encode(random), encode(train))
    random_median = float(np.median(d_random[:, 0]))
    return {
        "synthetic_median": synthetic_median,
        "random_median": random_median,
        "score": min(synthetic_median / random_median, 1.0) if random_median > 0 else None,
    }


def dcr_baseline_protection(
    real: pd.DataFrame, synthetic: pd.DataFrame, categorical=(), *, seed: int | None = 0
) -> dict:
    """``sdmetrics...DCRBaselineProtection.compute_breakdown`` with the same values (same seed)."""
    random = uniform_baseline(real, len(synthetic), seed)
    # One search over both query sets: the reference side (distinct rows, index) is built once.
    both = sdmetrics_dcr(pd.concat([synthetic, random], ignore_index=True), real, categorical)
    syn_median = float(np.median(both[: len(synthetic)]))
    random_median = float(np.median(both[len(synthetic) :]))
    score = min(syn_median / random_median, 1.0) if random_median != 0 else float("nan")
    return {
        "score": score,
        "median_DCR_to_real_data": {"synthetic_data": syn_median, "random_data_baseline": random_median},
    }
