"""The evaluation report: one JSON document ("synthreg.report/1") per synthetic version.

Contract keys (stable): ``schema``, ``summary``, ``utility``, ``fidelity``,
``privacy``, ``verdict``. A metric that does not apply is ``None``, never
missing. Further keys (``details`` with the aggregates the plots are drawn
from, ``thresholds``, ``rows``...) may be added; none of them holds a real
record or a real value: only counts, frequencies, distances and scores.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable

import numpy as np
import pandas as pd

from evaluation import fidelity, metrics, privacy
from evaluation.columns import screen_columns
from evaluation.distances import knn
from evaluation.encoding import TableEncoder, is_categorical
from evaluation.errors import InputError
from evaluation.features import image_features
from evaluation.gate import CI_LEVEL, check_level, check_z, decide, family, gated_checks, judge
from evaluation.stats import auc_interval, difference_interval, null_auc_se, z_value
from evaluation.threads import limit_threads
from evaluation.utility import IMAGE_MODELS, TABULAR_MODELS, infer_task, tstr_trtr
from evaluation.version import EVALUATION_VERSION

SCHEMA = "synthreg.report/1"

# Gate thresholds, then advisory ones (shown as pass/fail, never gating), as the metrics declare them.
DEFAULT_THRESHOLDS = metrics.default_thresholds()
# Threshold names that changed meaning, with what replaced them (named in the error).
RENAMED_THRESHOLDS = {"exact_match_rate": "exact_match_excess (synthetic exact-match rate minus the real holdout's)"}
# A synthetic image this close to a real one (RMS pixel difference over the real pixel range) is a copy.
NEAR_COPY_TOLERANCE = 1 / 16

# The sections' contract keys, in the registry's order (``evaluation.builtin_metrics``).
FIDELITY_KEYS = metrics.contract_keys("fidelity")
PRIVACY_KEYS = metrics.contract_keys("privacy")
# Shown beside the contract keys in the HTML page.
PRIVACY_CONTEXT_KEYS = (
    "dcr_share_worst_subset", "dcr_worst_subset_columns", "exact_match_rate_holdout", "exact_match_excess",
    "excluded_columns", "dcr_random_baseline", "sdmetrics", "inference_secret",
)

Progress = Callable[[float, str], None] | None


class _Stages:
    """Maps each stage's own 0..1 progress onto its slice of the whole run."""

    def __init__(self, progress: Progress, weights: dict[str, float]):
        self.progress, self.total, self.done = progress, sum(weights.values()), 0.0
        self.weights = weights

    def run(self, name: str, fn: Callable, *args, **kwargs):
        start, width = self.done / self.total, self.weights[name] / self.total
        if self.progress:
            self.progress(start, name)
            if "progress" in kwargs:
                kwargs["progress"] = lambda f, msg: self.progress(start + width * f, f"{name}: {msg}")
        result = fn(*args, **kwargs)
        self.done += self.weights[name]
        if self.progress and self.done >= self.total:
            self.progress(1.0, "done")
        return result


# --- input checks --------------------------------------------------------------


def validate_tables(
    real_train: pd.DataFrame, real_holdout: pd.DataFrame, synthetic: pd.DataFrame, target: str | None
) -> None:
    """Raise ValueError naming what is wrong; messages name tables and columns, never values.

    Besides the schema: numbers must be finite (NaN is a missing value and
    allowed; infinity is refused), and some column must be left once
    identifier-like and free-text columns are set aside (``evaluation.columns``).
    """
    tables = {"real_train": real_train, "real_holdout": real_holdout, "synthetic": synthetic}
    for name, table in tables.items():
        if table.shape[1] == 0:
            raise InputError(f"{name} has no columns")
        if len(table) < 2:
            raise InputError(f"{name} has {len(table)} rows; at least 2 are needed")
    expected = list(real_train.columns)
    for name in ("real_holdout", "synthetic"):
        cols = list(tables[name].columns)
        missing = [c for c in expected if c not in cols]
        extra = [c for c in cols if c not in expected]
        if missing or extra:
            parts = ([f"missing column(s) {missing}"] if missing else []) + (
                [f"unexpected column(s) {extra}"] if extra else []
            )
            raise InputError(f"{name} does not match real_train's schema: " + "; ".join(parts))
        for col in expected:
            if is_categorical(real_train[col]) != is_categorical(tables[name][col]):
                kinds = ("categorical", "numeric")
                raise InputError(
                    f"column {col!r} is {kinds[not is_categorical(real_train[col])]} in real_train "
                    f"but {kinds[not is_categorical(tables[name][col])]} in {name}"
                )
    for name, table in tables.items():
        for col in table.columns:
            _check_finite(table[col], f"{name} column {col!r}")
    if target is not None and target not in expected:
        raise InputError(f"target column {target!r} is not in real_train (columns: {expected})")
    if target is not None:
        for name, table in tables.items():
            if table[target].notna().sum() < 2:
                raise InputError(f"{name} has fewer than 2 rows with a value in target column {target!r}")
    keep = [target] if target is not None else []
    excluded = [e["column"] for e in screen_columns(real_train, real_holdout, keep=keep)]
    if len(excluded) == len(expected):
        raise InputError(f"every column of real_train is identifier-like or free text ({excluded}); "
                         "nothing is left to compare")


