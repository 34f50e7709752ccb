"""The parameter policy's space: a generator's tunable attributes as one unit box.

Each tunable attribute a generator's schema declares (:mod:`generators.params`) becomes a few
coordinates in [0, 1], mapped onto its distribution's parameters so that every point of the box is
a valid configuration inside the schema's bounds:

- uniform / log-uniform: its centre (0: the attribute's minimum, 1: its maximum) and its half-width
  as a fraction of the room left on the nearer side (so low <= high and both stay in bounds);
- normal: its mean, and its std as a fraction of the bounds' width;
- constant: its value;
- choice: each option's weight as a fraction of ``MAX_WEIGHT``.

Moving the means, ranges and category weights is moving these coordinates; a point outside the box
is clipped onto it first, so a tuner cannot leave the bounds whatever it proposes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from generators.params import (
    MAX_WEIGHT,
    Choice,
    Constant,
    Normal,
    ParameterError,
    Uniform,
    distributions,
)
from generators.spec import GeneratorSpec


@dataclass(frozen=True)
class Coordinate:
    """One axis of the unit box: the attribute it moves and what it is (``centre``, ``std``, ``weights.x``)."""

    attribute: str
    role: str

    @property
    def name(self) -> str:
        return f"{self.attribute}:{self.role}"


@dataclass(frozen=True)
class _Attribute:
    path: str
    kind: str
    minimum: float
    maximum: float
    options: tuple[str, ...] = ()


class ParameterSpace:
    """The tunable attributes of ``spec`` (all, or those named in ``attributes``) around ``base``
    parameters (the rest of the configuration, kept as it is)."""

    def __init__(self, spec: GeneratorSpec, base: dict[str, Any] | None = None,
                 attributes: Sequence[str] | None = None) -> None:
        self.spec = spec
        self.base = spec.with_parameters(base or {}, {})
        listing = {item.path: item for item in spec.tunable(self.base)}
        if attributes is not None:
            for index, path in enumerate(attributes):
                if path not in listing:
                    raise ParameterError(f"attributes.{index}", f"{path!r} is not a tunable attribute of "
                                                                f"{spec.slug}; tunable: {', '.join(listing)}")
            listing = {path: listing[path] for path in dict.fromkeys(attributes)}
        if not listing:
            raise ParameterError("attributes", f"{spec.slug} has no tunable attribute to move")
        self._attributes: list[_Attribute] = []
        self.coordinates: list[Coordinate] = []
        for path, item in listing.items():
            distribution = item.distribution
            if isinstance(distribution, Choice):
                options = tuple(distribution.weights)
                self._attributes.append(_Attribute(path, "choice", 0.0, MAX_WEIGHT, options))
                self.coordinates += [Coordinate(path, f"weights.{option}") for option in options]
                continue
            bounds = distribution.bounds  # type: ignore[attr-defined]
            kind = ("uniform" if isinstance(distribution, Uniform) else
                    "normal" if isinstance(distribution, Normal) else "constant")
            self._attributes.append(_Attribute(path, kind, bounds.minimum, bounds.maximum))
            roles = {"uniform": ("centre", "spread"), "normal": ("mean", "std"), "constant": ("value",)}[kind]
            self.coordinates += [Coordinate(path, role) for role in roles]

    @property
    def dimension(self) -> int:
        return len(self.coordinates)

    @property
    def attributes(self) -> list[str]:
        return [attribute.path for attribute in self._attributes]

    def moved(self, unit: np.ndarray) -> dict[str, float]:
        """The tunable parameters (``slant.low``, ...) at ``unit`` (clipped onto the box first)."""
        unit = np.clip(np.asarray(unit, dtype=float), 0.0, 1.0)
        if unit.shape != (self.dimension,):
            raise ValueError(f"a point of this space has {self.dimension} coordinates, not {unit.shape}")
        moved: dict[str, float] = {}
        at = 0
        for attribute in self._attributes:
            low, high = attribute.minimum, attribute.maximum
            width = high - low
            if attribute.kind == "choice":
                weights = unit[at:at + len(attribute.options)] * MAX_WEIGHT
                if weights.sum() <= 0:  # all weights at zero: the options drawn alike
                    weights = np.ones_like(weights)
                moved.update({f"{attribute.path}.weights.{option}": float(weight)
                              for option, weight in zip(attribute.options, weights, strict=True)})
                at += len(attribute.options)
            elif attribute.kind == "uniform":
                centre = low + unit[at] * width
                half = unit[at + 1] * min(centre - low, high - centre)
                moved[f"{attribute.path}.low"] = float(max(centre - half, low))
                moved[f"{attribute.path}.high"] = float(min(centre + half, high))
                at += 2
            elif attribute.kind == "normal":
                moved[f"{attribute.path}.mean"] = float(low + unit[at] * width)
                moved[f"{attribute.path}.std"] = float(unit[at + 1] * width)
                at += 2
            else:
                moved[f"{attribute.path}.value"] = float(low + unit[at] * width)
                at += 1
        return moved

    def params(self, unit: np.ndarray, **overrides: Any) -> dict[str, Any]:
        """The generator's full, validated parameters at ``unit`` (``overrides``: n, seed, ...)."""
        return self.spec.with_parameters({**self.base, **overrides}, self.moved(unit))

    def unit_of(self, params: dict[str, Any]) -> np.ndarray:
        """The point of the box that stands for ``params``' tuned attributes (their kinds as in the base)."""
        found = {item.path: item.distribution for item in self.spec.tunable(params)}
        unit: list[float] = []
        for attribute in self._attributes:
            distribution = found[attribute.path]
            low, high = attribute.minimum, attribute.maximum
            width = high - low
            if isinstance(distribution, Choice):
                unit += [distribution.weights.get(option, 0.0) / MAX_WEIGHT for option in attribute.options]
            elif isinstance(distribution, Uniform):
                centre = (distribution.low + distribution.high) / 2
                room = min(centre - low, high - centre)
                unit += [(centre - low) / width, (distribution.high - distribution.low) / 2 / room if room > 0 else 0.0]
            elif isinstance(distribution, Normal):
                unit += [(distribution.mean - low) / width, distribution.std / width]
            elif isinstance(distribution, Constant):
                unit += [(distribution.value - low) / width]
            else:
                raise ValueError(f"{attribute.path}: its kind changed from {attribute.kind}")
        return np.clip(np.asarray(unit, dtype=float), 0.0, 1.0)

    def generic_start(self) -> np.ndarray:
        """The generic configuration: every numeric attribute at the midpoint of its bounds with no
        spread (a normal's std at 0), every option of a choice weighed alike (half of MAX_WEIGHT)."""
        unit: list[float] = []
        for attribute in self._attributes:
            if attribute.kind == "choice":
                unit += [0.5] * len(attribute.options)
            elif attribute.kind == "constant":
                unit.append(0.5)
            else:
                unit += [0.5, 0.0]
        return np.asarray(unit, dtype=float)

    def distributions(self, unit: np.ndarray) -> dict[str, dict[str, Any]]:
        """Each tuned attribute's distribution (its kind's parameters, as JSON) at ``unit``: for reports."""
        found = distributions(self.spec.schema, self.params(unit))
        return {path: found[path].to_json() for path in self.attributes}

    def describe(self) -> dict[str, Any]:
        return {"generator": self.spec.slug, "version": self.spec.version, "attributes": self.attributes,
                "coordinates": [c.name for c in self.coordinates]}
