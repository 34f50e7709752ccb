"""The one access policy every route uses (API, portal, downloads, jobs) for datasets.

Which jobs a user sees is the jobs app's own rule: jobs.visibility.

- public: anyone may see and download.
- private: the owner, grantees and staff may see and download.
- restricted (real reference data): the owner, grantees and staff may see the metadata and
  use it as a job input; its content is never downloadable, by anyone.

Per version, the release gate (access/gate.py) comes on top: a version made from restricted data
that its evaluation has not released is held, seen and downloaded by its dataset's owner and
staff only, whatever the dataset's access and grants say. Every route asks about versions here.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from access.models import AuditEvent, Grant
from catalog.models import Dataset, DatasetVersion


def visible_datasets(user) -> QuerySet[Dataset]:
    datasets = Dataset.objects.all()
    if user.is_authenticated and user.is_staff:
        return datasets
    if not user.is_authenticated:
        return datasets.filter(access=Dataset.Access.PUBLIC)
    # Grants as a subquery, not a join: no duplicate rows, so no DISTINCT over every column
    # (which made counting a page of the list cost as much as reading the whole table).
    granted = Grant.objects.filter(user=user).values("dataset_id")
    return datasets.filter(Q(access=Dataset.Access.PUBLIC) | Q(owner=user) | Q(pk__in=granted))


def can_view(user, dataset: Dataset) -> bool:
    if dataset.access == Dataset.Access.PUBLIC:
        return True
    if not user.is_authenticated:
        return False
    return user.is_staff or dataset.owner_id == user.pk or dataset.grants.filter(user=user).exists()


def can_download(user, dataset: Dataset) -> bool:
    return dataset.access != Dataset.Access.RESTRICTED and can_view(user, dataset)


def held_from(user, version: DatasetVersion) -> bool:
    """Whether the release gate keeps ``version`` from ``user``: it is held, and they are neither
    its dataset's owner nor staff."""
    if version.gate != DatasetVersion.Gate.HELD:
        return False
    return not (user.is_authenticated and (user.is_staff or version.dataset.owner_id == user.pk))


def visible_versions(user) -> QuerySet[DatasetVersion]:
    """The versions ``user`` may see: of datasets they may see, less those the gate holds from them."""
    versions = DatasetVersion.objects.filter(dataset__in=visible_datasets(user))
    if user.is_authenticated and user.is_staff:
        return versions
    held = Q(gate=DatasetVersion.Gate.HELD)
    return versions.exclude(held & ~Q(dataset__owner=user) if user.is_authenticated else held)


def can_view_version(user, version: DatasetVersion) -> bool:
    return can_view(user, version.dataset) and not held_from(user, version)


def can_download_version(user, version: DatasetVersion) -> bool:
    return can_download(user, version.dataset) and not held_from(user, version)


def can_use_as_input(user, dataset: Dataset) -> bool:
    """Jobs on the platform may read any dataset their owner can see, restricted ones too."""
    return can_view(user, dataset)


def can_manage(user, dataset: Dataset) -> bool:
    return user.is_authenticated and (user.is_staff or dataset.owner_id == user.pk)


def audit(user, action: str, target: str, **details) -> None:
    AuditEvent.objects.create(user=user if user.is_authenticated else None, action=action, target=target, details=details)


def is_known_to(user, dataset: Dataset) -> bool:
    """Whether the user may learn that the dataset exists without seeing it: it is the reference
    of a dataset they can see (its slug is already on that page). Others get a plain 404."""
    return visible_datasets(user).filter(reference=dataset).exists()


def can_request_access(user, dataset: Dataset) -> bool:
    return user.is_authenticated and not can_view(user, dataset) and is_known_to(user, dataset)
