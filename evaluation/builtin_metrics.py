"""The built-in metrics' declarations, in the report's key order.

Each reads its value from an intermediate the report shares between metrics
(``Context.shared``): "utility" (TSTR/TRTR), "fidelity" (column and feature
metrics), "privacy" (one k-NN search feeds the DCR share, its percentiles and
NNDR; the membership attacks; exact matches) and, for tables, "attacks"
(anonymeter's risks, merged into "privacy").
"""

from __future__ import annotations

import numpy as np

from evaluation.metrics import Metric

BOTH, TABLES = ("tabular", "image"), ("tabular",)


def _closeness(value: float | None) -> float | None:
    """1 at an AUC or share of 0.5 (no signal), 0 at 1."""
    return None if value is None else float(np.clip(1 - 2 * max(0.0, value - 0.5), 0, 1))


def _read(stage: str, key: str):
    return lambda ctx: ctx.shared(stage)[key]


def _intervals(stage: str, *checks: str):
    """The gate statistics of ``checks`` the stage computed (a check it left out does not apply)."""
    def read(ctx) -> dict[str, dict]:
        intervals = ctx.shared(stage)["intervals"]
        return {c: intervals[c] for c in checks if c in intervals}
    return read


def _fidelity(name: str, direction: str, formats=BOTH, **declared) -> Metric:
    return Metric(name, "fidelity", formats, direction, _read("fidelity", name), **declared)


def _risk(name: str) -> Metric:
    return Metric(
        name, "privacy", TABLES, "lower", _read("attacks", name), threshold=0.1, gate=True, ideal=0.0,
        clear_leak=0.3, interval=_intervals("attacks", name), component="attacks", note=(name,),
        score=lambda risk: None if risk is None else 1 - risk["value"],
        exempt={"determinism": "anonymeter's singling-out queries follow the order of a polars group_by, "
                               "which changes from process to process"} if name == "singling_out_risk" else {},
    )


def _mia_score(aucs: dict) -> float | None:
    present = [v for v in aucs.values() if v is not None]
    return _closeness(max(present)) if present else None


BUILTIN_METRICS = (
    Metric("utility_ratio", "utility", BOTH, "higher", _read("utility", "ratio"), key="ratio", threshold=0.8,
           component="utility", score=lambda r: float(np.clip(r, 0, 1)), note=("utility.ratio (clipped to 0..1)",)),
    _fidelity("ks_complement", "higher", threshold=0.8, component="column_shapes", score=float,
              note=("ks_complement",)),
    _fidelity("tv_complement", "higher", TABLES, threshold=0.8, component="column_shapes", score=float,
              note=("tv_complement",)),
    _fidelity("correlation_similarity", "higher", component="column_pairs", score=float,
              note=("correlation_similarity",)),
    _fidelity("mmd", "lower"),
    _fidelity("frechet", "lower"),
    _fidelity("kid", "lower"),
    _fidelity("precision", "higher"),
    _fidelity("recall", "higher"),
    _fidelity("density", "ideal 1", exempt={
        "copy_vs_independent": "a copy sits at the centre of its own real k-NN ball, so it counts one ball "
                               "more than a draw of the same distribution (about 1 + 1/k, past the ideal 1)"}),
    _fidelity("coverage", "higher"),
    _fidelity("alpha_precision", "higher"),
    _fidelity("beta_recall", "higher"),
    _fidelity("authenticity", "higher", exempt={
        "copy_vs_independent": "it scores not copying: a copy of the training rows gets 0 by design"}),
    _fidelity("c2st_auc", "ideal 0.5", threshold=0.8, component="detection", score=_closeness,
              note=("c2st_auc (1 - 2*max(0, auc - 0.5))",)),
    Metric("dcr_share", "privacy", BOTH, "ideal 0.5", _read("privacy", "dcr_share"), threshold=0.55, gate=True,
           ideal=0.5, clear_leak=0.6, interval=_intervals("privacy", "dcr_share"), component="dcr",
           score=_closeness, note=("dcr_share, dcr_share_worst_subset (1 - 2*max(0, share - 0.5))",)),
    # The worst column subset's share: judged by dcr_share's threshold; a context key, not a contract one.
    Metric("dcr_share_worst_subset", "privacy", TABLES, "ideal 0.5", _read("privacy", "dcr_share_worst_subset"),
           gate=True, family="dcr_share", interval=_intervals("privacy", "dcr_share_worst_subset"),
           contract=False, component="dcr", score=_closeness),
    Metric("dcr_synthetic_p05", "privacy", BOTH, "higher", _read("privacy", "dcr_synthetic_p05")),
    Metric("dcr_holdout_p05", "privacy", BOTH, "higher", _read("privacy", "dcr_holdout_p05")),
    Metric("nndr_p05", "privacy", BOTH, "higher", _read("privacy", "nndr_p05")),
    Metric("exact_match_rate", "privacy", BOTH, "lower", _read("privacy", "exact_match_rate")),
    Metric("mia_auc", "privacy", BOTH, "ideal 0.5", _read("privacy", "mia_auc"), threshold=0.6, gate=True,
           ideal=0.5, clear_leak=0.7, checks=("mia_auc.distance", "mia_auc.density_ratio"),
           interval=_intervals("privacy", "mia_auc.distance", "mia_auc.density_ratio"),
           component="membership_inference", score=_mia_score, note=("mia_auc.distance", "mia_auc.density_ratio")),
    # Synthetic exact-match rate minus the real holdout's (the real data's own repeat rate).
    Metric("exact_match_excess", "privacy", BOTH, "lower", _read("privacy", "exact_match_excess"), threshold=0.01,
           gate=True, ideal=0.0, clear_leak=0.1, interval=_intervals("privacy", "exact_match_excess"),
           contract=False, component="exact_matches", score=lambda excess: 1 - max(0.0, excess),
           note=("exact_match_excess (1 - max(0, synthetic rate - holdout rate))",)),
    _risk("singling_out_risk"),
    _risk("linkability_risk"),
    _risk("inference_risk"),
    # Exact, not estimated: judged against the report's epsilon_budget.
    Metric("epsilon", "privacy", TABLES, "lower", lambda ctx: ctx.options.get("epsilon"), gate=True, exempt={
        "copy_vs_independent": "the generator's declared privacy budget, not measured from the data"}),
)
