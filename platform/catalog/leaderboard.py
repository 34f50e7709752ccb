"""Ranking the synthetic versions evaluated against one reference dataset."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from catalog.models import Dataset, Evaluation


@dataclass(frozen=True)
class Entry:
    evaluation: Evaluation
    tstr: float | None
    trtr: float | None
    ratio: float | None
    quality_score: float | None
    privacy_score: float | None
    privacy_gate: str | None
    metric: str | None


def entry_of(evaluation: Evaluation) -> Entry:
    """The headline figures of one evaluation."""
    results: dict[str, Any] = evaluation.results
    utility = results.get("utility") or {}
    summary = results.get("summary") or {}
    return Entry(
        evaluation=evaluation,
        tstr=(utility.get("tstr") or {}).get("mean"),
        trtr=(utility.get("trtr") or {}).get("mean"),
        ratio=utility.get("ratio"),
        quality_score=summary.get("quality_score"),
        privacy_score=summary.get("privacy_score"),
        privacy_gate=(results.get("verdict") or {}).get("privacy_gate"),
        metric=utility.get("metric"),
    )


def leaderboard(reference: Dataset, visible_versions) -> list[Entry]:
    """The newest evaluation of each visible version against ``reference``, best TSTR first."""
    evaluations = (
        Evaluation.objects.filter(reference__dataset=reference, version__in=visible_versions,
                                  version__dataset__kind=Dataset.Kind.SYNTHETIC)
        .select_related("version__dataset").order_by("version_id", "-created_at")
    )
    newest: dict[int, Evaluation] = {}
    for evaluation in evaluations:
        newest.setdefault(evaluation.version_id, evaluation)
    entries = [entry_of(e) for e in newest.values()]
    return sorted(entries, key=lambda e: (e.tstr is None, -(e.tstr or 0.0)))
