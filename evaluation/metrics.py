"""The one metric contract, and the registry the report, the summary scores and the verdict are built from.

A :class:`Metric` declares its name, section (utility, fidelity or privacy),
the formats (report kinds: "tabular", "image") it applies to, its direction,
any threshold and whether it gates, and ``compute(context) -> value``. A
gating metric also declares its ideal and clear-leak level for the gate
(``evaluation.gate``) and ``interval(context)``: its gate statistics, by check
name. The registry's order is the order of the report's keys.

Built-in metrics come from ``evaluation.builtin_metrics``; third-party ones through the
``synthreg.metrics`` entry-point group (each entry point names a :class:`Metric`). The
registry (``contracts.registry``) is frozen on first use, so every report of a process is
built from the same set.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from contracts.registry import Registry, Unknown

ENTRY_POINT_GROUP = "synthreg.metrics"
SECTIONS = ("utility", "fidelity", "privacy")
FORMATS = ("tabular", "image")
# The summary's components, in order; each metric feeds at most one. Quality components are the mean
# of their metrics' 0..1 scores, privacy components the worst (lowest) of them.
COMPONENTS = {
    "quality": ("column_shapes", "column_pairs", "detection", "utility"),
    "privacy": ("dcr", "membership_inference", "exact_matches", "attacks"),
}
# The checks of the suite in ``evaluation.checks`` that a metric may declare it cannot meet.
CHECKS = ("copy_vs_independent", "determinism", "null_when_not_applicable")


class Context:
    """One evaluation's inputs, and the intermediates its metrics share, each computed once.

    ``real_train``, ``real_holdout`` and ``synthetic`` are tables (tabular) or
    ``(images, labels)`` (image). ``shared(name)`` returns the intermediate
    ``name`` (e.g. the one k-NN search the DCR metrics read), computing it on
    first use from the builder given for it.
    """

    def __init__(self, kind: str, real_train: Any, real_holdout: Any, synthetic: Any, *,
                 target: str | None, random_state: int, options: dict | None = None,
                 builders: dict[str, Callable[[], Any]] | None = None):
        self.kind, self.target, self.random_state = kind, target, random_state
        self.real_train, self.real_holdout, self.synthetic = real_train, real_holdout, synthetic
        self.options = options or {}
        self._builders = builders or {}
        self._cache: dict[str, Any] = {}

    def shared(self, name: str) -> Any:
        if name not in self._cache:
            if name not in self._builders:
                raise KeyError(f"no shared intermediate {name!r} for {self.kind} data; known: {sorted(self._builders)}")
            self._cache[name] = self._builders[name]()
        return self._cache[name]


@dataclass(frozen=True)
class Metric:
    """One metric. ``direction`` is "higher" or "lower" (better), or "ideal X" (best at X).

    ``key`` is its key in its report section (default: ``name``); ``contract``
    metrics are the section's stable keys, the others are shown beside them.
    A gating metric with ``family`` shares that metric's threshold, ideal and
    clear leak. ``checks`` are its gate check names: its name (the default) or
    ``name.part`` for each part of a value with several (``mia_auc.distance``).
    ``score`` maps a value to 0..1 for its summary ``component``; ``note`` is
    how the component names it. ``exempt`` maps a check of ``CHECKS`` to why
    the metric cannot meet it.
    """

    name: str
    section: str
    formats: tuple[str, ...]
    direction: str
    compute: Callable[[Context], Any]
    threshold: float | None = None
    gate: bool = False
    ideal: float | None = None
    clear_leak: float | None = None
    interval: Callable[[Context], dict[str, dict]] | None = None
    family: str | None = None
    checks: tuple[str, ...] = ()
    key: str = ""
    contract: bool = True
    component: str | None = None
    score: Callable[[Any], float | None] | None = None
    note: tuple[str, ...] = ()
    exempt: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.section not in SECTIONS:
            raise ValueError(f"metric {self.name!r}: section must be one of {SECTIONS}, got {self.section!r}")
        if not self.formats or set(self.formats) - set(FORMATS):
            raise ValueError(f"metric {self.name!r}: formats must be some of {FORMATS}, got {self.formats!r}")
        if self.direction not in ("higher", "lower") and not self.direction.startswith("ideal "):
            raise ValueError(f"metric {self.name!r}: direction must be 'higher', 'lower' or 'ideal X'")
        if self.gate and self.interval is not None and self.family is None and (
                self.threshold is None or self.ideal is None or self.clear_leak is None):
            raise ValueError(f"metric {self.name!r}: a gating metric needs a threshold, an ideal and a clear leak")
        if set(self.exempt) - set(CHECKS):
            raise ValueError(f"metric {self.name!r}: exempt names unknown checks {sorted(set(self.exempt) - set(CHECKS))}")
        if not self.key:
            object.__setattr__(self, "key", self.name)
        if not self.checks:
            object.__setattr__(self, "checks", (self.name,))
        if any(c != self.name and not c.startswith(self.name + ".") for c in self.checks):
            raise ValueError(f"metric {self.name!r}: check names must be {self.name!r} or {self.name!r}.PART")

    @property
    def op(self) -> str:
        """How a value is held to the threshold: at least it ("higher"), else at most it."""
        return ">=" if self.direction == "higher" else "<="

    def value(self, context: Context) -> Any:
        """The metric on ``context``; None where it does not apply to this format."""
        return self.compute(context) if context.kind in self.formats else None


class UnknownMetric(Unknown):
    pass


METRICS: Registry[Metric] = Registry(
    "metric", Metric, lambda metric: metric.name, builtins=["evaluation.builtin_metrics.BUILTIN_METRICS"],
    entry_point_group=ENTRY_POINT_GROUP, unknown=UnknownMetric,
)
register = METRICS.register
freeze = METRICS.freeze
get = METRICS.get
source_of = METRICS.source_of
temporarily_registered = METRICS.temporarily_registered


def all_metrics() -> list[Metric]:
    """Every metric, in registration order (the report's key order)."""
    return METRICS.all()


def section(name: str, kind: str | None = None) -> list[Metric]:
    """The metrics of a report section (applying to report kind ``kind``, if given)."""
    return [m for m in all_metrics() if m.section == name and (kind is None or kind in m.formats)]


def contract_keys(section_name: str) -> tuple[str, ...]:
    return tuple(m.key for m in section(section_name) if m.contract)


def gated(kind: str) -> list[Metric]:
    """The statistical gate checks' metrics of a report kind (those with an interval), in order."""
    return [m for m in all_metrics() if m.gate and m.interval is not None and kind in m.formats]


def judged_as(metric: Metric) -> Metric:
    """The metric whose threshold, ideal and clear leak ``metric`` is judged by."""
    return get(metric.family) if metric.family else metric


def default_thresholds() -> dict[str, float]:
    """Gate thresholds, then advisory ones, by metric name."""
    gate = {m.name: m.threshold for m in all_metrics() if m.gate and m.threshold is not None}
    advisory = {m.name: m.threshold for m in all_metrics() if not m.gate and m.threshold is not None}
    return gate | advisory
