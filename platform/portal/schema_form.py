"""HTML form fields drawn from a generator's JSON schema, and the posted values read back.

Numbers, integers, booleans and enums get their own inputs; objects with declared
properties become nested fieldsets; anything else (arrays, free-form objects) is JSON.
A ``type`` list (``["number", "null"]``) is a nullable field of its first non-null type: left
empty, it posts null.
Field names are dotted paths under ``p.`` (``p.camera.fov_deg.low``).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from generators.params import ParameterError, shorten

PREFIX = "p."
ERROR_PATTERN = re.compile(r"^parameters\.params\.([\w.]+): (.*)$", re.DOTALL)


@dataclass
class Field:
    path: str
    label: str
    widget: str  # number, integer, checkbox, select, json, text, group
    value: Any
    description: str = ""
    minimum: float | None = None
    maximum: float | None = None
    choices: list[str] = field(default_factory=list)
    children: list[Field] = field(default_factory=list)
    nullable: bool = False  # its type list admits null: an empty value posts null
    raw: str | None = None  # what the user posted, shown again when the form comes back with an error
    error: str = ""  # why the posted value was refused, shown beside the field

    @property
    def name(self) -> str:
        return PREFIX + self.path

    @property
    def depth(self) -> int:
        """How deep the field is nested (0 at the top), for indenting it."""
        return self.path.count(".")

    @property
    def html_id(self) -> str:
        return "p-" + self.path.replace(".", "-")

    @property
    def display(self) -> str:
        if self.raw is not None:
            return self.raw
        if self.widget == "json":
            return json.dumps(self.value)
        return "" if self.value is None else str(self.value)


def _leaves(fields: list[Field]) -> list[Field]:
    return [leaf for f in fields for leaf in (_leaves(f.children) if f.widget == "group" else [f])]


def mark_error(fields: list[Field], error: str) -> str:
    """Attach a refusal (``parameters.params.PATH: message``) to the field it names, and say it for
    people: ``Number of samples: must be at least 1``. Errors naming no field come back as they are."""
    match = ERROR_PATTERN.match(error or "")
    if not match:
        return error or ""
    path, message = match.groups()
    named = next((f for f in _leaves(fields) if f.path == path), None)
    if named is None:  # a group, or a rule across fields
        return f"{path.replace('.', ' › ').replace('_', ' ')}: {message}"
    named.error = message
    return f"{named.label[:1].upper()}{named.label[1:]}: {message}"


def _types(prop: dict[str, Any]) -> tuple[str | None, bool]:
    """The property's type and whether it admits null (``"type"`` may be one name or a list)."""
    declared = prop.get("type")
    if not isinstance(declared, list):
        return declared, False
    kinds = [kind for kind in declared if kind != "null"]
    return (kinds[0] if kinds else None), "null" in declared


def _widget(prop: dict[str, Any]) -> str:
    if "enum" in prop:
        return "select"
    kind, _ = _types(prop)
    if kind == "object" and prop.get("properties"):
        return "group"
    return {"integer": "integer", "number": "number", "boolean": "checkbox", "string": "text"}.get(kind, "json")


def fields_for(schema: dict[str, Any], values: dict[str, Any], posted=None, path: str = "") -> list[Field]:
    """The form's fields for ``schema``, showing ``values`` (defaults filled in), or what was ``posted``."""
    fields = []
    for name, prop in schema.get("properties", {}).items():
        full = f"{path}{name}"
        value = values.get(name) if isinstance(values, dict) else None
        widget = _widget(prop)
        fields.append(Field(
            path=full, label=prop.get("title", name.replace("_", " ")), widget=widget, value=value,
            description=prop.get("description", ""), minimum=prop.get("minimum"), maximum=prop.get("maximum"),
            choices=[str(c) for c in prop.get("enum", [])], nullable=_types(prop)[1],
            children=fields_for(prop, value or {}, posted, f"{full}.") if widget == "group" else [],
            raw=posted.get(PREFIX + full) if posted is not None and widget not in ("group", "checkbox") else None,
        ))
    return fields


def read_values(schema: dict[str, Any], data, path: str = "") -> dict[str, Any]:
    """Rebuild the parameters from posted form data; raises ParameterError naming a bad field."""
    values: dict[str, Any] = {}
    for name, prop in schema.get("properties", {}).items():
        full = f"{path}{name}"
        widget = _widget(prop)
        if widget == "group":
            nested = read_values(prop, data, f"{full}.")
            if nested:  # nothing posted for it: the default applies (a choice's weights as a whole)
                values[name] = nested
            continue
        if widget == "checkbox":
            values[name] = data.get(PREFIX + full) in ("on", "true", "1")
            continue
        raw = data.get(PREFIX + full)
        if raw is not None and raw.strip() == "" and _types(prop)[1]:
            values[name] = None  # emptied on purpose: the form shows the default otherwise
            continue
        if raw is None or raw.strip() == "":
            continue  # left empty: the default applies
        values[name] = _convert(full, widget, raw.strip(), prop)
    return values


def _convert(path: str, widget: str, raw: str, prop: dict[str, Any]) -> Any:
    try:
        if widget == "integer":
            return int(raw)
        if widget == "number":
            number = float(raw)
        if widget == "json":
            return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ParameterError(path, f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    except ValueError:
        raise ParameterError(path, f"{shorten(raw, 40)!r} is not {'an integer' if widget == 'integer' else 'a number'}") from None
    if widget == "number":
        if not math.isfinite(number):  # float() takes "nan" and "1e400"; no schema bound stops a NaN
            raise ParameterError(path, f"{shorten(raw, 40)!r} is not a finite number")
        return number
    if widget == "select":
        # Enum values may be numbers; match the declared value's text.
        return next((choice for choice in prop["enum"] if str(choice) == raw), raw)
    return raw
