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
from scipy import sparse
from sklearn.decomposition import PCA
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import KernelDensity

from evaluation.distances import BLOCK_ENTRIES, knn, row_ids, sdmetrics_dcr
from evaluation.encoding import is_categorical
from evaluation.stats import difference_interval, z_value

# Fewer holdout rows leave too few for both the reference density and the non-members.
MIN_DENSITY_HOLDOUT = 20
# Equal distances computed along different paths may differ in the last bits.
_TIE_TOLERANCE = 1e-9


def closer_share(to_train: np.ndarray, to_holdout: np.ndarray) -> float:
    """Share of records closer to training than to holdout, ties counted half (0.5 is ideal)."""
    tie = np.abs(to_train - to_holdout) <= _TIE_TOLERANCE * (1 + np.maximum(to_train, to_holdout))
    return float(np.mean(np.where(tie, 0.5, to_train < to_holdout)))


def resplits(n: int, n_permutations: int, rng: np.random.Generator) -> np.ndarray:
    """Random re-splits of 2n pooled real rows into two halves: (n_permutations, 2n), True = train."""
    halves = np.r_[np.ones(n, bool), np.zeros(n, bool)]
    return rng.permuted(np.tile(halves, (n_permutations, 1)), axis=1)


def share_null_sd(synthetic: np.ndarray, pooled: np.ndarray, splits: np.ndarray, neighbours: int = 16) -> float:
    """Standard deviation of the DCR share over random re-splits of the pooled real rows.

    Without a leak, which half of the real rows was trained on does not
    matter to the synthetic rows, so this is the share's spread under "no
    leak". It holds the real rows' own sampling noise, which no number of
    synthetic rows removes. A synthetic row's score depends only on the
    split of the real rows at its nearest distance (its tie set): 1 when all
    are on the train side, 0 when none are, 1/2 otherwise. Tie sets are
    found among the ``neighbours`` nearest rows (a larger set is mixed in all
    but 2^-15 of splits); rows with equal tie sets are scored once.
    """
    d, idx = knn(synthetic, pooled, k=min(neighbours, len(pooled)))
    tied = d <= d[:, :1] + _TIE_TOLERANCE * (1 + d[:, :1])
    members, counts = np.unique(np.sort(np.where(tied, idx, -1), axis=1), axis=0, return_counts=True)
    rows, slots = np.nonzero(members >= 0)
    incidence = sparse.csr_matrix(
        (np.ones(len(rows), np.float32), (rows, members[rows, slots])), shape=(len(members), len(pooled))
    )
    size = np.asarray(incidence.sum(1)).ravel()[:, None]
    shares = []
    batch = max(1, min(64, BLOCK_ENTRIES // len(members)))  # splits scored at once, memory bounded
    for start in range(0, len(splits), batch):
        on_train = incidence @ splits[start : start + batch].T.astype(np.float32)
        # All on the train side: 1; none: 0; mixed: 1/2.
        score = 0.5 * ((on_train > 0).astype(np.float32) + (on_train == size))
        shares.append(counts @ score / counts.sum())
    return float(np.concatenate(shares).std(ddof=1))


def column_subsets(
    groups: dict[str, list[int]], rng: np.random.Generator, *, n_subsets: int = 8, min_columns_for_thirds: int = 10
) -> list[list[str]]:
    """Column subsets searched for a leak the full-width distance dilutes.

    Wide tables (``min_columns_for_thirds`` columns or more): ``n_subsets``
    random thirds of the columns. Narrow ones (3 or more columns): every
    subset that leaves one column out, so that no single column (one made
    far off on purpose, say) can hide copies of the rest.
    """
    names = list(groups)
    if len(names) >= min_columns_for_thirds:
        size = max(2, len(names) // 3)
        return [[names[i] for i in sorted(rng.choice(len(names), size=size, replace=False))]
                for _ in range(n_subsets)]
    if len(names) >= 3:
        return [names[:i] + names[i + 1 :] for i in range(len(names))]
    return []


def dcr_metrics(
    train: np.ndarray,
    holdout: np.ndarray,
    synthetic: np.ndarray,
    *,
    groups: dict[str, list[int]] | None = None,
    n_subsets: int = 8,
    min_columns_for_subsets: int = 10,
    n_permutations: int = 400,
    random_state: int = 0,
) -> dict:
    """DCR share with its no-leak spread, 5th percentiles, NNDR, and the worst column-subset share.

    ``train`` and ``holdout`` must have equal sizes (0.5 is then the ideal
    share). ``groups`` maps each original column to its encoded features; the
    subsets searched are those of ``column_subsets``, each with its own
    spread (``dcr_share_null_sd``; see ``share_null_sd``) from the same
    ``n_permutations`` re-splits.
    """
    if len(train) != len(holdout):
        raise ValueError(f"train and holdout must be the same size, got {len(train)} and {len(holdout)}")
    rng = np.random.default_rng(random_state)
    pooled = np.r_[train, holdout]
    splits = resplits(len(train), n_permutations, rng)
    d_train, _ = knn(synthetic, train, k=2)
    d_hold, _ = knn(synthetic, holdout, k=1)
    base, _ = knn(holdout, train, k=1)
    # NNDR: closest over second-closest training record; near 0 means one record stands out.
    nndr = d_train[:, 0] / np.maximum(d_train[:, 1], 1e-12)
    nndr[d_train[:, 1] == 0] = 0.0
    out = {
        "dcr_share": closer_share(d_train[:, 0], d_hold[:, 0]),
        "dcr_share_null_sd": share_null_sd(synthetic, pooled, splits),
        "dcr_synthetic_p05": float(np.percentile(d_train[:, 0], 5)),
        "dcr_synthetic_median": float(np.median(d_train[:, 0])),
        "dcr_holdout_p05": float(np.percentile(base[:, 0], 5)),
        "nndr_p05": float(np.percentile(nndr, 5)),
        "dcr_share_worst_subset": None,
        "dcr_worst_subset_columns": None,
        "dcr_worst_subset_null_sd": None,
        "dcr_subsets_searched": 0,
        "histogram": _dcr_histogram(d_train[:, 0], base[:, 0]),
    }
    subsets = column_subsets(groups or {}, rng, n_subsets=n_subsets, min_columns_for_thirds=min_columns_for_subsets)
    worst = None
    for columns in subsets:
        feats = [f for c in columns for f in groups[c]]
        to_t, _ = knn(synthetic[:, feats], train[:, feats])
        to_h, _ = knn(synthetic[:, feats], holdout[:, feats])
        share = closer_share(to_t[:, 0], to_h[:, 0])
        if worst is None or share > worst[0]:
            worst = (share, columns, feats)
    if worst is not None:
        share, columns, feats = worst
        out |= {"dcr_share_worst_subset": share, "dcr_worst_subset_columns": columns,
                "dcr_worst_subset_null_sd": share_null_sd(synthetic[:, feats], pooled[:, feats], splits),
                "dcr_subsets_searched": len(subsets)}
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


def exact_match_rate(train: pd.DataFrame, other: pd.DataFrame) -> float:
    """Share of ``other``'s rows equal, value for value, to some training row."""
    ids = row_ids(pd.concat([train, other[list(train.columns)]], ignore_index=True))
    return float(np.isin(ids[len(train) :], ids[: len(train)]).mean())


def _members_and_nonmembers(
    train: np.ndarray, holdout: np.ndarray, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    members = train[rng.choice(len(train), size=n, replace=False)]
    nonmembers = holdout[rng.choice(len(holdout), size=n, replace=False)]
    return members, nonmembers


def _auc(scores: tuple[np.ndarray, np.ndarray]) -> float:
    members, nonmembers = scores
    return float(roc_auc_score(np.r_[np.ones(len(members)), np.zeros(len(nonmembers))], np.r_[members, nonmembers]))


def mia_distance_scores(
    train: np.ndarray, holdout: np.ndarray, synthetic: np.ndarray, *, random_state: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Attack scores (minus the distance to the closest synthetic row) of members and non-members."""
    rng = np.random.default_rng(random_state)
    n = min(len(train), len(holdout))
    members, nonmembers = _members_and_nonmembers(train, holdout, n, rng)
    d_in, _ = knn(members, synthetic)
    d_out, _ = knn(nonmembers, synthetic)
    return -d_in[:, 0], -d_out[:, 0]


def mia_distance_auc(
    train: np.ndarray, holdout: np.ndarray, synthetic: np.ndarray, *, random_state: int = 0
) -> float:
    """AUC of guessing membership from closeness to the synthetic data (0.5: no signal)."""
    return _auc(mia_distance_scores(train, holdout, synthetic, random_state=random_state))


# Singular values below this share of the largest count as zero. sklearn may take them as square
# roots of covariance eigenvalues, so a zero one comes out near sqrt(1e-16) = 1e-8, not 1e-16.
RANK_TOLERANCE = 1e-6


def mia_density_ratio_scores(
    train: np.ndarray,
    holdout: np.ndarray,
    synthetic: np.ndarray,
    *,
    max_components: int = 8,
    max_fit_rows: int = 5_000,
    max_candidates: int = 2_000,
    random_state: int = 0,
) -> tuple[np.ndarray, np.ndarray] | None:
    """DOMIAS-style attack: log p_synthetic(x) - log p_real(x) of members and non-members.

    Half the holdout stands in for the attacker's reference sample of the real
    population (its density is the denominator); the other half are the
    non-members. Densities are Gaussian KDEs (Scott's bandwidth) on whitened
    principal components fitted on the reference half. KDE cost grows with
    fitted rows x scored rows, so both are capped (seeded samples): the AUC of
    2,000 + 2,000 candidates is already within about 0.01. None below
    ``MIN_DENSITY_HOLDOUT`` holdout rows (no reference density to speak of).
    """
    if len(holdout) < MIN_DENSITY_HOLDOUT:
        return None
    rng = np.random.default_rng(random_state)
    order = rng.permutation(len(holdout))
    reference, outside = holdout[order[: len(order) // 2]], holdout[order[len(order) // 2 :]]
    n = min(len(outside), len(train), max_candidates)
    members, nonmembers = _members_and_nonmembers(train, outside, n, rng)
    pca = PCA(n_components=min(max_components, reference.shape[1], len(reference) - 1), whiten=True)
    pca.fit(reference)
    # Directions with no variance (the complementary one-hot columns of a category) hold rounding
    # noise only; whitened, it is blown up by 1e15, decides the densities and differs by CPU.
    rank = int((pca.singular_values_ > RANK_TOLERANCE * pca.singular_values_[0]).sum())
    if rank < pca.n_components_:
        pca = PCA(n_components=max(rank, 1), whiten=True).fit(reference)
    syn_fit = synthetic[rng.choice(len(synthetic), size=min(len(synthetic), max_fit_rows), replace=False)]
    p_syn = KernelDensity(bandwidth="scott").fit(pca.transform(syn_fit))
    p_ref = KernelDensity(bandwidth="scott").fit(pca.transform(reference))
    candidates = pca.transform(np.r_[members, nonmembers])
    score = p_syn.score_samples(candidates) - p_ref.score_samples(candidates)
    return score[:n], score[n:]


def mia_density_ratio_auc(train: np.ndarray, holdout: np.ndarray, synthetic: np.ndarray, **kwargs) -> float | None:
    """AUC of the DOMIAS-style attack (``mia_density_ratio_scores``); 0.5: no signal."""
    scores = mia_density_ratio_scores(train, holdout, synthetic, **kwargs)
    return None if scores is None else _auc(scores)


def anonymeter_risks(
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    secret: str | None,
    n_attacks: int = 300,
    confidence_level: float = 0.95,
    random_state: int = 0,
) -> dict:
    """Singling-out, linkability and inference risk (anonymeter), each with its interval.

    The holdout is anonymeter's control set, so each risk is the attack's
    success on training records beyond its success on records never seen
    (see ``_risk`` for the interval, at ``confidence_level``). Linkability
    counts a link when both halves of a record's columns (every other
    column, so that each half mixes the table's kinds of column) have the
    same nearest synthetic row (one neighbour: with more, a small synthetic
    set links nearly every control record too, and no risk is left to
    measure).
    ``null_half_width`` is the half-width the interval would have if the
    attack did no better on training records than on the control: the
    resolution these numbers of attacks allow. Inference
    is attribute inference of ``secret`` (default: the last column) from all
    other columns. anonymeter scales each numeric column by its range in the
    table attacked (training or control) together with the synthetic one, so
    one extreme value in the control alone would blunt every control attack;
    the columns are therefore given as real quantiles (``_real_quantiles``)
    first, which spans the same range in every table. anonymeter draws from
    numpy's global generator; it is seeded with ``random_state`` for the
    call and restored afterwards.
    """
    from anonymeter.evaluators import (
        InferenceEvaluator,
        LinkabilityEvaluator,
        SinglingOutEvaluator,
    )

    n_attacks = max(1, min(n_attacks, len(holdout), len(train)))
    cols = list(train.columns)
    secret = secret if secret in cols else cols[-1]
    aux = [c for c in cols if c != secret]
    train, holdout, synthetic = _real_quantiles(train, holdout, synthetic, aux)
    attacks = {
        "singling_out_risk": lambda: SinglingOutEvaluator(
            train, synthetic, n_attacks=n_attacks, control=holdout, seed=random_state,
            max_attempts=20 * n_attacks,
        ).evaluate(mode="univariate"),
        "linkability_risk": (lambda: LinkabilityEvaluator(
            train, synthetic, aux_cols=(cols[0::2], cols[1::2]),
            n_attacks=n_attacks, control=holdout, n_neighbors=1,
        ).evaluate(n_jobs=1)) if len(cols) >= 2 else None,
        "inference_risk": (lambda: InferenceEvaluator(
            train, synthetic, aux_cols=aux, secret=secret,
            regression=pd.api.types.is_float_dtype(train[secret]), n_attacks=n_attacks, control=holdout,
        ).evaluate(n_jobs=1)) if aux else None,
    }
    out: dict = {name: _risk(run, confidence_level, random_state) if run else None for name, run in attacks.items()}
    # Attacks that apply to these columns but that anonymeter could not mount (None for another reason).
    out["attacks_not_mounted"] = [name for name, run in attacks.items() if run and out[name] is None]
    out["inference_secret"] = secret
    return out


def _real_quantiles(train: pd.DataFrame, holdout: pd.DataFrame, synthetic: pd.DataFrame, columns: list[str]):
    """The tables with each numeric column of ``columns`` mapped to its quantile among the real values.

    The map (interpolated between the sorted distinct values of training and
    holdout together, clipped at their ends) is monotone, so order and
    equality are kept; every table then spans about 0..1 whatever outliers it has.
    """
    out = [train.copy(), holdout.copy(), synthetic.copy()]
    for col in columns:
        if is_categorical(train[col]):
            continue
        values = np.unique(pd.concat([train[col], holdout[col]]).dropna().to_numpy(np.float64))
        if len(values) < 2:
            continue
        ranks = np.linspace(0.0, 1.0, len(values))
        for frame in out:
            frame[col] = np.interp(frame[col].to_numpy(np.float64, na_value=np.nan), values, ranks)
    return out


def _risk(run, confidence_level: float, seed: int) -> dict | None:
    """One attack's risk, with an interval from the raw success counts.

    risk = (train rate - control rate) / (1 - control rate), anonymeter's
    residual success with plain rates. Its interval is Newcombe's for the
    rate difference (``evaluation.stats.difference_interval``), divided by
    ``1 - control rate``: anonymeter's own interval (kept under
    ``anonymeter``) propagates errors through that ratio to first order,
    which is far too narrow at a few dozen attacks; the difference's
    interval excludes 0 only when the two rates truly differ.
    """
    logger = logging.getLogger("anonymeter")
    level, state = logger.level, np.random.get_state()
    # anonymeter warns and logs on every small-sample attack; the interval says so.
    logger.setLevel(logging.ERROR)
    np.random.seed(seed)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            results = run().results(confidence_level=confidence_level)
            theirs = results.risk()
    except Exception:  # an attack anonymeter cannot mount (too few rows, no query) is unknown
        return None
    finally:
        logger.setLevel(level)
        np.random.set_state(state)
    n_train, n_control = results.n_attacks_ori, results.n_attacks_control
    train_rate, control_rate = results.n_success / n_train, results.n_control / n_control
    if control_rate >= 1:
        return None  # every control record falls to the attack: no room left to measure
    z = z_value(confidence_level)
    headroom = 1 - control_rate
    diff, low, high = difference_interval(results.n_success, n_train, results.n_control, n_control, z)
    pooled = (results.n_success + results.n_control) / (n_train + n_control)
    _, even_low, even_high = difference_interval(pooled * n_train, n_train, pooled * n_control, n_control, z)
    return {
        "value": float(np.clip(diff / headroom, 0, 1)),
        "ci": [float(np.clip(low / headroom, 0, 1)), float(np.clip(high / headroom, 0, 1))],
        "null_half_width": float((even_high - even_low) / 2 / (1 - pooled)) if pooled < 1 else float("inf"),
        # What the attack could still gain at the ideal: the risk scale stretches as it shrinks.
        "headroom": float(1 - pooled),
        "n_attacks": int(n_train),
        "success_rate": {"train": float(train_rate), "control": float(control_rate)},
        "anonymeter": {"value": float(theirs.value), "ci": [float(theirs.ci[0]), float(theirs.ci[1])]},
    }


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
