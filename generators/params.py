"""Parameter validation shared by every generator: JSON Schema plus defaults."""

from __future__ import annotations

import copy
from typing import Any

import jsonschema
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


__all__ = ["ParameterError", "fill_defaults", "jsonschema", "shorten", "validate_params"]