def _check_finite(series: pd.Series, where: str) -> None:
    """Numbers must be real and finite; a missing value (NaN, None) is allowed and means missing."""
    if is_categorical(series):
        return
    if pd.api.types.is_complex_dtype(series):
        raise InputError(f"{where} holds complex numbers; only real numbers can be compared")
    if np.isinf(series.to_numpy(np.float64, na_value=np.nan)).any():
        raise InputError(f"{where} holds infinite values; replace them with finite numbers "
                         "or leave them empty (missing)")


# --- scores and verdict --------------------------------------------------------


def _weighted(components: dict[str, dict]) -> float | None:
    present = {k: c for k, c in components.items() if c["value"] is not None}
    if not present:
        return None
    total = sum(c["weight"] for c in present.values())
    return round(100 * sum(c["value"] * c["weight"] for c in present.values()) / total, 1)


def _mean(values) -> float | None:
    values = [v for v in values if v is not None]
    return float(np.mean(values)) if values else None


def _worst(values) -> float | None:
    values = [v for v in values if v is not None]
    return min(values) if values else None


def summarize(values: dict) -> dict:
    """Quality and privacy scores on 0..100, each a weighted mean of named 0..1 components.

    ``values`` holds each metric's value by name. A component (``metrics.COMPONENTS``)
    is the mean of its metrics' scores (quality) or the worst of them (privacy);
    components that do not apply are left out and the weights renormalised.
    """
    composition = {}
    for score, combine, sections in (("quality", _mean, ("utility", "fidelity")), ("privacy", _worst, ("privacy",))):
        feeding = [m for m in metrics.all_metrics() if m.component and m.section in sections]
        names = dict.fromkeys(metrics.COMPONENTS[score] + tuple(m.component for m in feeding))
        composition[score] = {}
        for name in names:
            members = [m for m in feeding if m.component == name]
            composition[score][name] = {
                "value": combine(m.score(values[m.name]) for m in members if values[m.name] is not None),
                "weight": 1.0, "from": [note for m in members for note in m.note]}
    return {
        "quality_score": _weighted(composition["quality"]),
        "privacy_score": _weighted(composition["privacy"]),
        "composition": composition,
    }


def verdict(values: dict, intervals: dict, thresholds: dict, epsilon_budget: float | None,
            kind: str = "tabular") -> dict:
    """Each check's result; the privacy gate is pass, fail or inconclusive (see ``evaluation.gate``).

    Gating metrics with an interval are judged by the gate; the rest with a
    threshold (epsilon, against ``epsilon_budget``; the advisory ones) are exact.
    """
    checks, unsure = [], []
    for name in gated_checks(kind):
        if name in intervals:  # absent: the check does not apply (e.g. one column, no link)
            check, why = judge(name, intervals[name], thresholds[family(name)])
            checks.append(check)
            unsure += [why] if why else []
    limits = thresholds | {"epsilon": epsilon_budget}
    everything = metrics.all_metrics()
    exact = [m for m in everything if m.gate and m.interval is None] + [
        m for m in everything if not m.gate and m.threshold is not None]
    for m in exact:
        value, limit = values[m.name], limits.get(m.name)
        if value is None or limit is None:
            continue
        passed = bool(value >= limit if m.op == ">=" else value <= limit)
        checks.append({"name": m.name, "value": value, "threshold": limit, "op": m.op, "passed": passed,
                       "gate": m.gate, "status": "pass" if passed else "fail", "ci": None})
    return decide(checks, unsure) | {
        "checks": checks,
        "intervals": {"level": CI_LEVEL, "joint_over_checks": len(gated_checks(kind)), "z": check_z(kind)},
    }


def _thresholds(overrides: dict | None) -> dict:
    merged = metrics.default_thresholds()
    for key, value in (overrides or {}).items():
        if key in RENAMED_THRESHOLDS:
            raise InputError(f"threshold {key!r} is now {RENAMED_THRESHOLDS[key]}; rename or drop the override")
        if key not in merged:
            raise InputError(f"unknown threshold {key!r}; known: {sorted(merged)}")
        merged[key] = float(value)
    return merged


