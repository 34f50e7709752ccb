"""Which jobs a user sees: their own; staff see every job; anonymous users none."""

from __future__ import annotations

from django.db.models import QuerySet

from jobs.models import Job


def visible_jobs(user) -> QuerySet[Job]:
    if not user.is_authenticated:
        return Job.objects.none()
    jobs = Job.objects.all()
    return jobs if user.is_staff else jobs.filter(owner=user)
