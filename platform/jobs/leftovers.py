"""What a killed worker leaves behind for a job that has since ended, removed by the sweep.

A delivery tidies its own files, and the next delivery of a job still running replaces an earlier
try's. A worker killed at the wrong moment of a job's last try leaves files no delivery comes back
for: the checkpoint of a job that had just turned succeeded (it is cleared after the publishing
transaction), a staging folder, or, in dataset storage, the prefix its version, report or
evaluation was moved to before the transaction that would have recorded it (the job then ends
failed or cancelled). Every name involved starts with the job's id, so each sweep lists the
staging folder and each dataset's folder and removes what belongs to a job that ended more than
one sweep interval ago (a live worker stops at its next progress report, well within that) and
recorded no version or evaluation. Names that are no job's id (uploads, seeded versions) are
never touched.
"""

from __future__ import annotations

import shutil
import uuid
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from catalog import storage
from catalog.models import DatasetVersion, Evaluation
from jobs.models import Job


def remove_leftovers() -> int:
    """Remove ended jobs' staging entries and unrecorded storage prefixes; returns how many went."""
    staged = _staging_entries()
    stored = _storage_prefixes()
    ended = _ended_jobs({job for job, _ in staged} | {job for job, _ in stored})
    removed = 0
    for job, path in staged:
        if job in ended:
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
    live = _recorded(ended)
    for job, prefix in stored:
        if job in ended and job not in live:
            storage.remove_tree(prefix)
            removed += 1
    return removed


def _job_id(name: str) -> str | None:
    """The job id a staging or storage name starts with (``<id>``, ``<id>-checkpoint.old``, ...)."""
    try:
        job = str(uuid.UUID(name[:36]))
    except ValueError:
        return None
    return job if name.startswith(job) else None


def _staging_entries() -> list[tuple[str, Path]]:
    root = Path(settings.SYNTHREG_STAGING_DIR)
    if not root.is_dir():
        return []
    return [(job, path) for path in root.iterdir() if path.is_dir() and (job := _job_id(path.name))]


def _storage_prefixes() -> list[tuple[str, str]]:
    """A job's prefixes in its dataset's folder: ``<id>`` (its version), ``<id>-report`` (the report
    beside it, jobs.outputs.report_prefix) and ``evaluations/<id>`` (jobs.evaluate)."""
    found = []
    for slug in _dirs(""):
        found.extend((job, f"{slug}/{name}") for name in _dirs(slug)
                     if (job := _job_id(name)) and name in (job, f"{job}-report"))
        found.extend((job, f"{slug}/evaluations/{name}") for name in _dirs(f"{slug}/evaluations")
                     if (job := _job_id(name)) and name == job)
    return found


def _dirs(prefix: str) -> list[str]:
    try:
        return storage.dataset_storage().listdir(prefix)[0]
    except FileNotFoundError:
        return []


def _ended_jobs(ids: set[str]) -> set[str]:
    """Those of ``ids`` that are jobs ended more than one sweep interval ago."""
    settled = timezone.now() - timedelta(seconds=settings.SYNTHREG_SWEEP_SECONDS)
    ended = Job.objects.filter(pk__in=ids, state__in=Job.FINISHED_STATES, finished_at__lt=settled)
    return {str(pk) for pk in ended.values_list("pk", flat=True)}


def _recorded(ids: set[str]) -> set[str]:
    """Those of ``ids`` whose version or evaluation was recorded: their prefixes are in use."""
    versions = DatasetVersion.objects.filter(job__in=ids).values_list("job_id", flat=True)
    evaluations = Evaluation.objects.filter(job__in=ids).values_list("job_id", flat=True)
    return {str(pk) for pk in (*versions, *evaluations)}
