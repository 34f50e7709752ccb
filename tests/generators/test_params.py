"""The parameter distributions: sampling against closed forms and scipy, validation, tuning."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from jsonschema import Draft202012Validator
from scipy import stats

from generators.params import (
    MAX_WEIGHT,
    Bounds,
    Choice,
    Constant,
    LogUniform,
    Normal,
    ParameterError,
    Uniform,
    check_attributes,
    choose,
    distributions,
    tunable,
    validate_params,
    with_parameters,
)

N = 40_000
UNIT = Bounds(0.0, 1.0)


def draws(distribution: Any, n: int = N, seed: int = 0) -> np.ndarray:
    return distribution.sample(np.random.default_rng(seed), n)


def test_uniform_matches_scipy_and_its_moments() -> None:
    uniform = Uniform(0.2, 0.7, bounds=UNIT)
    values = draws(uniform)
    assert stats.kstest(values, stats.uniform(loc=0.2, scale=0.5).cdf).pvalue > 0.01
    assert values.min() >= 0.2 and values.max() <= 0.7 and values.dtype == np.float64
    assert uniform.expected_value() == pytest.approx(0.45) and uniform.variance() == pytest.approx(0.25 / 12)
    assert values.mean() == pytest.approx(0.45, abs=4 * math.sqrt(0.25 / 12 / N))
    assert values.var() == pytest.approx(0.25 / 12, rel=0.03)


def truncated_normal_mean(mean: float, std: float, low: float, high: float) -> float:
    """The closed form, from the standard normal's pdf and cdf (math.erf, not scipy)."""
    pdf = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda z: 0.5 * (1 + math.erf(z / math.sqrt(2)))  # noqa: E731
    a, b = (low - mean) / std, (high - mean) / std
    return mean + std * (pdf(a) - pdf(b)) / (cdf(b) - cdf(a))


@pytest.mark.parametrize(("mean", "std"), [(0.2, 0.5), (0.95, 0.3), (0.5, 0.1)])
def test_normal_is_truncated_to_the_bounds_exactly(mean: float, std: float) -> None:
    normal = Normal(mean, std, bounds=UNIT)
    values = draws(normal)
    reference = stats.truncnorm((0 - mean) / std, (1 - mean) / std, loc=mean, scale=std)
    assert stats.kstest(values, reference.cdf).pvalue > 0.01
    assert values.min() >= 0.0 and values.max() <= 1.0
    # No point mass at a bound, as clipping would leave.
    assert (values == 0.0).sum() == 0 and (values == 1.0).sum() == 0
    closed = truncated_normal_mean(mean, std, 0.0, 1.0)
    assert normal.expected_value() == pytest.approx(closed, rel=1e-9)
    assert values.mean() == pytest.approx(closed, abs=4 * math.sqrt(normal.variance() / N))
    assert normal.variance() == pytest.approx(reference.var(), rel=1e-9)


def test_normal_draws_inside_the_bounds_are_mean_plus_std_times_the_normal_draw() -> None:
    """Values are as an untruncated normal gives them wherever it stays in bounds (the digits'
    outputs depend on it), and every kind consumes one uniform then one normal per value."""
    values = draws(Normal(0.3, 0.2, bounds=UNIT), n=1000, seed=3)
    rng = np.random.default_rng(3)
    rng.random(1000)
    plain = 0.3 + 0.2 * rng.standard_normal(1000)
    inside = (plain >= 0) & (plain <= 1)
    assert 0 < (~inside).sum() < 100
    np.testing.assert_array_equal(values[inside], plain[inside])


@pytest.mark.parametrize("distribution", [
    Constant(0.4, bounds=UNIT), Uniform(0.1, 0.2, bounds=UNIT), Normal(0.5, 0.3, bounds=UNIT),
    LogUniform(0.1, 0.9, bounds=UNIT), Uniform(1, 5, bounds=Bounds(0, 9, integer=True)),
])
def test_every_numeric_kind_consumes_the_same_draws(distribution: Any) -> None:
    rng = np.random.default_rng(5)
    distribution.sample(rng, 300)
    after = rng.random(4)
    reference = np.random.default_rng(5)
    reference.random(300)
    reference.standard_normal(300)
    np.testing.assert_array_equal(after, reference.random(4))


def test_log_uniform_matches_scipy_and_its_moments() -> None:
    log_uniform = LogUniform(0.01, 10.0, bounds=Bounds(0.001, 100))
    values = draws(log_uniform)
    assert stats.kstest(values, stats.loguniform(0.01, 10.0).cdf).pvalue > 0.01
    assert values.min() >= 0.01 and values.max() <= 10.0
    # Expected value and variance by numerical integration of the density 1 / (x ln(b/a)).
    x = np.geomspace(0.01, 10.0, 200_001)
    density = 1 / (x * math.log(1000))
    mean = np.trapz(x * density, x)
    assert log_uniform.expected_value() == pytest.approx(mean, rel=1e-6)
    assert log_uniform.variance() == pytest.approx(np.trapz((x - mean) ** 2 * density, x), rel=1e-6)


