"""Walking a version's lineage (its parents, their parents, ...)."""

from __future__ import annotations

from collections.abc import Iterable

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


# Relations through which a version learns from its parent's records (backgrounds-from composites
# real pixels and makes the output restricted instead; generated-by reads no records).
GATED_RELATIONS = (VersionParent.Relation.FITTED_ON, VersionParent.Relation.TUNED_ON,
                   VersionParent.Relation.REFINED_FROM)


def born_held(dataset: Dataset, parents: Iterable[tuple[DatasetVersion, str]]) -> bool:
    """Whether a new version of ``dataset`` made from ``parents`` starts held by the release gate:
    it learnt from a restricted version, or from one that was itself gated (transitively). A
    restricted dataset's versions never leave anyway, so they are not gated."""
    if dataset.access == Dataset.Access.RESTRICTED:
        return False
    return any(relation in GATED_RELATIONS and (parent.dataset.access == Dataset.Access.RESTRICTED
                                                or parent.gate != DatasetVersion.Gate.NONE)
               for parent, relation in parents)


def gating_references(version: DatasetVersion) -> set[int]:
    """Ids of the restricted datasets the version learnt from, through gated relations at any depth:
    an evaluation against one of them is what can release it."""
    found: set[int] = set()
    seen: set[int] = set()
    frontier = {version.pk}
    while frontier:
        seen |= frontier
        links = VersionParent.objects.filter(child__in=frontier, relation__in=GATED_RELATIONS).values_list(
            "parent", "parent__dataset", "parent__dataset__access")
        found |= {dataset for _, dataset, access in links if access == Dataset.Access.RESTRICTED}
        frontier = {parent for parent, _, _ in links} - seen
    return found
