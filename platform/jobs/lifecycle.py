"""Where a job's files are staged, and the tidying after a job ends without success."""

from __future__ import annotations

import shutil
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from jobs.checkpoints import Checkpoint
from jobs.models import Job
from jobs.queueing import enqueue

State = Job.State


def staging_dir(job: Job) -> Path:
    return Path(settings.SYNTHREG_STAGING_DIR) / str(job.pk)


def shards_root(parent_id) -> Path:
    """Where a sharded job's shards leave their files until the job publishes them."""
    return Path(settings.SYNTHREG_STAGING_DIR) / f"{parent_id}-shards"


def clean_staging(job: Job) -> None:
    shutil.rmtree(staging_dir(job), ignore_errors=True)


def job_ended(job: Job) -> None:
    """Tidy up after a job ended without success: its shards stop, its parent hears of it."""
    clean_staging(job)
    Checkpoint(job).clear()
    stop_shards(job)
    if job.parent_id:
        wake_parent(job.parent_id)


def stop_shards(job: Job) -> None:
    """Cancel a job's unfinished shards and drop their files (the job failed or was cancelled)."""
    Job.objects.filter(parent=job, state__in=[State.QUEUED, State.RUNNING]).update(
        state=State.CANCELLED, finished_at=timezone.now(), error=f"parent job {job.state}")
    shutil.rmtree(shards_root(job.pk), ignore_errors=True)


def wake_parent(parent_id) -> None:
    """Deliver a waiting sharded job again (its last shard is done, or one failed)."""
    parent = Job.objects.filter(pk=parent_id, state=State.RUNNING).first()
    if parent is not None:
        enqueue(parent)
