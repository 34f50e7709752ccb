"""The metric registry: declarations are checked, it freezes, and a registered metric joins the report."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest

import contracts.registry
import evaluation
from contracts.registry import Registry
from evaluation import gate, metrics
from evaluation.metrics import Metric
from tests.evaluation.conftest import population


def _const(value):
    return lambda ctx: value


def test_the_declarations_give_the_gate_and_report_constants():
    assert metrics.default_thresholds() == {
        "dcr_share": 0.55, "mia_auc": 0.6, "exact_match_excess": 0.01, "singling_out_risk": 0.1,
        "linkability_risk": 0.1, "inference_risk": 0.1,
        "utility_ratio": 0.8, "ks_complement": 0.8, "tv_complement": 0.8, "c2st_auc": 0.8}
    assert gate.gated_checks("image") == ["dcr_share", "mia_auc.distance", "mia_auc.density_ratio",
                                          "exact_match_excess"]
    assert len(gate.gated_checks("tabular")) == 8
    assert gate.family("dcr_share_worst_subset") == "dcr_share" and gate.family("mia_auc.distance") == "mia_auc"


@pytest.mark.parametrize(("field", "value", "message"), [
    ("section", "speed", "section must be one of"),
    ("formats", ("audio",), "formats must be some of"),
    ("direction", "sideways", "direction must be"),
    ("exempt", {"speed": "fast"}, "unknown checks"),
    ("checks", ("other.part",), "check names must be"),
])
def test_a_bad_declaration_is_refused(field, value, message):
    declared = {"name": "m", "section": "privacy", "formats": ("tabular",), "direction": "lower",
                "compute": _const(0.0)} | {field: value}
    with pytest.raises(ValueError, match=message):
        Metric(**declared)


def test_a_gating_metric_needs_its_gate_levels():
    with pytest.raises(ValueError, match="threshold, an ideal and a clear leak"):
        Metric("m", "privacy", ("tabular",), "lower", _const(0.0), gate=True, threshold=0.1,
               interval=_const({}))


def test_the_registry_is_frozen_after_first_use():
    metrics.all_metrics()
    with pytest.raises(RuntimeError, match="frozen"):
        metrics.register(Metric("late", "privacy", ("tabular",), "lower", _const(0.0)))
    with pytest.raises(metrics.UnknownMetric, match="known metrics: utility_ratio"):
        metrics.get("nope")


def test_plugins_are_loaded_from_the_entry_point_group(monkeypatch):
    plugin = Metric("plugin_metric", "fidelity", ("tabular",), "higher", _const(1.0))
    declared = metrics.METRICS
    fresh = Registry("metric", Metric, declared.key, builtins=declared.builtins,
                     entry_point_group=declared.entry_point_group, unknown=metrics.UnknownMetric)
    entry = EntryPoint("plugin_metric", "tests.evaluation.test_metrics:PLUGIN", metrics.ENTRY_POINT_GROUP)
    monkeypatch.setattr(contracts.registry, "entry_points",
                        lambda group: [entry] if group == metrics.ENTRY_POINT_GROUP else [])
    monkeypatch.setitem(globals(), "PLUGIN", plugin)
    assert fresh.get("plugin_metric") is plugin
    assert fresh.source_of("plugin_metric") == entry.value
    # After every built-in: the registry's order is the report's key order.
    assert [m.name for m in fresh.all()] == [*(m.name for m in metrics.all_metrics()), "plugin_metric"]


def test_a_registered_metric_joins_the_report_summary_and_verdict():
    train, holdout = population(80, seed=1), population(80, seed=2)
    extra = Metric("row_ratio", "fidelity", ("tabular",), "higher",
                   lambda ctx: len(ctx.synthetic) / len(ctx.real_train), threshold=0.9,
                   component="column_pairs", score=lambda v: min(v, 1.0), note=("row_ratio",))
    with metrics.temporarily_registered(extra):
        report = evaluation.build_tabular_report(train, holdout, population(40, seed=3), target=None,
                                                 seeds=(0,), n_attacks=50, fidelity_rows=80)
        assert list(report["fidelity"])[: len(evaluation.report.FIDELITY_KEYS) + 1] == [
            *evaluation.report.FIDELITY_KEYS, "row_ratio"]
    assert report["fidelity"]["row_ratio"] == 0.5
    assert report["thresholds"]["row_ratio"] == 0.9
    check = next(c for c in report["verdict"]["checks"] if c["name"] == "row_ratio")
    assert check | {} == {"name": "row_ratio", "value": 0.5, "threshold": 0.9, "op": ">=", "passed": False,
                          "gate": False, "status": "fail", "ci": None}
    pairs = report["summary"]["composition"]["quality"]["column_pairs"]
    # The mean of correlation_similarity's score and row_ratio's (0.5).
    assert pairs["from"] == ["correlation_similarity", "row_ratio"]
    assert pairs["value"] == pytest.approx((report["fidelity"]["correlation_similarity"] + 0.5) / 2)
    assert "row_ratio" not in {m.name for m in metrics.all_metrics()}
