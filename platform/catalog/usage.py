"""What a user stores: the one count the storage quota (SYNTHREG_USER_STORAGE_BYTES) is checked
against, by jobs (jobs.limits) and uploads (catalog.uploads) alike."""

from __future__ import annotations

from django.db.models import F, Sum

from catalog.models import DatasetVersion, Evaluation


def stored_bytes(user) -> int:
    """Bytes stored under every dataset the user owns: its ready versions, the job reports kept beside
    them, and the report files of their evaluations (whoever asked for them: they go with the version)."""
    ready = DatasetVersion.objects.filter(dataset__owner=user, status=DatasetVersion.Status.READY)
    versions = ready.aggregate(total=Sum(F("total_size") + F("report_size")))["total"] or 0
    evaluations = Evaluation.objects.filter(version__dataset__owner=user).aggregate(total=Sum("report_size"))
    return versions + (evaluations["total"] or 0)
