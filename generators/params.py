"""Parameters shared by every generator: JSON Schema plus defaults, and the distributions of
random attributes (typed, bounded, listed for tuners)."""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, ClassVar

import jsonschema
import numpy as np
from jsonschema import Draft202012Validator


def shorten(text: str, limit: int = 300) -> str:
    """``text`` cut in the middle to at most about ``limit`` characters, so errors never echo a huge value."""
    if len(text) <= limit:
        return text
    head, tail = limit * 2 // 3, limit // 3
    return f"{text[:head]}…({len(text) - head - tail:,} characters left out)…{text[-tail:]}"


class ParameterError(ValueError):
    """Invalid generator parameters; ``field`` names the offending parameter."""

    def __init__(self, field: str, message: str) -> None:
        field, message = shorten(field, 100), shorten(message)
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message


def fill_defaults(schema: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """Return ``params`` with every missing property set to its schema default (recursively)."""
    filled = copy.deepcopy(params)
    for name, prop in schema.get("properties", {}).items():
        if name not in filled and "default" in prop:
            filled[name] = copy.deepcopy(prop["default"])
        if prop.get("type") == "object" and isinstance(filled.get(name), dict):
            filled[name] = fill_defaults(prop, filled[name])
    return filled


def validate_params(schema: dict[str, Any], params: Any) -> dict[str, Any]:
    """Validate ``params`` against ``schema`` and return them completed with defaults.

    Raises :class:`ParameterError` naming the first offending field (dotted path).
    """
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise ParameterError("parameters", "must be a JSON object")
    filled = fill_defaults(schema, params)
    validator = Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(filled), key=lambda e: (len(e.path), list(e.path)))
    if errors:
        error = errors[0]
        path = ".".join(str(p) for p in error.absolute_path)
        if error.validator == "additionalProperties":
            extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
            path = ".".join([*(str(p) for p in error.absolute_path), extra[0]]) if extra else path
            raise ParameterError(path, "is not a known parameter")
        raise ParameterError(path or "parameters", error.message)
    return filled


# Parameter distributions -------------------------------------------------------------------
#
# Every random attribute of a generator is one JSON object in its parameters, drawn from one of
# five kinds. An attribute is declared once, by its default distribution, whose ``schema()`` is
# the attribute's entry in the generator's JSON schema; the entry carries an ``x-attribute``
# annotation (bounds, whether a tuner may move it), so the attributes of any schema can be found,
# parsed into typed distributions, listed for tuners and moved:
#
#     {"distribution": "uniform", "low": 0.1, "high": 0.2}
#     {"distribution": "normal", "mean": 0.3, "std": 0.03}      truncated to the attribute's bounds
#     {"distribution": "log_uniform", "low": 0.01, "high": 1}   low > 0
#     {"distribution": "constant", "value": 0.2}
#     {"distribution": "choice", "weights": {"checker": 2, "plain": 1}}   an option left out weighs 0
#
# A numeric attribute's object holds every kind's parameters (defaults filled in), so a user may
# switch kinds by naming one; only the named kind's parameters are used.

# The most a choice's (relative) weight may be: a finite box for tuners.
MAX_WEIGHT = 100.0
ATTRIBUTE_KEY = "x-attribute"


@dataclass(frozen=True)
class Bounds:
    """The values an attribute may take, both ends included; whole numbers when ``integer``."""

    minimum: float
    maximum: float
    integer: bool = False


@dataclass(frozen=True)
class Parameter:
    """One number a tuner may move (``camera.fov_deg.low``), its current value and its bounds."""

    path: str
    value: float
    minimum: float
    maximum: float
    integer: bool = False


