"""What one job may cost and one user may hold, checked when a job is submitted.

Every job type estimates its output bytes, samples and cost (values computed) from its
parameters (``JobType.estimate``). Per-job caps apply to that estimate; per-user quotas to
what the user already stores (their datasets' ready versions) and the estimates of their
queued and running jobs, plus this one. A sharded job is counted once, through its parent.
Every limit is a setting (``SYNTHREG_MAX_JOB_*``, ``SYNTHREG_USER_*``) and applies to every
user, staff included; a refusal names the setting and says what to change.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model

from catalog.usage import stored_bytes
from generators.spec import Estimate
from jobs.models import Job
from jobs.types import JobLimitExceeded, JobType, QuotaExceeded, get_job_type

ACTIVE = (Job.State.QUEUED, Job.State.RUNNING)


def check_caps(declared: JobType, parameters: dict) -> Estimate:
    """Refuse a job larger than the per-job caps; returns its estimate."""
    sizing = declared.estimate(parameters)
    estimate = sizing.estimate
    for setting, value, would, amount in (
        ("SYNTHREG_MAX_JOB_BYTES", estimate.output_bytes, "write about {}", _bytes),
        ("SYNTHREG_MAX_JOB_SAMPLES", estimate.samples, "make {} samples", "{:,}".format),
        ("SYNTHREG_MAX_JOB_COST", estimate.cost, "compute about {} pixel or cell values", "{:.3g}".format),
    ):
        cap = getattr(settings, setting)
        if value > cap:
            raise JobLimitExceeded(sizing.field, f"this job would {would.format(amount(value))}; the per-job cap "
                                                 f"is {amount(cap)} ({setting}). {sizing.remedy}")
    return estimate


def check_quotas(user, job: Job, estimate: Estimate) -> None:
    """Refuse ``job`` (just created, in the submitting transaction) if the user's quotas have no room.

    The user's row is locked first, so concurrent submissions by one user are counted one after
    the other (on SQLite the job's insert already holds the database's write lock).
    """
    get_user_model().objects.select_for_update(no_key=True).get(pk=user.pk)
    others = list(Job.objects.filter(owner=user, state__in=ACTIVE, parent__isnull=True).exclude(pk=job.pk))
    if len(others) >= settings.SYNTHREG_USER_ACTIVE_JOBS:
        raise QuotaExceeded(
            "SYNTHREG_USER_ACTIVE_JOBS",
            f"you have {len(others)} queued or running jobs, the most one user may have "
            f"(SYNTHREG_USER_ACTIVE_JOBS). Wait for one to finish, or cancel one.",
            used=len(others), limit=settings.SYNTHREG_USER_ACTIVE_JOBS, status=429)
    stored = stored_bytes(user)
    pending = sum(get_job_type(other.type).estimate(other.parameters).estimate.output_bytes for other in others)
    quota = settings.SYNTHREG_USER_STORAGE_BYTES
    if stored + pending + estimate.output_bytes > quota:
        raise QuotaExceeded(
            "SYNTHREG_USER_STORAGE_BYTES",
            f"your datasets hold {_bytes(stored)} and your queued or running jobs will write about "
            f"{_bytes(pending)}; with this job's {_bytes(estimate.output_bytes)} that is more than your storage "
            f"quota of {_bytes(quota)} (SYNTHREG_USER_STORAGE_BYTES). Make the job smaller, wait for your "
            f"jobs to finish, or ask an administrator to remove versions you no longer need.",
            used=stored + pending, limit=quota, status=403)


def _bytes(value: float) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if value >= scale:
            return f"{value / scale:.3g} {unit}"
    return f"{value:.0f} bytes"