def _json_safe(value):
    """Plain JSON types only: numpy scalars unwrapped, NaN/inf as null."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _in_order(stage: dict, declared: list, values: dict) -> dict:
    """A section: its contract keys first, in the registry's order, then the stage's other keys,
    each declared metric's key holding that metric's value."""
    contract = {m.key: values[m.name] for m in declared if m.contract}
    rest = {k: v for k, v in stage.items() if k not in contract}
    return contract | rest | {m.key: values[m.name] for m in declared if not m.contract}


def _assemble(ctx: metrics.Context, utility: dict, fid: dict, priv: dict, thresholds: dict,
              epsilon_budget: float | None, extra: dict) -> dict:
    """The report from the shared stages, each section's metrics read from the registry."""
    values = {m.name: m.value(ctx) for m in metrics.all_metrics()}
    intervals = {}
    for m in metrics.all_metrics():
        if m.interval is not None and ctx.kind in m.formats:
            intervals |= m.interval(ctx)
    kind = ctx.kind
    utility = utility | {m.key: values[m.name] for m in metrics.section("utility")}
    fid = _in_order(fid, metrics.section("fidelity"), values)
    priv = _in_order(priv, metrics.section("privacy"), values) | {"intervals": intervals}
    return _json_safe({
        "schema": SCHEMA,
        "kind": kind,
        "evaluation_version": EVALUATION_VERSION,
        "summary": summarize(values),
        "utility": utility,
        "fidelity": fid,
        "privacy": priv,
        "verdict": verdict(values, intervals, thresholds, epsilon_budget, kind),
        "thresholds": thresholds | {"epsilon_budget": epsilon_budget},
        **extra,
    })


def _fingerprint(*arrays) -> str:
    """sha256 of the data, so the fixed real test split can be recorded without its content."""
    digest = hashlib.sha256()
    for a in arrays:
        digest.update(np.ascontiguousarray(a).tobytes())
    return digest.hexdigest()


# --- plot aggregates -------------------------------------------------------------


def _column_plot(
    real: pd.Series, synthetic: pd.Series, *, holdout: pd.Series | None = None, min_count: int = 5,
    bins: int = 20, synthetic_labels: bool = True,
) -> dict:
    """Aggregates for one column's real-vs-synthetic plot, with no real value in them.

    Numeric bin edges span the synthetic data, rounded outward (``_round_range``)
    so that no edge is a record's value; real values beyond them fall in the
    outer bins. A category label is shown only if at least ``min_count`` real
    rows (training and ``holdout``) share it, or, with ``synthetic_labels``, if
    no real row has it (a label of the synthetic data's own); the rest count
    as "(other)".
    """
    if is_categorical(real):
        r, s = real.astype(str).value_counts(), synthetic.astype(str).value_counts()
        everywhere = r.add(holdout.astype(str).value_counts(), fill_value=0) if holdout is not None else r
        shown = [c for c in s.index.union(r.index)
                 if everywhere.get(c, 0) >= min_count or (synthetic_labels and c not in everywhere.index)][:30]
        other_r, other_s = r.drop(shown, errors="ignore").sum(), s.drop(shown, errors="ignore").sum()
        labels = shown + (["(other)"] if other_r or other_s else [])
        real_counts = [int(r.get(c, 0)) for c in shown] + ([int(other_r)] if len(labels) > len(shown) else [])
        syn_counts = [int(s.get(c, 0)) for c in shown] + ([int(other_s)] if len(labels) > len(shown) else [])
        return {"type": "bars", "labels": labels,
                "real": (np.array(real_counts) / max(1, len(real))).tolist(),
                "synthetic": (np.array(syn_counts) / max(1, len(synthetic))).tolist()}
    syn_values = pd.to_numeric(synthetic).dropna().to_numpy(float)
    real_values = pd.to_numeric(real).dropna().to_numpy(float)
    if len(syn_values) == 0:
        return {"type": "hist", "edges": [], "real": [], "synthetic": []}
    edges = np.linspace(*_round_range(syn_values.min(), syn_values.max()), bins + 1)
    clipped = np.clip(real_values, edges[0], edges[-1])
    return {
        "type": "hist",
        "edges": edges.tolist(),
        "real": (np.histogram(clipped, edges)[0] / max(1, len(real_values))).tolist(),
        "synthetic": (np.histogram(syn_values, edges)[0] / len(syn_values)).tolist(),
    }


def _round_range(low: float, high: float) -> tuple[float, float]:
    """``[low, high]`` widened to multiples of a tenth of its order of magnitude (of the value's, if constant)."""
    scale = high - low or abs(low) or 1.0
    step = 10.0 ** (math.floor(math.log10(scale)) - 1)
    lo, hi = math.floor(low / step + 1e-9) * step, math.ceil(high / step - 1e-9) * step
    if hi <= lo:
        hi = lo + step
    digits = max(0, 1 - math.floor(math.log10(scale)))
    return round(lo, digits), round(hi, digits)


