"""Attribute distributions: one small JSON object per attribute, sampled per image.

``{"distribution": "uniform", "low": a, "high": b}``, ``{"distribution": "normal",
"mean": m, "std": s}`` (clipped to the attribute's allowed range) or
``{"distribution": "constant", "value": v}``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from generators.params import ParameterError

KINDS = ("uniform", "normal", "constant")


def distribution_schema(
    description: str, *, minimum: float, maximum: float, low: float, high: float,
    distribution: str = "uniform", mean: float | None = None, std: float = 0.0,
) -> dict[str, Any]:
    """JSON schema of one attribute's distribution, with its defaults filled in."""
    number = {"type": "number", "minimum": minimum, "maximum": maximum}
    centre = (low + high) / 2 if mean is None else mean
    return {
        "type": "object",
        "description": f"{description} Allowed values {minimum}..{maximum}.",
        "additionalProperties": False,
        "properties": {
            "distribution": {"enum": list(KINDS), "default": distribution,
                             "description": "uniform (low, high), normal (mean, std; clipped) or constant (value)."},
            "low": {**number, "default": low},
            "high": {**number, "default": high},
            "mean": {**number, "default": centre},
            "std": {"type": "number", "minimum": 0, "maximum": maximum - minimum, "default": std},
            "value": {**number, "default": centre},
        },
        "default": {},
    }


def check_distribution(name: str, spec: dict[str, Any]) -> None:
    """Cross-field checks JSON schema cannot express; raise naming the parameter."""
    if spec["distribution"] == "uniform" and spec["low"] > spec["high"]:
        raise ParameterError(f"{name}.low", f"must not exceed {name}.high ({spec['low']} > {spec['high']})")


def sample(spec: dict[str, Any], schema: dict[str, Any], rng: np.random.Generator, size: int) -> np.ndarray:
    """Draw ``size`` values (float32). Every kind consumes the same draws, so switching
    one attribute's distribution leaves the other attributes' values unchanged."""
    unit = rng.random(size)
    normal = rng.standard_normal(size)
    kind = spec["distribution"]
    if kind == "uniform":
        values = spec["low"] + (spec["high"] - spec["low"]) * unit
    elif kind == "normal":
        bounds = schema["properties"]["low"]
        values = np.clip(spec["mean"] + spec["std"] * normal, bounds["minimum"], bounds["maximum"])
    else:
        values = np.full(size, spec["value"])
    return values.astype(np.float32)
