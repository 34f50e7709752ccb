"""The contract every registered generator must pass (in the manner of scikit-learn's estimator checks).

Run over every entry of the registry, so a new built-in or plugin is checked by being registered.
"""

import hashlib
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from generators import registry
from generators import spec as contract
from generators.params import ParameterError
from generators.spec import GenerateResult

SPECS = registry.all_specs()
SMALL = {"n": 6}
# Small parameter sets whose output the estimate must match; built-ins also vary their shapes.
SIZE_CASES = {
    "digits": [{"mode": "image", "resolution": 20, "n": 7}],
    "scenes": [{"n": 4, "width": 32, "height": 24}, {"n": 2, "width": 16, "height": 16, "sequence": {"frames": 3}},
               {"n": 2, "width": 24, "height": 16, "modality": "multispectral", "channels": 7}],
}


def digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def run(spec, tmp_path: Path, name: str, inputs=None, **overrides) -> tuple[GenerateResult, Path, list[float]]:
    out = tmp_path / name
    out.mkdir()
    fractions: list[float] = []
    params = registry.validate(spec.slug, {**SMALL, **overrides})
    result = spec.run(params, out, lambda fraction, message: fractions.append(fraction), **(inputs or {}))
    return result, out, fractions


def test_there_are_builtin_generators():
    assert {"digits", "scenes"} <= {spec.slug for spec in SPECS}


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.slug)
def test_schema_is_valid_and_complete_with_defaults(spec):
    Draft202012Validator.check_schema(spec.schema)
    assert spec.schema.get("additionalProperties") is False, "unknown parameters must be refused"
    assert {"n", "seed"} <= set(spec.schema["properties"])
    missing = [name for name, prop in spec.schema["properties"].items() if "default" not in prop]
    assert not missing, f"parameters without a default: {missing}"
    assert registry.validate(spec.slug, {})["n"] >= 1
    assert spec.kind in ("renderer", "refiner", "adapter", "feedback", "tabular")
    assert spec.queue in ("cpu", "gpu") and spec.version


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.slug)
def test_invalid_parameters_name_the_parameter(spec):
    with pytest.raises(ParameterError) as unknown:
        registry.validate(spec.slug, {"no_such_parameter": 1})
    assert unknown.value.field == "no_such_parameter"
    with pytest.raises(ParameterError) as wrong:
        registry.validate(spec.slug, {"n": "six"})
    assert wrong.value.field == "n"


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.slug)
def test_same_seed_same_bytes_other_seed_other_bytes(spec, tmp_path):
    first, out1, fractions = run(spec, tmp_path, "a", seed=11)
    _, out2, _ = run(spec, tmp_path, "b", seed=11)
    _, out3, _ = run(spec, tmp_path, "c", seed=12)
    assert first.samples == SMALL["n"]
    assert digest(out1) and digest(out1) == digest(out2)
    assert digest(out1) != digest(out3)
    assert fractions and fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)
    assert all(0.0 <= f <= 1.0 for f in fractions)
    if first.preview:
        assert (out1 / first.preview).is_file()


BACKGROUND_TAKERS = [spec for spec in SPECS if "backgrounds" in spec.inputs]


@pytest.mark.parametrize("spec", BACKGROUND_TAKERS, ids=lambda s: s.slug)
def test_backgrounds_change_the_output_deterministically(spec, tmp_path):
    import numpy as np

    backgrounds = {"backgrounds": np.random.default_rng(0).integers(0, 256, (4, 24, 24), dtype=np.uint8)}
    _, plain, _ = run(spec, tmp_path, "plain", seed=1)
    _, out1, _ = run(spec, tmp_path, "a", inputs=backgrounds, seed=1)
    _, out2, _ = run(spec, tmp_path, "b", inputs=backgrounds, seed=1)
    assert digest(out1) == digest(out2)
    assert digest(out1) != digest(plain)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.slug)
def test_the_estimate_matches_what_a_run_writes(spec, tmp_path):
    for i, overrides in enumerate([{"n": 1}, SMALL, *SIZE_CASES.get(spec.slug, [])]):
        result, out, _ = run(spec, tmp_path, f"case{i}", **overrides)
        estimate = spec.estimate(registry.validate(spec.slug, {**SMALL, **overrides}))
        written = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
        assert written / contract.ESTIMATE_FACTOR <= estimate.output_bytes <= written * contract.ESTIMATE_FACTOR, overrides
        assert estimate.samples == result.samples, overrides
        assert estimate.cost >= estimate.samples > 0


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.slug)
def test_estimates_grow_with_n(spec):
    small, large = (spec.estimate(registry.validate(spec.slug, {"n": n})) for n in (10, 1000))
    assert large.output_bytes > small.output_bytes and large.samples == 100 * small.samples
    assert large.cost > small.cost


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.slug)
def test_validation_refuses_a_run_above_the_largest_output(spec, monkeypatch):
    size = spec.estimate(registry.validate(spec.slug, {})).output_bytes
    monkeypatch.setattr(contract, "MAX_OUTPUT_BYTES", size)
    registry.validate(spec.slug, {})  # exactly at the ceiling: accepted
    monkeypatch.setattr(contract, "MAX_OUTPUT_BYTES", size - 1)
    with pytest.raises(ParameterError) as refused:
        registry.validate(spec.slug, {})
    assert refused.value.field == "n" and all(name in refused.value.message for name in spec.size_parameters)
