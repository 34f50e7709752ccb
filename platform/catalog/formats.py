"""The catalog's side of data formats (contracts.formats): which one a version's files must match."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from catalog.models import Dataset
from contracts import formats
from contracts.formats import FormatError


def register_configured() -> None:
    """The deployment's own formats (``SYNTHREG_FORMATS``, dotted paths) join the built-ins and
    plugins; the registry is then frozen."""
    for dotted_path in settings.SYNTHREG_FORMATS:
        formats.register_path(dotted_path)
    formats.freeze()


def check_files(dataset: Dataset, staging: Path, declared: str | None) -> str:
    """Validate ``staging`` against ``declared`` (default: the dataset's format); returns the name
    checked ("" when neither names one). FormatError says why files do not match."""
    if declared and dataset.format and declared != dataset.format:
        raise FormatError(f"dataset {dataset.slug!r} holds {dataset.format}; these files are declared {declared}")
    name = declared or dataset.format
    if not name:
        return ""
    try:
        fmt = formats.get(name)
    except formats.UnknownFormat as exc:
        raise FormatError(str(exc)) from None
    fmt.validate(staging)
    return name
