"""Walking a version's lineage (its parents, their parents, ...)."""

from __future__ import annotations

from catalog.models import Dataset, DatasetVersion, VersionParent


def derived_from_restricted(version: DatasetVersion) -> bool:
    """Whether the version is restricted, or any version it was made from (at any depth) is."""
    seen: set[int] = set()
    frontier = {version.pk}
    while frontier:
        if DatasetVersion.objects.filter(pk__in=frontier, dataset__access=Dataset.Access.RESTRICTED).exists():
            return True
        seen |= frontier
        frontier = set(VersionParent.objects.filter(child__in=frontier).values_list("parent", flat=True)) - seen
    return False