@dataclass(frozen=True, kw_only=True)
class Distribution:
    """What the five kinds share. ``tunable``: whether a tuner may move the parameters."""

    tunable: bool = True
    kind: ClassVar[str]

    def sample(self, rng: np.random.Generator, size: int | tuple[int, ...]) -> np.ndarray:
        raise NotImplementedError

    def parameters(self) -> dict[str, float]:
        """The kind's own parameters, by name (``low``, ``weights.checker``)."""
        raise NotImplementedError

    def parameter_bounds(self) -> dict[str, tuple[float, float]]:
        """Each parameter's (minimum, maximum), from the attribute's declaration."""
        raise NotImplementedError

    def to_json(self) -> dict[str, Any]:
        raise NotImplementedError

    def check(self, field: str) -> None:
        """Raise :class:`ParameterError` naming ``field``'s bad part; JSON Schema checked the rest."""

    def moved(self, changes: Mapping[str, float]) -> Distribution:
        """This distribution with ``changes`` (parameter name -> value) applied, each clipped to its
        bounds (and rounded on whole-number attributes)."""
        bounds = self.parameter_bounds()
        values = dict(self.parameters())
        for name, value in changes.items():
            low, high = bounds[name]
            values[name] = min(max(float(value), low), high)
        return self._with(values)

    def _with(self, values: dict[str, float]) -> Distribution:
        """A copy with these parameter values."""
        raise NotImplementedError


@dataclass(frozen=True, kw_only=True)
class Numeric(Distribution):
    """A number per draw, within ``bounds``.

    Every kind consumes the same draws, one uniform and then one standard normal per value, so
    switching one attribute's kind or moving its parameters leaves the values of the attributes
    drawn after it unchanged (common random numbers for tuners).
    """

    bounds: Bounds
    PARAMETERS: ClassVar[tuple[str, ...]]

    def sample(self, rng: np.random.Generator, size: int | tuple[int, ...]) -> np.ndarray:
        """``size`` values within the bounds: float64, or int64 on whole-number attributes."""
        unit = rng.random(size)
        normal = rng.standard_normal(size)
        return self.values(unit, normal)

    def values(self, unit: np.ndarray, normal: np.ndarray) -> np.ndarray:
        """The values for uniform ``unit`` in [0, 1) and standard normal ``normal`` draws."""
        raise NotImplementedError

    def expected_value(self) -> float:
        raise NotImplementedError

    def variance(self) -> float:
        raise NotImplementedError

    @property
    def support(self) -> tuple[float, float]:
        """The smallest interval holding every value drawn."""
        raise NotImplementedError

    def parameters(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in self.PARAMETERS}

    def parameter_bounds(self) -> dict[str, tuple[float, float]]:
        return {name: (self.bounds.minimum, self.bounds.maximum) for name in self.PARAMETERS}

    def to_json(self) -> dict[str, Any]:
        return {"distribution": self.kind, **self.parameters()}

    def _with(self, values: dict[str, float]) -> Distribution:
        if self.bounds.integer:
            values = {name: int(round(value)) for name, value in values.items()}
        return replace(self, **values)

    def fallbacks(self) -> dict[str, float]:
        """Every kind's parameters matched to this distribution's expected value and standard
        deviation (a uniform of the same mean and variance), this kind's own ones kept: the
        defaults shown for the kinds a user may switch to."""
        centre, spread = self._centre_and_spread()
        low, high, lowest, highest = (centre - math.sqrt(3) * spread, centre + math.sqrt(3) * spread,
                                      self.bounds.minimum, self.bounds.maximum)
        if self.bounds.integer:
            guesses = {"low": max(math.floor(low), lowest), "high": min(math.ceil(high), highest),
                       "value": round(centre)}
        else:
            guesses = {name: min(max(_tidy(value), lowest), highest)
                       for name, value in (("low", low), ("high", high), ("mean", centre), ("value", centre))}
            guesses["std"] = _tidy(spread)
        return {**guesses, **self.parameters()}

    def _centre_and_spread(self) -> tuple[float, float]:
        return self.expected_value(), math.sqrt(self.variance())

    def schema(self, description: str, *, noise: str | None = None) -> dict[str, Any]:
        """The JSON schema of an attribute declared with this distribution as its default.

        ``noise`` names seed-only noise the attribute scales (off at 0), e.g. a noise field whose
        amplitude it is: such draws are not attributes themselves.
        """
        bounds = self.bounds
        if noise and bounds.minimum != 0:
            raise ValueError(f"an attribute that scales noise needs 0 (off) as its minimum, not {bounds.minimum}")
        kinds = _allowed_kinds(bounds)
        number = {"type": "integer" if bounds.integer else "number",
                  "minimum": bounds.minimum, "maximum": bounds.maximum}
        properties: dict[str, Any] = {"distribution": {
            "enum": list(kinds), "default": self.kind, "description": _kinds_description(kinds, bounds)}}
        defaults = self.fallbacks()
        for name in dict.fromkeys(p for kind in kinds for p in KINDS[kind].PARAMETERS):
            if name == "std":
                properties[name] = {"type": "number", "minimum": 0,
                                    "maximum": bounds.maximum - bounds.minimum, "default": defaults[name]}
            else:
                properties[name] = {**number, "default": defaults[name]}
        values = "Whole numbers" if bounds.integer else "Allowed values"
        annotation = {"minimum": bounds.minimum, "maximum": bounds.maximum, "integer": bounds.integer,
                      "tunable": self.tunable, **({"noise": noise} if noise else {})}
        return {
            "type": "object", "additionalProperties": False,
            "description": f"{description} {values} {bounds.minimum}..{bounds.maximum}."
                           + (f" Scales seed-only noise: {noise}." if noise else ""),
            ATTRIBUTE_KEY: annotation, "properties": properties, "default": {},
        }


