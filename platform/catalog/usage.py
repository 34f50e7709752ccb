"""What a user stores: the one count the storage quota (SYNTHREG_USER_STORAGE_BYTES) is checked
against, by jobs (jobs.limits) and uploads (catalog.uploads) alike."""

from __future__ import annotations

from django.db.models import Sum

from catalog.models import DatasetVersion


def stored_bytes(user) -> int:
    """Bytes of the ready versions of every dataset the user owns."""
    ready = DatasetVersion.objects.filter(dataset__owner=user, status=DatasetVersion.Status.READY)
    return ready.aggregate(total=Sum("total_size"))["total"] or 0