def _correlation_plot(real: pd.DataFrame, synthetic: pd.DataFrame, max_columns: int = 30) -> dict | None:
    cols = list(real.columns)[:max_columns]
    if len(cols) < 2:
        return None
    return {"columns": cols, "real": real[cols].corr().to_numpy().tolist(),
            "synthetic": synthetic[cols].corr().to_numpy().tolist()}


def _distance_privacy(
    train: np.ndarray, holdout: np.ndarray, synthetic: np.ndarray,
    groups: dict[str, list[int]] | None, random_state: int, kind: str,
) -> dict:
    """DCR metrics and membership inference on encoded rows, with the gate's intervals.

    The DCR share needs real sets of equal size: the larger is cut down to the
    smaller (a seeded sample); the synthetic set is always used whole.
    """
    rng = np.random.default_rng(random_state)
    n = min(len(train), len(holdout))
    tr = train[np.sort(rng.choice(len(train), n, replace=False))]
    ho = holdout[np.sort(rng.choice(len(holdout), n, replace=False))]
    priv = privacy.dcr_metrics(tr, ho, synthetic, groups=groups, random_state=random_state)
    z = check_z(kind)
    intervals = {"dcr_share": _share_interval(priv["dcr_share"], priv["dcr_share_null_sd"], z, n)}
    if priv["dcr_share_worst_subset"] is not None:
        # The worst of several subsets: its interval is widened for all of them (Bonferroni).
        z_subsets = z_value(CI_LEVEL, len(gated_checks(kind)) * priv["dcr_subsets_searched"])
        intervals["dcr_share_worst_subset"] = _share_interval(
            priv["dcr_share_worst_subset"], priv["dcr_worst_subset_null_sd"], z_subsets, n)
    attacks = {
        "distance": privacy.mia_distance_scores(tr, ho, synthetic, random_state=random_state),
        "density_ratio": privacy.mia_density_ratio_scores(tr, ho, synthetic, random_state=random_state),
    }
    priv["mia_auc"] = {}
    for attack, scores in attacks.items():
        if scores is None:
            priv["mia_auc"][attack] = None
            intervals[f"mia_auc.{attack}"] = {
                "value": None, "rows_needed": privacy.MIN_DENSITY_HOLDOUT,
                "reason": f"{n} real rows per side are too few to fit the attack's reference density "
                          f"(it needs {privacy.MIN_DENSITY_HOLDOUT})"}
            continue
        auc = auc_interval(*scores, z)
        priv["mia_auc"][attack] = auc["value"]
        intervals[f"mia_auc.{attack}"] = {
            "value": auc["value"], "ci": auc["ci"], "se_delong": auc["se_delong"],
            "null_half_width": z * null_auc_se(len(scores[0]), len(scores[1])), "rows": n,
            "members": len(scores[0]), "non_members": len(scores[1])}
    priv["intervals"] = intervals
    priv["rows"] = {"train": len(train), "holdout": len(holdout), "synthetic": len(synthetic),
                    "dcr_real_rows_per_side": n}
    return priv


def _share_interval(share: float, null_sd: float, z: float, rows: int) -> dict:
    return {"value": share, "ci": [max(0.0, share - z * null_sd), min(1.0, share + z * null_sd)],
            "null_sd": null_sd, "null_half_width": z * null_sd, "rows": rows}


def _exact_match_interval(synthetic_rate: float, n_synthetic: int, holdout_rate: float, n_holdout: int,
                          z: float) -> dict:
    """The synthetic exact-match rate minus the holdout's, with Newcombe's interval."""
    x_s, x_h = synthetic_rate * n_synthetic, holdout_rate * n_holdout
    excess, low, high = difference_interval(x_s, n_synthetic, x_h, n_holdout, z)
    # At the ideal both rates are the pooled one.
    pooled = (x_s + x_h) / (n_synthetic + n_holdout)
    _, even_low, even_high = difference_interval(pooled * n_synthetic, n_synthetic, pooled * n_holdout,
                                                 n_holdout, z)
    return {"value": excess, "ci": [low, high], "null_half_width": (even_high - even_low) / 2,
            "rows": n_holdout}


# --- tabular -------------------------------------------------------------------------


