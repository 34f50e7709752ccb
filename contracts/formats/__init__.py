"""Versioned data formats, each declared once, and the registry of them.

A :class:`Format` (``contracts.formats.declare``) names its files, their NPZ keys with dtypes and
shape patterns, table column types and the label, and validates a folder from file headers alone.
Built-ins (``contracts.formats.builtin``): ``images/1``, ``scenes/1``, ``table/1``, ``model/1``;
third parties publish theirs under the ``synthreg.formats`` entry-point group, deployments name
more by dotted path (``SYNTHREG_FORMATS``). Generators and job types name the format they write;
the catalog validates files against it before a version turns ready.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from contracts.formats.declare import (
    Array,
    FileSpec,
    Format,
    JsonFile,
    JsonLinesFile,
    NpzFile,
    PngFile,
    SafetensorsFile,
    TableFile,
)
from contracts.formats.errors import FormatError
from contracts.registry import Registry, Unknown

ENTRY_POINT_GROUP = "synthreg.formats"


class UnknownFormat(Unknown):
    pass


FORMATS: Registry[Format] = Registry(
    "format", Format, lambda fmt: fmt.name, builtins=["contracts.formats.builtin.BUILTIN_FORMATS"],
    entry_point_group=ENTRY_POINT_GROUP, unknown=UnknownFormat,
)
register_path = FORMATS.register_path
freeze = FORMATS.freeze
get = FORMATS.get
temporarily_registered = FORMATS.temporarily_registered


def validate(name: str, directory: Path | str) -> dict[str, Any]:
    """Check the files under ``directory`` against format ``name``; FormatError says why not."""
    return get(name).validate(directory)


__all__ = [
    "ENTRY_POINT_GROUP", "FORMATS", "Array", "FileSpec", "Format", "FormatError", "JsonFile", "JsonLinesFile",
    "NpzFile", "PngFile", "SafetensorsFile", "TableFile", "UnknownFormat", "get", "validate",
]