@dataclass(frozen=True)
class Constant(Numeric):
    value: float
    kind: ClassVar[str] = "constant"
    PARAMETERS: ClassVar[tuple[str, ...]] = ("value",)

    def values(self, unit: np.ndarray, normal: np.ndarray) -> np.ndarray:
        return np.full(unit.shape, self.value, dtype=np.int64 if self.bounds.integer else np.float64)

    def expected_value(self) -> float:
        return float(self.value)

    def variance(self) -> float:
        return 0.0

    @property
    def support(self) -> tuple[float, float]:
        return self.value, self.value


@dataclass(frozen=True)
class Uniform(Numeric):
    """Uniform on [low, high]; on whole-number attributes every integer from low to high alike."""

    low: float
    high: float
    kind: ClassVar[str] = "uniform"
    PARAMETERS: ClassVar[tuple[str, ...]] = ("low", "high")

    def values(self, unit: np.ndarray, normal: np.ndarray) -> np.ndarray:
        if self.bounds.integer:
            return np.minimum(self.low + np.floor((self.high - self.low + 1) * unit).astype(np.int64), self.high)
        values = unit * (self.high - self.low)
        values += self.low
        return np.minimum(values, self.high, out=values)  # rounding may pass high by one ulp

    def expected_value(self) -> float:
        return (self.low + self.high) / 2

    def variance(self) -> float:
        if self.bounds.integer:
            return ((self.high - self.low + 1) ** 2 - 1) / 12
        return (self.high - self.low) ** 2 / 12

    @property
    def support(self) -> tuple[float, float]:
        return self.low, self.high

    def check(self, field: str) -> None:
        if self.low > self.high:
            raise ParameterError(f"{field}.low", f"must not exceed {field}.high ({self.low} > {self.high})")

    def moved(self, changes: Mapping[str, float]) -> Distribution:
        """Clipped to the bounds; a low moved past its high meets it halfway (the nearest valid pair)."""
        moved = super().moved(changes)
        assert isinstance(moved, Uniform)
        if moved.low > moved.high:
            middle = (moved.low + moved.high) / 2
            moved = moved._with({"low": middle, "high": middle})
        return moved


@dataclass(frozen=True)
class LogUniform(Uniform):
    """log(value) uniform on [log low, log high]; offered only where the bounds are positive."""

    kind: ClassVar[str] = "log_uniform"

    def values(self, unit: np.ndarray, normal: np.ndarray) -> np.ndarray:
        return np.clip(self.low * np.exp(math.log(self.high / self.low) * unit), self.low, self.high)

    def expected_value(self) -> float:
        if self.low == self.high:
            return float(self.low)
        return (self.high - self.low) / math.log(self.high / self.low)

    def variance(self) -> float:
        if self.low == self.high:
            return 0.0
        second = (self.high**2 - self.low**2) / (2 * math.log(self.high / self.low))
        return second - self.expected_value() ** 2


