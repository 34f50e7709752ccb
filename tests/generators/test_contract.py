"""The contract every registered generator must pass (in the manner of scikit-learn's estimator checks).

Run over every entry of the registry, so a new built-in or plugin is checked by being registered.
"""

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from jsonschema import Draft202012Validator

from contracts import formats
from generators import registry
from generators import spec as contract
from generators.params import ATTRIBUTE_KEY, Choice, ParameterError, distributions
from generators.spec import GenerateResult

SPECS = registry.all_specs()
SMALL = {"n": 6}
# Small parameter sets whose output the estimate must match; built-ins also vary their shapes.
SIZE_CASES = {
    "digits": [{"mode": "image", "resolution": 20, "n": 7}],
    "scenes": [{"n": 4, "width": 32, "height": 24}, {"n": 2, "width": 16, "height": 16, "sequence": {"frames": 3}},
               {"n": 2, "width": 24, "height": 16, "modality": "multispectral", "channels": 7}],
}


# Randomness a generator draws from parameters that are no distributions, pinned for the check
# that every other draw comes from a declared attribute: the digits' labels, from `classes`.
PINNED = {"digits": {"classes": [3]}}


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
def test_the_output_matches_the_declared_format(spec, tmp_path):
    """What a run writes is what its format declares (files, keys, dtypes, shapes), in every variant."""
    declared = formats.get(spec.format)
    assert declared.modality == spec.modality
    for i, overrides in enumerate([SMALL, *SIZE_CASES.get(spec.slug, []), *VARIANTS.get(spec.slug, [])]):
        result, out, _ = run(spec, tmp_path, f"case{i}", **{**SMALL, **overrides})
        summary = declared.validate(out)
        assert summary["samples"] in (result.samples, 0), overrides  # 0: a format that counts no samples


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


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.slug)
def test_tunable_attributes_list_their_bounds_and_sample_within_them(spec):
    params = registry.validate(spec.slug, {})
    listing = spec.tunable(params)
    if spec.kind == "renderer":
        assert listing, "a renderer's randomness is declared as attributes a tuner can move"
    rng = np.random.default_rng(0)
    for item in listing:
        assert item.distribution.tunable and item.parameters
        for parameter in item.parameters:
            assert parameter.path.startswith(item.path + ".")
            assert parameter.minimum <= parameter.value <= parameter.maximum, parameter
            assert np.isfinite([parameter.minimum, parameter.maximum]).all()
        values = item.distribution.sample(rng, 2000)
        if isinstance(item.distribution, Choice):
            assert (item.distribution.probabilities[values] > 0).all()
        else:
            bounds = item.distribution.bounds
            assert bounds.minimum <= values.min() and values.max() <= bounds.maximum, item.path


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.slug)
def test_moved_parameters_round_trip_validate_and_run(spec, tmp_path):
    """A tuner's step anywhere, even past the bounds, is written back within them, validates, runs."""
    rng = np.random.default_rng(3)
    params = registry.validate(spec.slug, SMALL)
    parameters = [p for item in spec.tunable(params) for p in item.parameters]
    moved = {p.path: float(rng.uniform(p.minimum - 0.1 * (p.maximum - p.minimum), p.maximum)) for p in parameters}
    result = spec.with_parameters(params, moved)
    assert registry.validate(spec.slug, result) == result
    for parameter in (p for item in spec.tunable(result) for p in item.parameters):
        assert parameter.minimum <= parameter.value <= parameter.maximum
    out = tmp_path / "moved"
    out.mkdir()
    assert spec.run(result, out, contract.no_progress).samples == SMALL["n"]


def pinned(spec, params: dict[str, Any]) -> dict[str, Any]:
    """``params`` with every attribute constant: seed-only noise off (its attribute at 0), whole
    numbers at their largest (every slot of a count filled), other numbers at their expected
    value, every choice on its likeliest option."""
    pinned = copy.deepcopy(params)
    for path, distribution in distributions(spec.schema, params).items():
        schema, holder, name = _locate(spec.schema, pinned, path)
        if isinstance(distribution, Choice):
            likeliest = distribution.options[int(np.argmax(distribution.probabilities))]
            holder[name] = {"distribution": "choice", "weights": {likeliest: 1.0}}
        elif "noise" in schema["properties"][name][ATTRIBUTE_KEY]:
            holder[name] = {"distribution": "constant", "value": 0}
        else:
            value = distribution.support[1] if distribution.bounds.integer else distribution.expected_value()
            holder[name] = {"distribution": "constant", "value": value}
    return registry.validate(spec.slug, {**pinned, **PINNED.get(spec.slug, {})})


def _locate(schema: dict[str, Any], params: dict[str, Any], path: str) -> tuple[dict, dict, str]:
    """The schema and parameters holding the attribute at ``path``, and its name there."""
    *parents, name = path.split(".")
    for part in parents:
        schema, params = schema["properties"][part], params[part]
    return schema, params, name


# Parameters that switch draws on or off beside the attributes' own choices.
VARIANTS = {
    "digits": [{"fit": "none", "stroke_width": "thickness"}, {"mode": "image", "resolution": 20}],
    "scenes": [{"sequence": {"frames": 3}}, {"modality": "multispectral", "channels": 4}, {"modality": "infrared"}],
}


def pinned_cases(spec) -> dict[str, dict[str, Any]]:
    """Pinned parameters: as they come, in each variant, and with each choice on each option."""
    small = {"n": 2, **({"width": 32, "height": 24} if spec.slug == "scenes" else {})}
    base = pinned(spec, registry.validate(spec.slug, small))
    cases = {"pinned": base}
    for variant in VARIANTS.get(spec.slug, []):
        cases[str(variant)] = pinned(spec, registry.validate(spec.slug, {**small, **variant}))
    for path, distribution in distributions(spec.schema, registry.validate(spec.slug, {})).items():
        if isinstance(distribution, Choice):
            for option in distribution.options:
                case = copy.deepcopy(base)
                _, holder, name = _locate(spec.schema, case, path)
                holder[name] = {"distribution": "choice", "weights": {option: 1.0}}
                cases[f"{path}={option}"] = registry.validate(spec.slug, case)
    return cases


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.slug)
def test_every_random_draw_comes_from_a_declared_attribute(spec, tmp_path):
    """With every attribute constant (and seed-only noise off) the seed changes nothing: a draw
    that no attribute drives would. Each choice's options are tried, as are the parameters that
    switch draws on (VARIANTS) and provided backgrounds."""
    inputs = {}
    if "backgrounds" in spec.inputs:
        inputs["backgrounds"] = np.random.default_rng(0).integers(0, 256, (5, 12, 12), dtype=np.uint8)
    for index, (case, params) in enumerate(pinned_cases(spec).items()):
        outputs = []
        for seed in (1, 2):
            out = tmp_path / f"{index}-{seed}"
            out.mkdir()
            spec.run({**params, "seed": seed}, out, contract.no_progress, **(inputs if index == 0 else {}))
            outputs.append(unseeded(out))
        assert outputs[0] == outputs[1], f"the seed changes the output of {case}"


def unseeded(folder: Path) -> dict[str, Any]:
    """Every file's digest, JSON files read with their "seed" fields (metadata) left out."""
    def drop_seed(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: drop_seed(item) for key, item in value.items() if key != "seed"}
        return [drop_seed(item) for item in value] if isinstance(value, list) else value

    contents = digest(folder)
    for name in contents:
        if name.endswith(".json"):
            contents[name] = drop_seed(json.loads((folder / name).read_text()))
    return contents
