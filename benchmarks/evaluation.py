"""Evaluation speed, side by side with SDMetrics, on a real table (statsmodels' randhie).

1. Our SDMetrics-compatible DCR scores vs SDMetrics' DCROverfittingProtection and
   DCRBaselineProtection on the same rows (2,500 and 10,000 per table): both
   times, the ratio, and the largest difference in values (scores, breakdowns,
   and at the smallest size every per-row DCR against SDMetrics' calculate_dcr).
2. The whole tabular report for a 20,000-row synthetic table.
3. Our DCR (exact nearest neighbour, default distance) for 1,000,000 synthetic
   rows against 100,000 real rows.

Synthetic tables come from a smoothed bootstrap of the real rows they are
fitted on (rows resampled, continuous columns jittered by 5% of their standard
deviation): a simple, somewhat leaky generator, so the scores are neither 0
nor 1. Real train and holdout are disjoint real rows of randhie; the 100,000
real rows of (3), more than randhie has, are a smoothed bootstrap of it too.
The last line printed is the figures as JSON.

    python benchmarks/evaluation.py            # full run (SDMetrics needs ~4 min per metric at 10,000)
    python benchmarks/evaluation.py --quick    # 2,500 rows only
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path and its name would
# shadow the `evaluation` package: drop the folder before importing it.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import statsmodels.api as sm  # noqa: E402
from sdmetrics.single_table import DCRBaselineProtection, DCROverfittingProtection  # noqa: E402
from sdmetrics.single_table.privacy.dcr_utils import calculate_dcr  # noqa: E402

from evaluation import build_tabular_report  # noqa: E402
from evaluation.distances import knn, sdmetrics_dcr  # noqa: E402
from evaluation.encoding import TableEncoder  # noqa: E402
from evaluation.privacy import dcr_baseline_protection, dcr_overfitting_protection  # noqa: E402

SEED = 0


def load() -> tuple[pd.DataFrame, list[str]]:
    data = sm.datasets.randhie.load_pandas().data
    binary = [c for c in data.columns if data[c].nunique() <= 2]
    return data, binary


def split(data: pd.DataFrame, n: int, rng: np.random.Generator):
    """Disjoint real train and holdout of n rows each, and n synthetic rows fitted on train."""
    order = rng.permutation(len(data))
    train = data.iloc[order[:n]].reset_index(drop=True)
    holdout = data.iloc[order[n : 2 * n]].reset_index(drop=True)
    return train, holdout, smoothed_bootstrap(train, n, rng)


def smoothed_bootstrap(data: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
    out = data.iloc[rng.integers(0, len(data), n)].reset_index(drop=True)
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col]):
            out[col] = out[col] + rng.normal(0, 0.05 * data[col].std(), n)
    return out


def _flatten(value, prefix="") -> dict[str, float]:
    if isinstance(value, dict):
        return {k: v for key, sub in value.items() for k, v in _flatten(sub, f"{prefix}{key}.").items()}
    return {prefix.rstrip("."): float(value)}


def _max_diff(a: dict, b: dict) -> float:
    fa, fb = _flatten(a), _flatten(b)
    assert fa.keys() == fb.keys()
    return max(abs(fa[k] - fb[k]) for k in fa)


def _timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start


def compare_with_sdmetrics(data: pd.DataFrame, binary: list[str], n: int, per_row: bool) -> dict:
    rng = np.random.default_rng(SEED)
    train, holdout, synthetic = split(data, n, rng)
    metadata = {"columns": {c: {"sdtype": "categorical" if c in binary else "numerical"} for c in data}}
    out = {}

    theirs, t_theirs = _timed(DCROverfittingProtection.compute_breakdown, train, synthetic, holdout, metadata, None)
    ours, t_ours = _timed(dcr_overfitting_protection, train, synthetic, holdout, binary)
    out["DCROverfittingProtection"] = {"sdmetrics_s": t_theirs, "ours_s": t_ours, "ratio": t_theirs / t_ours,
                                       "max_abs_diff": _max_diff(theirs, ours), "score": ours["score"]}

    DCRBaselineProtection._seed = SEED  # the same uniform random table on both sides
    theirs, t_theirs = _timed(DCRBaselineProtection.compute_breakdown, train, synthetic, metadata, None)
    ours, t_ours = _timed(dcr_baseline_protection, train, synthetic, binary, seed=SEED)
    out["DCRBaselineProtection"] = {"sdmetrics_s": t_theirs, "ours_s": t_ours, "ratio": t_theirs / t_ours,
                                    "max_abs_diff": _max_diff(theirs, ours), "score": ours["score"]}
    if per_row:
        expected = calculate_dcr(synthetic, train, metadata).to_numpy()
        out["per_row_dcr_max_abs_diff"] = float(np.abs(expected - sdmetrics_dcr(synthetic, train, binary)).max())
    for name, row in out.items():
        if isinstance(row, dict):
            print(f"  {n:>6} rows  {name:<26} SDMetrics {row['sdmetrics_s']:8.2f} s   ours {row['ours_s']:6.3f} s"
                  f"   {row['ratio']:7.0f}x   max |diff| {row['max_abs_diff']:.1e}", flush=True)
    return out


def whole_report(data: pd.DataFrame, n_synthetic: int) -> dict:
    rng = np.random.default_rng(SEED)
    order = rng.permutation(len(data))
    half = len(data) // 2
    train, holdout = data.iloc[order[:half]].reset_index(drop=True), data.iloc[order[half:2 * half]].reset_index(drop=True)
    synthetic = smoothed_bootstrap(train, n_synthetic, rng)
    report, seconds = _timed(build_tabular_report, train, holdout, synthetic, target="mdvis", task="regression")
    print(f"  whole report: {n_synthetic} synthetic rows vs {half} + {half} real rows: {seconds:.1f} s", flush=True)
    return {"seconds": seconds, "synthetic_rows": n_synthetic, "real_rows_each": half,
            "quality_score": report["summary"]["quality_score"], "privacy_score": report["summary"]["privacy_score"]}


def large_dcr(data: pd.DataFrame, n_synthetic: int, n_real: int) -> dict:
    rng = np.random.default_rng(SEED)
    real = smoothed_bootstrap(data, n_real, rng)
    synthetic = smoothed_bootstrap(data, n_synthetic, rng)
    encoder = TableEncoder.fit(real)
    x_real, x_syn = encoder.transform(real), encoder.transform(synthetic)
    (dist, _), seconds = _timed(knn, x_syn, x_real, k=1)
    print(f"  DCR {n_synthetic:,} x {n_real:,} rows ({x_real.shape[1]} features): {seconds:.1f} s", flush=True)
    return {"seconds": seconds, "synthetic_rows": n_synthetic, "real_rows": n_real,
            "features": x_real.shape[1], "dcr_median": float(np.median(dist))}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="compare with SDMetrics at 2,500 rows only")
    p.add_argument("--sizes", type=int, nargs="+", default=[2500, 10000], help="rows per table")
    p.add_argument("--skip-report", action="store_true")
    p.add_argument("--skip-large", action="store_true")
    args = p.parse_args()
    warnings.filterwarnings("ignore")
    data, binary = load()
    sizes = [2500] if args.quick else args.sizes
    figures = {"dataset": "statsmodels randhie", "rows_available": len(data), "sdmetrics": {}}
    print("SDMetrics-compatible DCR vs SDMetrics:", flush=True)
    for n in sizes:
        figures["sdmetrics"][str(n)] = compare_with_sdmetrics(data, binary, n, per_row=n == min(sizes))
    if not args.skip_report:
        figures["report_20000"] = whole_report(data, 20_000)
    if not args.skip_large:
        figures["dcr_1m_x_100k"] = large_dcr(data, 1_000_000, 100_000)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