def test_constant_and_whole_number_uniform() -> None:
    assert (draws(Constant(0.25, bounds=UNIT), n=10) == 0.25).all()
    counts = draws(Uniform(2, 6, bounds=Bounds(0, 12, integer=True)))
    assert counts.dtype == np.int64 and set(np.unique(counts)) == {2, 3, 4, 5, 6}
    assert stats.chisquare(np.bincount(counts)[2:]).pvalue > 0.01
    integer = Uniform(2, 6, bounds=Bounds(0, 12, integer=True))
    assert integer.variance() == pytest.approx(np.var(np.arange(2, 7)))  # discrete: (5**2 - 1) / 12


def test_choice_frequencies_follow_the_weights_and_zero_is_never_drawn() -> None:
    choice = Choice({"a": 1.0, "off": 0.0, "b": 3.0, "c": 0.5, "last_off": 0.0})
    picks = draws(choice)
    assert set(np.unique(picks)) == {0, 2, 3}
    observed = np.bincount(picks, minlength=5)[[0, 2, 3]]
    expected = np.array([1.0, 3.0, 0.5]) / 4.5 * N
    assert stats.chisquare(observed, expected).pvalue > 0.01
    # Draws at the very top of [0, 1) still pick an option of positive weight.
    assert choice.indices(np.array([0.0, np.nextafter(1.0, 0)])).tolist() == [0, 3]


def test_choose_picks_from_each_groups_choice_as_that_choice_would() -> None:
    choices = [Choice({"x": 1.0, "y": 2.0}), Choice({"p": 1.0, "q": 0.0, "r": 1.0, "s": 5.0}), Choice({"z": 1.0})]
    group = np.random.default_rng(1).integers(0, 3, 5000)
    picked = choose(choices, group, np.random.default_rng(2))
    unit = np.random.default_rng(2).random(5000)
    for index, choice in enumerate(choices):
        members = group == index
        np.testing.assert_array_equal(picked[members], choice.indices(unit[members]))


def declared(**attributes: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "properties": {
        "group": {"type": "object", "additionalProperties": False, "default": {}, "properties": attributes}}}


SCHEMA = declared(
    size=Uniform(0.2, 0.4, bounds=Bounds(0.1, 2.0)).schema("Size."),
    count=Uniform(1, 3, bounds=Bounds(0, 8, integer=True)).schema("Count."),
    angle=Normal(0.0, 10.0, bounds=Bounds(-90, 90)).schema("Angle."),
    kind=Choice({"a": 1.0, "b": 2.0}).schema("Kind."),
    hidden=Uniform(0, 1, bounds=UNIT, tunable=False).schema("Not for tuners."),
)


