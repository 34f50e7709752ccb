"""The privacy gate: pass, fail or inconclusive, from each privacy metric and its interval.

Every gating metric has an ideal (what a generator that never saw the
training rows gets: a DCR share or AUC of 0.5, an exact-match excess or an
attack risk of 0) and a threshold. Its interval is wide enough that the
intervals of all of a report kind's gating checks (``gated_checks``) hold together with
probability ``CI_LEVEL`` (Bonferroni), so independent real data fails the
gate at most 2.5% of the time however many checks there are. A check

* fails when its value is past the threshold and its interval excludes the ideal;
* is inconclusive when it does not fail and the data are too small to tell: the
  interval a value at the ideal would get (``null_half_width``) is wider than
  the distance from the ideal to a clear leak (the metric's ``clear_leak``, or the
  threshold if that is further; for an attack risk, also at least the risk
  that wins ``CLEAR_GAIN`` more training records than control records, since
  where the control attack already succeeds the risk scale is stretched by
  1 / (1 - control rate)), so even a clear leak could pass; or when the
  metric could not be computed at this size. ``rows_needed`` is the real rows
  per side at which it would be told apart, by the 1/sqrt(n) law of every
  interval here (at the same synthetic-to-real ratio);
* passes otherwise.

The gate fails when any check fails, else is inconclusive when any is, else passes.
Thresholds, ideals and clear leaks are the gating metrics' declarations
(``evaluation.builtin_metrics``).
"""

from __future__ import annotations

import math

from evaluation import metrics
from evaluation.stats import z_value

CI_LEVEL = 0.95

# An attack that succeeds on this many more training records (per record attacked) is a clear leak.
CLEAR_GAIN = 0.1


def gated_checks(kind: str) -> list[str]:
    """The statistical checks of a report kind, from the registry's gating metrics (epsilon, when given,
    is exact and gates too)."""
    return [check for m in metrics.gated(kind) for check in m.checks]


def metric_of(check: str) -> metrics.Metric:
    """The metric that declares ``check`` (``mia_auc.distance``: ``mia_auc``)."""
    return metrics.get(check.split(".")[0])


def family(check: str) -> str:
    """The threshold a check is judged by: ``dcr_share_worst_subset`` by ``dcr_share``, ``mia_auc.*`` by ``mia_auc``."""
    return metrics.judged_as(metric_of(check)).name


def check_level(kind: str) -> float:
    """Confidence level of each gating interval of a report kind (Bonferroni share of ``CI_LEVEL``)."""
    return 1 - (1 - CI_LEVEL) / len(gated_checks(kind))


def check_z(kind: str) -> float:
    """Normal quantile of each gating interval of a report kind (joint level ``CI_LEVEL``)."""
    return z_value(CI_LEVEL, len(gated_checks(kind)))


def judge(name: str, stat: dict | None, threshold: float) -> tuple[dict, dict | None]:
    """One gating check, and why it is inconclusive (or None).

    ``stat`` is ``{value, ci, null_half_width, rows}``, or ``{value: None,
    reason, rows_needed}`` for a metric the data were too small to compute.
    """
    judged = metrics.judged_as(metric_of(name))
    ideal = judged.ideal
    check = {"name": name, "value": None, "threshold": threshold, "op": "<=", "gate": True, "ideal": ideal,
             "ci": None, "null_half_width": None, "clear_leak": judged.clear_leak}
    if stat is None or stat.get("value") is None:
        why = {"check": name, "reason": (stat or {}).get("reason", "could not be computed on these data"),
               "rows_needed": (stat or {}).get("rows_needed")}
        return check | {"status": "inconclusive", "passed": False}, why
    value, (low, _high), width = stat["value"], stat["ci"], stat["null_half_width"]
    check |= {"value": value, "ci": stat["ci"], "null_half_width": width}
    margin = max(judged.clear_leak, threshold) - ideal
    if stat.get("headroom"):
        margin = max(margin, CLEAR_GAIN / stat["headroom"])
    why = None
    if value > threshold and low > ideal:
        status = "fail"
    elif width > margin:
        status = "inconclusive"
        needed = math.ceil(stat["rows"] * (width / margin) ** 2 - 1e-9)
        why = {"check": name, "rows_needed": needed,
               "reason": f"{stat['rows']} {stat.get('unit', 'real rows per side')} give an interval of "
                         f"±{width:.3g} around {ideal:g}, wider than the {margin:.3g} to a clear leak "
                         f"({ideal + margin:.3g}); about {needed} would tell them apart"}
    else:
        status = "pass"
    check["clear_leak"] = ideal + margin
    return check | {"status": status, "passed": status == "pass"}, why


def decide(checks: list[dict], inconclusive: list[dict]) -> dict:
    """``privacy_gate``, ``failed`` and ``inconclusive`` from the judged checks."""
    failed = [c["name"] for c in checks if c["gate"] and c["status"] == "fail"]
    state = "fail" if failed else "inconclusive" if inconclusive else "pass"
    return {"privacy_gate": state, "failed": failed, "inconclusive": inconclusive}
