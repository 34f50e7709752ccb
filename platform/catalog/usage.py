"""What a user stores: the one count the storage quota (SYNTHREG_USER_STORAGE_BYTES) is checked
against, by jobs (jobs.limits) and uploads (catalog.uploads) alike."""

from __future__ import annotations

from django.db.models import F, Q, Sum

from catalog.models import DatasetVersion, Evaluation


def stored_bytes(user) -> int:
    """Bytes of the ready versions of every dataset the user owns with the job reports kept beside
    them, plus the report files of the evaluations the user ran (an evaluation counts for whoever
    ran it, as its estimate did while it was queued, so no one fills another's quota; one whose job
    is gone counts for the version's owner)."""
    ready = DatasetVersion.objects.filter(dataset__owner=user, status=DatasetVersion.Status.READY)
    versions = ready.aggregate(total=Sum(F("total_size") + F("report_size")))["total"] or 0
    ran = Q(job__owner=user) | Q(job__isnull=True, version__dataset__owner=user)
    evaluations = Evaluation.objects.filter(ran).aggregate(total=Sum("report_size"))["total"] or 0
    return versions + evaluations
