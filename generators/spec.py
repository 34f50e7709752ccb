"""The contract every generator fulfils.

A generator is declared once as a :class:`GeneratorSpec`: its slug, kind,
modality, code version, the JSON schema of its parameters and the function
that runs it. ``run(params, out_dir, progress, **inputs)`` receives parameters already
validated and completed with defaults (including ``n`` and ``seed``), writes
its files into ``out_dir`` (a private temporary folder; the caller publishes
it atomically) and returns a :class:`GenerateResult`. The same parameters give
byte-identical files.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Progress = Callable[[float, str], None]
"""Called with a fraction done in 0..1 and a short human message."""

GeneratorKind = Literal["renderer", "refiner", "adapter", "feedback", "tabular"]
Modality = Literal["image", "scene", "tabular"]


def no_progress(fraction: float, message: str) -> None:
    """A progress sink for callers that do not watch."""


@dataclass(frozen=True)
class GenerateResult:
    """What a run produced, beside the files it wrote."""

    samples: int
    # Small, JSON-serialisable facts for the catalog (class counts, shapes, label kinds).
    summary: dict[str, Any] = field(default_factory=dict)
    # Relative path (inside out_dir) of a PNG preview grid, if the generator drew one.
    preview: str | None = None


@dataclass(frozen=True)
class GeneratorSpec:
    slug: str
    title: str
    kind: GeneratorKind
    modality: Modality
    version: str
    description: str
    # JSON Schema (draft 2020-12) of the parameters; every property has a default.
    schema: dict[str, Any]
    run: Callable[[dict[str, Any], Path, Progress], GenerateResult]
    # Celery queue the job runs on: "cpu" or "gpu".
    queue: Literal["cpu", "gpu"] = "cpu"
    # Array inputs ``run`` accepts as keyword arguments (e.g. "backgrounds": N x H x W[ x C] images).
    inputs: tuple[str, ...] = ()
    # Checks JSON Schema cannot express (e.g. low <= high), run on validated, default-filled
    # parameters; raises ParameterError naming the field.
    check: Callable[[dict[str, Any]], None] | None = None
