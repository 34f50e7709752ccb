"""The reports the metric registry builds are those built before it, key for key and value for value.

Values are compared to a millionth (relative, or absolute near zero): CPUs round floats differently in the last bits (SIMD widths
change summation order), so the same code on another machine writes other final digits.
"""

from __future__ import annotations

import copy
import json
import math

import pytest

from tests.evaluation import golden

# anonymeter's singling-out queries follow the order of a polars group_by, which changes from process to
# process (see its declaration in evaluation.builtin_metrics): every value drawn from it is set aside.
VARIES = "varies from process to process"


def _steady(text: str) -> dict:
    report = json.loads(text)
    if report["kind"] == "tabular":
        report = copy.deepcopy(report)
        privacy = report["privacy"]
        privacy["singling_out_risk"] = privacy["intervals"]["singling_out_risk"] = VARIES
        report["summary"]["privacy_score"] = VARIES
        report["summary"]["composition"]["privacy"]["attacks"]["value"] = VARIES
        for check in report["verdict"]["checks"]:
            if check["name"] == "singling_out_risk":
                check.clear()
        # The fingerprint of the encoded (standardised, so float) test split: its last bits follow the CPU.
        report["utility"]["test_split"]["sha256"] = "hashes floats"
    return report


def _differences(stored, built, path: str = "") -> list[str]:
    if isinstance(stored, dict) and isinstance(built, dict):
        if stored.keys() != built.keys():
            return [f"{path}: keys {sorted(stored)} != {sorted(built)}"]
        return [d for key in stored for d in _differences(stored[key], built[key], f"{path}.{key}")]
    if isinstance(stored, list) and isinstance(built, list):
        if len(stored) != len(built):
            return [f"{path}: {len(stored)} items != {len(built)}"]
        return [d for i, (a, b) in enumerate(zip(stored, built, strict=True)) for d in _differences(a, b, f"{path}[{i}]")]
    if isinstance(stored, float) and isinstance(built, float | int) and not isinstance(built, bool):
        return [] if math.isclose(stored, built, rel_tol=1e-6, abs_tol=1e-6) else [f"{path}: {stored} != {built}"]
    return [] if stored == built and type(stored) is type(built) else [f"{path}: {stored!r} != {built!r}"]


@pytest.mark.parametrize("kind", sorted(golden.REPORTS))
def test_reports_are_unchanged(kind):
    stored = _steady((golden.DATA / f"golden_{kind}_report.json").read_text())
    built = _steady(golden.text(golden.REPORTS[kind]()))
    assert _differences(stored, built) == []


def test_the_comparison_sees_a_changed_value_and_forgives_last_digits():
    stored = {"a": [0.123456789, "x"], "b": {"c": 1}}
    assert _differences(stored, {"a": [0.123456789 * (1 + 1e-12), "x"], "b": {"c": 1}}) == []
    assert _differences(stored, {"a": [0.1235, "x"], "b": {"c": 1}}) == [".a[0]: 0.123456789 != 0.1235"]
    assert _differences(stored, {"a": [0.123456789, "x"], "b": {"d": 1}}) == [".b: keys ['c'] != ['d']"]