def parsed_with(schema: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    return distributions(schema, validate_params(schema, {"group": params}))


def parsed(params: dict[str, Any]) -> dict[str, Any]:
    return parsed_with(SCHEMA, params)


def test_schemas_are_valid_and_defaults_give_the_declared_distributions() -> None:
    Draft202012Validator.check_schema(SCHEMA)
    found = parsed({})
    assert found["group.size"] == Uniform(0.2, 0.4, bounds=Bounds(0.1, 2.0))
    assert found["group.count"] == Uniform(1, 3, bounds=Bounds(0, 8, integer=True))
    assert found["group.angle"] == Normal(0.0, 10.0, bounds=Bounds(-90, 90))
    assert found["group.kind"] == Choice({"a": 1.0, "b": 2.0})
    assert not found["group.hidden"].tunable
    # Switching kinds needs only the kind: the others' defaults match the default's moments.
    assert parsed({"size": {"distribution": "normal"}})["group.size"] == Normal(0.3, 0.05774, bounds=Bounds(0.1, 2.0))
    assert parsed({"angle": {"distribution": "uniform"}})["group.angle"].variance() == pytest.approx(100, rel=1e-3)
    assert parsed({"kind": {"weights": {"b": 1}}})["group.kind"] == Choice({"a": 0.0, "b": 1.0})


@pytest.mark.parametrize(("given", "field"), [
    ({"size": {"low": 0.5, "high": 0.3}}, "group.size.low"),
    ({"size": {"distribution": "gamma"}}, "group.size.distribution"),
    ({"size": {"distribution": "constant", "value": 5}}, "group.size.value"),
    ({"size": {"distribution": "normal", "std": -1}}, "group.size.std"),
    ({"angle": {"distribution": "log_uniform", "low": 1, "high": 2}}, "group.angle.distribution"),
    ({"count": {"low": 1.5}}, "group.count.low"),
    ({"count": {"distribution": "normal"}}, "group.count.distribution"),
    ({"kind": {"weights": {"a": 0}}}, "group.kind.weights"),
    ({"kind": {"weights": {"a": -1}}}, "group.kind.weights.a"),
    ({"kind": {"weights": {"c": 1}}}, "group.kind.weights.c"),
    ({"kind": {"weights": {"a": MAX_WEIGHT + 1}}}, "group.kind.weights.a"),
])
def test_invalid_attributes_name_the_field(given: dict[str, Any], field: str) -> None:
    with pytest.raises(ParameterError) as error:
        filled = validate_params(SCHEMA, {"group": given})
        check_attributes(SCHEMA, filled)
    assert error.value.field == field


def test_an_attribute_scaling_noise_can_switch_it_off() -> None:
    assert "noise" in Uniform(0, 0.1, bounds=UNIT).schema("Jitter.", noise="offsets")["x-attribute"]
    with pytest.raises(ValueError, match="0 \\(off\\)"):
        Uniform(0.2, 0.3, bounds=Bounds(0.1, 1)).schema("Jitter.", noise="offsets")


def test_log_uniform_is_offered_only_on_positive_bounds() -> None:
    schema = declared(rate=LogUniform(0.01, 1.0, bounds=Bounds(0.001, 10)).schema("Rate."))
    assert parsed_with(schema, {"rate": {}})["group.rate"] == LogUniform(0.01, 1.0, bounds=Bounds(0.001, 10))
    with pytest.raises(ParameterError) as error:
        parsed_with(schema, {"rate": {"low": 2.0, "high": 1.0}})
    assert error.value.field == "group.rate.low"
    assert "log_uniform" not in SCHEMA["properties"]["group"]["properties"]["angle"]["properties"]["distribution"]["enum"]


@pytest.mark.parametrize("seed", range(20))
def test_bounds_are_never_left(seed: int) -> None:
    """Random distributions of every kind, with parameters anywhere within the bounds."""
    rng = np.random.default_rng(seed)
    low_bound, high_bound = sorted(rng.uniform(-5, 5, 2))
    bounds = Bounds(low_bound, high_bound)
    a, b = sorted(rng.uniform(low_bound, high_bound, 2))
    edge = rng.choice([a, low_bound, high_bound])
    candidates = [Uniform(a, b, bounds=bounds), Uniform(a, high_bound, bounds=bounds), Constant(edge, bounds=bounds),
                  Normal(edge, rng.uniform(0, high_bound - low_bound), bounds=bounds)]
    if low_bound > 0:
        candidates.append(LogUniform(a, b, bounds=bounds))
    for distribution in candidates:
        values = draws(distribution, n=5000, seed=seed)
        assert values.min() >= low_bound and values.max() <= high_bound, distribution
        support = distribution.support
        assert values.min() >= support[0] and values.max() <= support[1], distribution


def test_tunable_lists_movable_parameters_with_their_bounds() -> None:
    listing = {item.path: item for item in tunable(SCHEMA, validate_params(SCHEMA, {}))}
    assert set(listing) == {"group.size", "group.count", "group.angle", "group.kind"}  # hidden is not tunable
    assert listing["group.angle"].kind == "normal"
    assert [(p.path, p.value, p.minimum, p.maximum) for p in listing["group.angle"].parameters] == [
        ("group.angle.mean", 0.0, -90, 90), ("group.angle.std", 10.0, 0.0, 180)]
    assert [p.integer for p in listing["group.count"].parameters] == [True, True]
    assert [p.path for p in listing["group.kind"].parameters] == ["group.kind.weights.a", "group.kind.weights.b"]
    assert all(p.maximum == MAX_WEIGHT for p in listing["group.kind"].parameters)


def test_moved_parameters_are_written_back_clipped_and_validated() -> None:
    params = validate_params(SCHEMA, {})
    moved = with_parameters(SCHEMA, params, {
        "group.size.low": 5.0,  # above its bound and above high: clipped, then meets high halfway
        "group.count.high": 6.4, "group.angle.std": -3, "group.kind.weights.a": 0.0,
    })
    found = distributions(SCHEMA, moved)
    assert found["group.size"] == Uniform(1.2, 1.2, bounds=Bounds(0.1, 2.0))  # (2.0 + 0.4) / 2
    assert found["group.count"] == Uniform(1, 6, bounds=Bounds(0, 8, integer=True))
    assert found["group.angle"] == Normal(0.0, 0.0, bounds=Bounds(-90, 90))
    assert found["group.kind"] == Choice({"a": 0.0, "b": 2.0})
    assert params == validate_params(SCHEMA, {}), "the given parameters are left alone"
    # The other kinds' parameters stay, so switching kind later still has them.
    assert moved["group"]["size"]["mean"] == params["group"]["size"]["mean"]


@pytest.mark.parametrize(("moved", "field"), [
    ({"group.size.mean": 0.3}, "group.size.mean"),  # not a parameter of its uniform distribution
    ({"group.hidden.low": 0.3}, "group.hidden.low"),  # not tunable
    ({"group.nothing.low": 0.3}, "group.nothing.low"),
    ({"group.size.low": float("nan")}, "group.size.low"),
    ({"group.size.low": "0.3"}, "group.size.low"),
    ({"group.kind.weights.a": 0, "group.kind.weights.b": 0}, "group.kind.weights"),
])
def test_moves_that_cannot_be_written_back_name_the_parameter(moved: dict[str, Any], field: str) -> None:
    with pytest.raises(ParameterError) as error:
        with_parameters(SCHEMA, validate_params(SCHEMA, {}), moved)
    assert error.value.field == field