def build_tabular_report(
    real_train: pd.DataFrame,
    real_holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    target: str | None,
    task: str | None = None,
    thresholds: dict | None = None,
    epsilon: float | None = None,
    epsilon_budget: float | None = None,
    random_state: int = 0,
    progress: Progress = None,
    seeds: tuple[int, ...] = (0, 1, 2),
    models: tuple[str, ...] = TABULAR_MODELS,
    n_attacks: int = 1000,
    fidelity_rows: int = 3000,
    sdmetrics_max_pairs: float = 2e8,
    n_threads: int | None = 1,
    include_samples: bool = True,
) -> dict:
    """Report for a synthetic table against the real training table and a real holdout.

    ``target`` names the column TSTR predicts (None: no utility section);
    ``task`` is "classification" or "regression" (default: inferred from the
    target). Identifier-like and free-text columns (``evaluation.columns``;
    never the target) are left out of every metric and plot and named in
    ``privacy.excluded_columns``. The SDMetrics-compatible DCR scores are
    computed only while synthetic x training rows stay within
    ``sdmetrics_max_pairs`` (else null). ``include_samples=False`` (for data
    that must not leave) also keeps out the category labels of the synthetic
    data's own; a table report never carries samples. ``n_threads`` caps
    OpenMP/BLAS/torch threads (see ``evaluation.threads``).
    """
    ctx = tabular_context(real_train, real_holdout, synthetic, target=target, task=task, epsilon=epsilon,
                          random_state=random_state, progress=progress, seeds=seeds, models=models,
                          n_attacks=n_attacks, fidelity_rows=fidelity_rows, sdmetrics_max_pairs=sdmetrics_max_pairs)
    thresholds = _thresholds(thresholds)
    with limit_threads(n_threads):
        return _tabular_report(ctx, thresholds, epsilon_budget, include_samples)


def tabular_context(
    real_train: pd.DataFrame, real_holdout: pd.DataFrame, synthetic: pd.DataFrame, *, target: str | None,
    task: str | None = None, epsilon: float | None = None, random_state: int = 0, progress: Progress = None,
    seeds: tuple[int, ...] = (0, 1, 2), models: tuple[str, ...] = TABULAR_MODELS, n_attacks: int = 1000,
    fidelity_rows: int = 3000, sdmetrics_max_pairs: float = 2e8,
) -> metrics.Context:
    """A table evaluation's metric context: the checked inputs, and its stages computed on first use.

    The arguments mean what they mean to ``build_tabular_report``; identifier-like
    and free-text columns are left out here. A metric's ``compute`` (and
    ``evaluation.checks``) runs on it.
    """
    validate_tables(real_train, real_holdout, synthetic, target)
    excluded = screen_columns(real_train, real_holdout, keep=[target] if target is not None else [])
    cols = [c for c in real_train.columns if c not in {e["column"] for e in excluded}]
    real_train, real_holdout, synthetic = real_train[cols], real_holdout[cols], synthetic[cols]
    stages = _Stages(progress, {"utility": 4, "fidelity": 3, "privacy": 3, "attacks": 2})
    encoder = TableEncoder.fit(real_train)
    numeric, categorical = encoder.numeric, encoder.categorical

    def utility_stage() -> dict:
        if target is None:
            return {"task": None, "metric": None, "tstr": None, "trtr": None, "ratio": None}
        features = [c for c in cols if c != target]
        x_enc = TableEncoder.fit(real_train, features)
        # Rows without a target value can be neither learned from nor scored.
        labelled = [t[t[target].notna()] for t in (real_train, synthetic, real_holdout)]
        x_train, x_syn, x_test = (x_enc.transform(t) for t in labelled)
        if x_train.shape[1] == 0:  # the target alone: predict from a constant
            x_train, x_syn, x_test = (np.zeros((len(t), 1)) for t in labelled)
        y_train, y_syn, y_test = (t[target].to_numpy() for t in labelled)
        utility = stages.run(
            "utility", tstr_trtr, x_train, y_train, x_syn, y_syn, x_test, y_test,
            task=task or infer_task(real_train[target]), models=models, seeds=seeds, progress=progress,
        )
        utility["target"] = target
        utility["test_split"] = {
            "source": "real_holdout", "rows": len(y_test),
            "sha256": _fingerprint(x_test, y_test.astype(str)),
        }
        return utility

    def fidelity_stage() -> dict:
        enc_train, enc_syn = (encoder.transform(t) for t in (real_train, synthetic))
        per_col = {}
        for c in numeric:
            per_col[c] = {"kind": "numeric", "metric": "ks_complement",
                          "score": fidelity.ks_complement(real_train[c], synthetic[c])}
        for c in categorical:
            per_col[c] = {"kind": "categorical", "metric": "tv_complement",
                          "score": fidelity.tv_complement(real_train[c], synthetic[c])}
        fid = {
            "ks_complement": _mean([per_col[c]["score"] for c in numeric]),
            "tv_complement": _mean([per_col[c]["score"] for c in categorical]),
            "correlation_similarity": fidelity.correlation_similarity(
                real_train[numeric].astype(float), synthetic[numeric].astype(float)
            ),
            **fidelity.feature_metrics(enc_train, enc_syn, max_rows=fidelity_rows, random_state=random_state),
            "columns": per_col,
            "features": {"space": "encoded table (see evaluation.encoding)", "dim": enc_train.shape[1],
                         "rows_per_side": min(fidelity_rows, len(enc_train), len(enc_syn))},
        }
        return fid

    def privacy_stage() -> dict:
        # Fitted on all real rows, train and holdout alike, so the distance favours neither side;
        # every table's categories have their own slot, and no column counts more than 1.
        private = TableEncoder.fit(pd.concat([real_train, real_holdout], ignore_index=True),
                                   categories_from=(synthetic,), clip=True)
        p_train, p_hold, p_syn = (private.transform(t) for t in (real_train, real_holdout, synthetic))
        priv = _distance_privacy(p_train, p_hold, p_syn, private.feature_groups(), random_state, "tabular")
        priv["exact_match_rate"] = privacy.exact_match_rate(real_train, synthetic)
        # The same rate for real rows never trained on: tables of few discrete values repeat rows.
        priv["exact_match_rate_holdout"] = privacy.exact_match_rate(real_train, real_holdout)
        priv["intervals"]["exact_match_excess"] = _exact_match_interval(
            priv["exact_match_rate"], len(synthetic), priv["exact_match_rate_holdout"], len(real_holdout),
            check_z("tabular"))
        priv["exact_match_excess"] = priv["intervals"]["exact_match_excess"]["value"]
        priv["excluded_columns"] = excluded
        priv["dcr_random_baseline"] = privacy.random_baseline(
            priv["dcr_synthetic_median"], real_train, private.transform, seed=random_state
        )
        priv["epsilon"] = epsilon
        priv["distance"] = {"metric": "euclidean",
                            "encoding": "evaluation.encoding (scheme='euclidean', clip=True), fitted on "
                                        "train and holdout, with the categories of all three tables"}
        if len(synthetic) * len(real_train) <= sdmetrics_max_pairs:
            priv["sdmetrics"] = {
                "dcr_overfitting_protection": privacy.dcr_overfitting_protection(
                    real_train, synthetic, real_holdout, categorical)["score"],
                "dcr_baseline_protection": privacy.dcr_baseline_protection(
                    real_train, synthetic, categorical, seed=random_state)["score"],
            }
        else:
            priv["sdmetrics"] = {"dcr_overfitting_protection": None, "dcr_baseline_protection": None}
        return priv

    def attacks_stage() -> dict:
        """anonymeter's risks and their gate statistics, merged into the privacy stage's results."""
        priv = ctx.shared("privacy")
        risks = stages.run(
            "attacks", privacy.anonymeter_risks, real_train, real_holdout, synthetic, secret=target,
            n_attacks=n_attacks, confidence_level=check_level("tabular"), random_state=random_state,
        )
        priv.update(risks)
        for name in ("singling_out_risk", "linkability_risk", "inference_risk"):
            if risks[name] is not None or name in risks["attacks_not_mounted"]:
                priv["intervals"][name] = _risk_interval(risks[name], n_attacks)
        return priv

    ctx = metrics.Context("tabular", real_train, real_holdout, synthetic, target=target,
                          random_state=random_state, options={"epsilon": epsilon, "numeric": numeric},
                          builders={"utility": utility_stage, "fidelity": lambda: stages.run("fidelity", fidelity_stage),
                                    "privacy": lambda: stages.run("privacy", privacy_stage), "attacks": attacks_stage})
    return ctx