@dataclass(frozen=True)
class Normal(Numeric):
    """Normal(mean, std) truncated to the attribute's bounds.

    A draw inside the bounds is ``mean + std * normal``; one outside is replaced by the truncated
    normal's quantile at the same value's uniform draw, which is independent of its normal draw,
    so every value is exactly truncated-normal and the rest need no further draws.
    """

    mean: float
    std: float
    kind: ClassVar[str] = "normal"
    PARAMETERS: ClassVar[tuple[str, ...]] = ("mean", "std")

    def values(self, unit: np.ndarray, normal: np.ndarray) -> np.ndarray:
        values = self.mean + self.std * normal
        outside = (values < self.bounds.minimum) | (values > self.bounds.maximum)
        if outside.any():
            from scipy.stats import truncnorm  # rare: only where a draw left the bounds

            low, high = self._standard_bounds()
            values[outside] = truncnorm.ppf(unit[outside], low, high, loc=self.mean, scale=self.std)
        return np.clip(values, self.bounds.minimum, self.bounds.maximum, out=values)

    def _standard_bounds(self) -> tuple[float, float]:
        return ((self.bounds.minimum - self.mean) / self.std, (self.bounds.maximum - self.mean) / self.std)

    def expected_value(self) -> float:
        if self.std == 0:
            return float(self.mean)
        from scipy.stats import truncnorm

        return float(truncnorm.mean(*self._standard_bounds(), loc=self.mean, scale=self.std))

    def variance(self) -> float:
        if self.std == 0:
            return 0.0
        from scipy.stats import truncnorm

        return float(truncnorm.var(*self._standard_bounds(), loc=self.mean, scale=self.std))

    @property
    def support(self) -> tuple[float, float]:
        if self.std == 0:
            return self.mean, self.mean
        return self.bounds.minimum, self.bounds.maximum

    def _centre_and_spread(self) -> tuple[float, float]:
        return self.mean, self.std  # before truncation: no scipy needed to declare a default

    def parameter_bounds(self) -> dict[str, tuple[float, float]]:
        return {"mean": (self.bounds.minimum, self.bounds.maximum),
                "std": (0.0, self.bounds.maximum - self.bounds.minimum)}


KINDS: dict[str, type[Numeric]] = {kind.kind: kind for kind in (Constant, Uniform, Normal, LogUniform)}


def _allowed_kinds(bounds: Bounds) -> tuple[str, ...]:
    """Whole numbers: constant or uniform; log_uniform only where every allowed value is positive."""
    if bounds.integer:
        return ("uniform", "constant")
    return ("uniform", "normal", "constant") + (("log_uniform",) if bounds.minimum > 0 else ())


def _kinds_description(kinds: tuple[str, ...], bounds: Bounds) -> str:
    described = {"uniform": "uniform (low, high)",
                 "normal": f"normal (mean, std; truncated to {bounds.minimum}..{bounds.maximum})",
                 "constant": "constant (value)", "log_uniform": "log_uniform (low, high)"}
    names = [described[kind] for kind in kinds]
    return f"{', '.join(names[:-1])} or {names[-1]}."


def _tidy(value: float) -> float:
    """Four significant digits: defaults a person can read."""
    return float(f"{value:.4g}")


