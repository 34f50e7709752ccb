"""The contract every generator fulfils.

A generator is declared once as a :class:`GeneratorSpec`: its slug, kind,
modality, code version, the JSON schema of its parameters and the function
that runs it. ``run(params, out_dir, progress, **inputs)`` receives parameters already
validated and completed with defaults (including ``n`` and ``seed``), writes
its files into ``out_dir`` (a private temporary folder; the caller publishes
it atomically) and returns a :class:`GenerateResult`. The same parameters give
byte-identical files, in the data format the spec names (``format``). ``estimate(params)`` says what such a run will write and cost
without running it (an :class:`Estimate`), so the platform can refuse a job that is too
large before it is queued. Every random draw of a generator comes from an attribute its schema
declares (:mod:`generators.params`); ``tunable(params)`` lists those a tuner may move and
``with_parameters(params, moved)`` writes moved ones back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from generators.params import ParameterError, Tunable, tunable, validate_params, with_parameters

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


# How far an estimate may be from what a run writes, either way; the contract suite holds every
# generator to it on small parameter sets (where fixed overheads weigh most).
ESTIMATE_FACTOR = 1.25

# The most one run may write, whatever a platform's own caps: a request beyond it is a mistake.
MAX_OUTPUT_BYTES = 100 * 10**9


@dataclass(frozen=True)
class Estimate:
    """What a run will produce and cost, computed from its parameters alone (nothing is rendered)."""

    # Bytes of all files written into out_dir, within ESTIMATE_FACTOR of the real total.
    output_bytes: int
    # Samples the run reports (GenerateResult.samples): images, frames or rows.
    samples: int
    # Work, in values computed: pixels times the channels or layers drawn per pixel, or table cells.
    cost: int


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
    # What ``run`` would write and cost for validated, default-filled parameters (fast: no rendering).
    estimate: Callable[[dict[str, Any]], Estimate]
    # The data format ``run`` writes (a name in ``contracts.formats``, e.g. "images/1"); the
    # files are validated against it before a version turns ready.
    format: str
    # Celery queue the job runs on: "cpu" or "gpu".
    queue: Literal["cpu", "gpu"] = "cpu"
    # Array inputs ``run`` accepts as keyword arguments (e.g. "backgrounds": N x H x W[ x C] images).
    inputs: tuple[str, ...] = ()
    # Checks JSON Schema cannot express (e.g. low <= high), run on validated, default-filled
    # parameters; raises ParameterError naming the field.
    check: Callable[[dict[str, Any]], None] | None = None
    # Parameters that make the output larger, named (in this order) when a job is refused as too large.
    size_parameters: tuple[str, ...] = ("n",)

    @property
    def shrink_hint(self) -> str:
        """How to make a run smaller, for refusals: "Lower n, width or height."."""
        *most, last = self.size_parameters
        return f"Lower {', '.join(most)} or {last}." if most else f"Lower {last}."

    def refuse_absurd_size(self, params: dict[str, Any]) -> None:
        """Raise :class:`ParameterError` on ``n`` when a run would write more than MAX_OUTPUT_BYTES."""
        size = self.estimate(params).output_bytes
        if size > MAX_OUTPUT_BYTES:
            raise ParameterError("n", f"this would write about {size / 1e9:,.0f} GB; no run may write more than "
                                      f"{MAX_OUTPUT_BYTES / 1e9:,.0f} GB. {self.shrink_hint}")

    def tunable(self, params: dict[str, Any] | None = None) -> list[Tunable]:
        """The attributes a tuner may move in ``params`` (partial ones are completed with defaults):
        each one's dotted path, current distribution, and the parameters to move with their bounds."""
        return tunable(self.schema, self._validated(params))

    def with_parameters(self, params: dict[str, Any] | None, moved: dict[str, float]) -> dict[str, Any]:
        """``params`` with tunable parameters moved (``{"camera.fov_deg.low": 50.0}``), clipped to their
        bounds and validated as a job's parameters are (the size limit aside)."""
        filled = with_parameters(self.schema, self._validated(params), moved)
        if self.check is not None:
            self.check(filled)
        return filled

    def _validated(self, params: dict[str, Any] | None) -> dict[str, Any]:
        filled = validate_params(self.schema, params)
        if self.check is not None:
            self.check(filled)
        return filled