def _tabular_report(ctx: metrics.Context, thresholds: dict, epsilon_budget: float | None,
                    include_samples: bool) -> dict:
    # The stages in their order (the progress reported follows it).
    utility, fid, priv = ctx.shared("utility"), ctx.shared("fidelity"), ctx.shared("attacks")
    real_train, real_holdout, synthetic = ctx.real_train, ctx.real_holdout, ctx.synthetic
    numeric = ctx.options["numeric"]
    details = {
        "columns": {c: _column_plot(real_train[c], synthetic[c], holdout=real_holdout[c],
                                    synthetic_labels=include_samples) for c in real_train.columns},
        "correlation": _correlation_plot(real_train[numeric].astype(float), synthetic[numeric].astype(float)),
        "dcr_histogram": priv.pop("histogram"),
        "samples": None,
    }
    return _assemble(ctx, utility, fid, priv, thresholds, epsilon_budget, {"details": details})


def _risk_interval(risk: dict | None, n_attacks: int) -> dict:
    """An anonymeter risk as a gate statistic; its size is the number of attacks."""
    if risk is None:
        return {"value": None, "rows_needed": None,
                "reason": "anonymeter could not mount this attack on these data"}
    unit = ("attacks per side (one per real row)" if risk["n_attacks"] < n_attacks
            else "attacks per side (n_attacks)")
    return {"value": risk["value"], "ci": risk["ci"], "null_half_width": risk["null_half_width"],
            "headroom": risk["headroom"], "rows": risk["n_attacks"], "unit": unit}