@dataclass(frozen=True)
class Choice(Distribution):
    """One of named options, drawn with probability proportional to its weight (0 switches it off).

    ``sample`` gives indices into :attr:`options`, one uniform draw per value.
    """

    weights: dict[str, float]
    kind: ClassVar[str] = "choice"

    @property
    def options(self) -> tuple[str, ...]:
        return tuple(self.weights)

    @property
    def probabilities(self) -> np.ndarray:
        weights = np.array(list(self.weights.values()), dtype=np.float64)
        return weights / weights.sum()

    def sample(self, rng: np.random.Generator, size: int | tuple[int, ...]) -> np.ndarray:
        return self.indices(rng.random(size))

    def indices(self, unit: np.ndarray) -> np.ndarray:
        """The options picked by uniform draws ``unit``: how many cumulative weights lie at or
        below ``unit`` x the total, never an option of weight 0."""
        cumulative = np.cumsum(np.array(list(self.weights.values()), dtype=np.float64))
        picked = np.searchsorted(cumulative, unit * cumulative[-1], side="right")
        return np.minimum(picked, self._last_option())

    def _last_option(self) -> int:
        return max(i for i, weight in enumerate(self.weights.values()) if weight > 0)

    def parameters(self) -> dict[str, float]:
        return {f"weights.{option}": weight for option, weight in self.weights.items()}

    def parameter_bounds(self) -> dict[str, tuple[float, float]]:
        return {f"weights.{option}": (0.0, MAX_WEIGHT) for option in self.weights}

    def _with(self, values: dict[str, float]) -> Distribution:
        return replace(self, weights={option: values[f"weights.{option}"] for option in self.weights})

    def to_json(self) -> dict[str, Any]:
        return {"distribution": self.kind, "weights": dict(self.weights)}

    def check(self, field: str) -> None:
        if sum(self.weights.values()) <= 0:
            raise ParameterError(f"{field}.weights", "at least one option needs a positive weight")

    def schema(self, description: str) -> dict[str, Any]:
        """The JSON schema of an attribute declared with these options and default weights."""
        weight = {"type": "number", "minimum": 0, "maximum": MAX_WEIGHT}
        return {
            "type": "object", "additionalProperties": False,
            "description": f"{description} Options {', '.join(self.options)}, drawn by weight "
                           f"(0..{MAX_WEIGHT:g}; an option left out weighs 0).",
            ATTRIBUTE_KEY: {"options": list(self.options), "tunable": self.tunable},
            "properties": {
                "distribution": {"enum": ["choice"], "default": "choice"},
                "weights": {"type": "object", "additionalProperties": False, "minProperties": 1,
                            "properties": {option: dict(weight) for option in self.options},
                            "default": dict(self.weights)},
            },
            "default": {},
        }


def choose(choices: Sequence[Choice], group: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One option per value of ``group``, from the choice it selects (``choices[group[i]]``), with
    one uniform draw per value: the index into that choice's options. All groups at once, picking
    as :meth:`Choice.indices` does."""
    unit = rng.random(len(group))
    cumulative, total, last = _choice_table(tuple(tuple(choice.weights.values()) for choice in choices))
    picked = (cumulative[group] <= (unit * total[group])[:, None]).sum(axis=1)
    return np.minimum(picked, last[group])


@lru_cache(maxsize=64)
def _choice_table(weights: tuple[tuple[float, ...], ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per choice: cumulative weights padded with inf, their total, the last option of positive weight."""
    lengths = np.array([len(row) for row in weights])
    table = np.zeros((len(weights), lengths.max()))
    for index, row in enumerate(weights):
        table[index, : len(row)] = row
    cumulative = np.cumsum(table, axis=1)
    total = cumulative[np.arange(len(weights)), lengths - 1]
    cumulative[np.arange(table.shape[1]) >= lengths[:, None]] = np.inf
    last = table.shape[1] - 1 - np.argmax(table[:, ::-1] > 0, axis=1)
    return cumulative, total, last


def _parse(attribute: dict[str, Any], value: dict[str, Any], path: str) -> Distribution:
    """The typed distribution of one validated, default-filled attribute value."""
    meta = attribute[ATTRIBUTE_KEY]
    distribution: Distribution
    if "options" in meta:
        weights = {option: float(value["weights"].get(option, 0.0)) for option in meta["options"]}
        distribution = Choice(weights=weights, tunable=meta["tunable"])
    else:
        bounds = Bounds(meta["minimum"], meta["maximum"], meta["integer"])
        kind = KINDS[value["distribution"]]
        cast = int if bounds.integer else float
        distribution = kind(bounds=bounds, tunable=meta["tunable"],
                            **{name: cast(value[name]) for name in kind.PARAMETERS})
    distribution.check(path)
    return distribution


def _attribute_schemas(schema: dict[str, Any], path: str = "") -> dict[str, dict[str, Any]]:
    """Every declared attribute of ``schema`` by dotted path, in declaration order."""
    found: dict[str, dict[str, Any]] = {}
    for name, prop in schema.get("properties", {}).items():
        if ATTRIBUTE_KEY in prop:
            found[path + name] = prop
        elif prop.get("type") == "object":
            found.update(_attribute_schemas(prop, f"{path}{name}."))
    return found


def _value_at(params: dict[str, Any], path: str) -> Any:
    for name in path.split("."):
        params = params[name]
    return params


def distributions(schema: dict[str, Any], params: dict[str, Any]) -> dict[str, Distribution]:
    """The typed distribution of every attribute ``schema`` declares, by dotted path, from
    validated, default-filled ``params``; raises :class:`ParameterError` naming a bad one."""
    return {path: _parse(attribute, _value_at(params, path), path)
            for path, attribute in _attribute_schemas(schema).items()}


def check_attributes(schema: dict[str, Any], params: dict[str, Any]) -> None:
    """The checks JSON Schema cannot express (low <= high, some positive weight, ...)."""
    distributions(schema, params)


@dataclass(frozen=True)
class Tunable:
    """An attribute a tuner may move: where it is, and its current distribution."""

    path: str
    distribution: Distribution

    @property
    def kind(self) -> str:
        return self.distribution.kind

    @property
    def parameters(self) -> tuple[Parameter, ...]:
        bounds = self.distribution.parameter_bounds()
        integer = isinstance(self.distribution, Numeric) and self.distribution.bounds.integer
        return tuple(Parameter(f"{self.path}.{name}", value, *bounds[name], integer=integer)
                     for name, value in self.distribution.parameters().items())


def tunable(schema: dict[str, Any], params: dict[str, Any]) -> list[Tunable]:
    """Every attribute a tuner may move (a choice needs two options or more), with its current
    distribution; ``Tunable.parameters`` are the numbers to move and their bounds."""
    return [Tunable(path, distribution) for path, distribution in distributions(schema, params).items()
            if distribution.tunable and not (isinstance(distribution, Choice) and len(distribution.weights) < 2)]


def with_parameters(schema: dict[str, Any], params: dict[str, Any], moved: Mapping[str, float]
                    ) -> dict[str, Any]:
    """``params`` with tunable parameters moved (``{"camera.fov_deg.low": 50.0}``), validated.

    Each value is clipped to its bounds (never left) and rounded on whole-number attributes; a
    uniform's low moved past its high meets it halfway. Raises :class:`ParameterError` for a path
    that is no tunable parameter of the attribute's current distribution, or a value that is no
    finite number.
    """
    listing = {item.path: item.distribution for item in tunable(schema, params)}
    changes: dict[str, dict[str, float]] = {}
    for path, value in moved.items():
        attribute = next((p for p in listing if path.startswith(p + ".")), None)
        name = path[len(attribute) + 1:] if attribute else ""
        if attribute is None or name not in listing[attribute].parameters():
            raise ParameterError(path, "is not a tunable parameter; see tunable() for those there are")
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or not math.isfinite(value):
            raise ParameterError(path, f"must be a finite number, not {value!r}")
        changes.setdefault(attribute, {})[name] = float(value)
    result = copy.deepcopy(params)
    for attribute, names in changes.items():
        parent, _, last = attribute.rpartition(".")
        holder = _value_at(result, parent) if parent else result
        holder[last] = {**holder[last], **listing[attribute].moved(names).to_json()}
    filled = validate_params(schema, result)
    check_attributes(schema, filled)
    return filled


__all__ = ["ParameterError", "fill_defaults", "validate_params", "jsonschema", "shorten",
           "MAX_WEIGHT", "ATTRIBUTE_KEY", "Bounds", "Distribution", "Numeric", "Constant", "Uniform",
           "Normal", "LogUniform", "Choice", "choose", "Parameter", "Tunable", "distributions",
           "check_attributes", "tunable", "with_parameters"]