# --- images ---------------------------------------------------------------------------


def _validate_images(named: dict[str, tuple]) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], tuple[int, int]]:
    """The sets as float arrays and their common image size; ValueError naming the set if not."""
    arrays, shapes = {}, set()
    for name, (images, labels) in named.items():
        try:
            images = np.asarray(images, float)
        except (TypeError, ValueError):
            raise InputError(f"{name} images are not numbers") from None
        labels = np.asarray(labels)
        if images.ndim != 3:
            raise InputError(f"{name} images must be an N x H x W array, got {images.ndim} dimensions")
        if len(images) < 2:
            raise InputError(f"{name} has {len(images)} images; at least 2 are needed")
        if len(labels) != len(images):
            raise InputError(f"{name} has {len(images)} images but {len(labels)} labels")
        if not np.isfinite(images).all():
            raise InputError(f"{name} images hold non-finite pixels (NaN or infinity); every pixel needs a number")
        arrays[name] = (images, labels)
        shapes.add(images.shape[1:])
    if len(shapes) != 1:
        raise InputError(f"image sizes differ between the sets: {sorted(shapes)}")
    return arrays, shapes.pop()


def build_image_report(
    real_train_images: np.ndarray,
    real_train_labels: np.ndarray,
    real_holdout_images: np.ndarray,
    real_holdout_labels: np.ndarray,
    synthetic_images: np.ndarray,
    synthetic_labels: np.ndarray,
    *,
    thresholds: dict | None = None,
    random_state: int = 0,
    progress: Progress = None,
    seeds: tuple[int, ...] = (0, 1, 2),
    models: tuple[str, ...] = IMAGE_MODELS,
    fidelity_rows: int = 3000,
    n_samples: int = 25,
    n_threads: int | None = 1,
    include_samples: bool = True,
) -> dict:
    """Report for labelled synthetic images (N x H x W) against real train and holdout images.

    Pixels are divided by the real training maximum (e.g. 16 for sklearn's
    digits). Distribution metrics use features of a fixed, seeded random-init
    CNN (recorded under ``fidelity.features``); privacy distances use pixels,
    clipped to the real range. Up to ``n_samples`` synthetic images are shown,
    never one within ``NEAR_COPY_TOLERANCE`` of a real image (train or
    holdout; see ``details.samples``); ``include_samples=False`` shows none
    (``details.samples`` is None). ``n_threads`` caps OpenMP/BLAS/torch
    threads (see ``evaluation.threads``).
    """
    ctx = image_context(real_train_images, real_train_labels, real_holdout_images, real_holdout_labels,
                        synthetic_images, synthetic_labels, random_state=random_state, progress=progress,
                        seeds=seeds, models=models, fidelity_rows=fidelity_rows)
    thresholds = _thresholds(thresholds)
    with limit_threads(n_threads):
        return _image_report(ctx, thresholds, n_samples if include_samples else None)


def image_context(
    real_train_images: np.ndarray, real_train_labels: np.ndarray, real_holdout_images: np.ndarray,
    real_holdout_labels: np.ndarray, synthetic_images: np.ndarray, synthetic_labels: np.ndarray, *,
    random_state: int = 0, progress: Progress = None, seeds: tuple[int, ...] = (0, 1, 2),
    models: tuple[str, ...] = IMAGE_MODELS, fidelity_rows: int = 3000, utility_reason: str | None = None,
) -> metrics.Context:
    """An image evaluation's metric context (see ``tabular_context``; arguments as ``build_image_report``'s).

    ``real_train``, ``real_holdout`` and ``synthetic`` are ``(images, labels)``, checked. With
    ``utility_reason`` no model is trained: utility does not apply, for that reason (the synthetic
    labels are then not read).
    """
    sets, shape = _validate_images({
        "real_train": (real_train_images, real_train_labels),
        "real_holdout": (real_holdout_images, real_holdout_labels),
        "synthetic": (synthetic_images, synthetic_labels),
    })
    stages = _Stages(progress, {"utility": 4, "fidelity": 3, "privacy": 2})
    scale = float(sets["real_train"][0].max()) or 1.0
    (tr, y_tr), (ho, y_ho), (sy, y_sy) = (
        (imgs.reshape(len(imgs), -1) / scale, labels) for imgs, labels in sets.values()
    )

    def utility_stage() -> dict:
        if utility_reason is not None:  # through the stages all the same, so progress reaches 1
            return stages.run("utility", lambda: {"task": None, "metric": None, "tstr": None, "trtr": None,
                                                  "ratio": None, "not_applicable": utility_reason})
        utility = stages.run(
            "utility", tstr_trtr, tr, y_tr, sy, y_sy, ho, y_ho, task="classification",
            models=models, seeds=seeds, image_shape=shape, progress=progress,
        )
        utility["target"] = "label"
        utility["test_split"] = {"source": "real_holdout", "rows": len(ho),
                                 "sha256": _fingerprint(ho, y_ho.astype(str))}
        return utility

    def fidelity_stage() -> dict:
        feats, network = image_features([tr, sy], shape)
        pixels_real, pixels_syn = pd.DataFrame(tr), pd.DataFrame(sy)
        small = tr.shape[1] <= 1024  # per-pixel statistics only make sense for small images
        return {
            "ks_complement": _mean(fidelity.ks_complement(pixels_real[c], pixels_syn[c])
                                   for c in pixels_real.columns) if small else None,
            "tv_complement": None,
            "correlation_similarity": fidelity.correlation_similarity(pixels_real, pixels_syn) if small else None,
            **fidelity.feature_metrics(*feats, max_rows=fidelity_rows, random_state=random_state),
            "features": network | {"rows_per_side": min(fidelity_rows, len(tr), len(sy))},
        }

    low, high = min(tr.min(), ho.min()), max(tr.max(), ho.max())

    def privacy_stage() -> dict:
        # Clipped to the real range, so no pixel made far off on purpose can swamp the distance.
        priv = _distance_privacy(tr, ho, np.clip(sy, low, high), None, random_state, "image")
        priv["exact_match_rate"] = privacy.exact_match_rate(pd.DataFrame(tr), pd.DataFrame(sy))
        priv["exact_match_rate_holdout"] = privacy.exact_match_rate(pd.DataFrame(tr), pd.DataFrame(ho))
        priv["intervals"]["exact_match_excess"] = _exact_match_interval(
            priv["exact_match_rate"], len(sy), priv["exact_match_rate_holdout"], len(ho), check_z("image"))
        priv["exact_match_excess"] = priv["intervals"]["exact_match_excess"]["value"]
        priv |= {"singling_out_risk": None, "linkability_risk": None, "inference_risk": None,
                 "epsilon": None, "excluded_columns": [],
                 "distance": {"metric": "euclidean", "encoding": "pixels / scale, clipped to the real range"}}
        return priv

    return metrics.Context(
        "image", sets["real_train"], sets["real_holdout"], sets["synthetic"], target="label",
        random_state=random_state,
        options={"pixels": (tr, ho, sy), "labels": y_sy, "shape": shape, "scale": scale, "range": (low, high)},
        builders={"utility": utility_stage, "fidelity": lambda: stages.run("fidelity", fidelity_stage),
                  "privacy": lambda: stages.run("privacy", privacy_stage)})


def _image_report(ctx: metrics.Context, thresholds: dict, n_samples: int | None) -> dict:
    # The stages in their order (the progress reported follows it).
    utility, fid, priv = ctx.shared("utility"), ctx.shared("fidelity"), ctx.shared("privacy")
    (tr, ho, sy), shape, scale, (low, high) = (ctx.options[k] for k in ("pixels", "shape", "scale", "range"))
    details = {
        "columns": {"pixel intensity": _column_plot(pd.Series(tr.ravel() * scale), pd.Series(sy.ravel() * scale))},
        "correlation": None,
        "dcr_histogram": priv.pop("histogram"),
        "samples": None if n_samples is None else _samples(sy, ctx.options["labels"], np.r_[tr, ho], shape, scale,
                                                            n_samples, tolerance=NEAR_COPY_TOLERANCE * (high - low)),
    }
    return _assemble(ctx, utility, fid, priv, thresholds, None, {"details": details})


def _samples(synthetic: np.ndarray, labels: np.ndarray, real: np.ndarray, shape: tuple[int, int],
             scale: float, n_samples: int, tolerance: float) -> dict:
    """The first ``n_samples`` synthetic images that are no near copy of a real one, and how many were.

    A near copy is within ``tolerance`` of some real image in root-mean-square
    pixel difference (pixels / scale); synthetic images are taken in order,
    and each near copy met on the way is dropped and counted.
    """
    kept, dropped = [], 0
    block = max(1, 4 * n_samples)
    for start in range(0, len(synthetic), block):
        if len(kept) >= n_samples:
            break
        distance, _ = knn(synthetic[start : start + block], real)
        rms = distance[:, 0] / math.sqrt(synthetic.shape[1])
        for offset in range(len(rms)):
            if len(kept) >= n_samples:
                break
            if rms[offset] <= tolerance:
                dropped += 1
            else:
                kept.append(start + offset)
    return {
        "images": (synthetic[kept] * scale).reshape(-1, *shape).round(3).tolist(),
        "labels": [str(labels[i]) for i in kept],
        "dropped_near_copies": dropped,
        "tolerance": {"metric": "root-mean-square pixel difference to the closest real image "
                                "(train or holdout), over the real pixel range",
                      "max": NEAR_COPY_TOLERANCE},
    }
