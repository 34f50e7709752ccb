"""Running one delivery of a job: claim it, run its type's function, publish, or fail cleanly.

Delivery is at least once; effects are exactly once. A delivery claims the job with one
conditional update and does nothing when the claim fails. A job whose holder died (its
process is gone, or it went silent past the lease) can be claimed again, up to
``SYNTHREG_JOB_MAX_ATTEMPTS`` times; after that it ends failed with the reason.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import traceback
from datetime import timedelta

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from catalog.models import Dataset
from jobs.checkpoints import Checkpoint
from jobs.lifecycle import clean_staging, job_ended, staging_dir
from jobs.models import Job
from jobs.types import get_job_type

log = logging.getLogger(__name__)
State = Job.State


class JobAborted(Exception):
    """This process no longer holds the job (cancelled, or taken over after a lease expiry)."""


class JobReleased(Exception):
    """The job waits on other work (its shards) and was handed back, still running."""


def this_worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def holder_is_gone(job: Job) -> bool:
    host, _, pid = job.worker.rpartition(":")
    if host == socket.gethostname() and pid.isdigit():
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False
    lease = timedelta(seconds=settings.SYNTHREG_JOB_LEASE_SECONDS)
    last_seen = job.heartbeat_at or job.started_at
    return last_seen is None or timezone.now() - last_seen > lease


def claim(job_id: str, worker: str) -> Job | None:
    """Take the job for ``worker``, or return None if this delivery must do nothing."""
    job = Job.objects.filter(pk=job_id).first()
    if job is None:
        log.warning("job %s does not exist; dropping its message", job_id)
        return None
    now = timezone.now()
    if job.state == State.QUEUED:
        taken = Job.objects.filter(pk=job.pk, state=State.QUEUED).update(
            state=State.RUNNING, attempts=F("attempts") + 1, worker=worker,
            started_at=now, heartbeat_at=now,
        )
    elif job.state == State.RUNNING and job.worker == "":
        # Released while its shards ran; a new delivery takes it up again (not a new attempt).
        taken = Job.objects.filter(pk=job.pk, state=State.RUNNING, worker="").update(worker=worker, heartbeat_at=now)
    elif job.state == State.RUNNING and holder_is_gone(job):
        held = Job.objects.filter(pk=job.pk, state=State.RUNNING, worker=job.worker, attempts=job.attempts)
        if job.attempts >= settings.SYNTHREG_JOB_MAX_ATTEMPTS:
            # Its holder is gone and no delivery may take it again: tidy before it reads as ended.
            clean_staging(job)
            if held.update(
                state=State.FAILED, finished_at=now,
                error=f"The worker running this job died {job.attempts} times (killed, out of memory "
                "or crashed) before it finished; giving up. Try fewer samples or a smaller batch.",
            ):
                job_ended(job)
            return None
        log.warning("job %s: holder %s is gone; retrying (attempt %d)", job.pk, job.worker, job.attempts + 1)
        taken = held.update(
            state=State.RUNNING, attempts=F("attempts") + 1, worker=worker, heartbeat_at=now,
        )
    else:
        return None
    return Job.objects.get(pk=job.pk) if taken else None


class JobRun:
    """What a job type's ``run`` function gets: the row, a staging folder, progress, completion."""

    PROGRESS_INTERVAL = 0.5  # seconds between progress writes
    LOG_TAIL = 50  # progress messages kept on the row (Job.progress_log)

    def __init__(self, job: Job, worker: str) -> None:
        self.job = job
        self.worker = worker
        self.staging = staging_dir(job)
        # Survives this delivery if the worker dies; gone once the job ends (execute, job_ended).
        self.checkpoint = Checkpoint(job)
        self._last_write = 0.0
        # A retried delivery continues the tail its earlier tries wrote.
        self._log: list[dict] = list(job.progress_log or [])

    def _note(self, fraction: float, message: str) -> list[dict]:
        """Append a changed message to the tail (kept even when the write is throttled); return it."""
        message = message[:200]
        if message and (not self._log or self._log[-1]["message"] != message):
            self._log.append({"at": timezone.now().isoformat(timespec="seconds"),
                              "progress": round(min(max(float(fraction), 0.0), 1.0), 4), "message": message})
            del self._log[:-self.LOG_TAIL]
        return self._log

    def _held(self):
        return Job.objects.filter(pk=self.job.pk, state=State.RUNNING, worker=self.worker)

    def progress(self, fraction: float, message: str = "") -> None:
        """Record progress (throttled); raises JobAborted once the job is no longer ours."""
        log_tail = self._note(fraction, message)
        now = time.monotonic()
        if fraction < 1.0 and now - self._last_write < self.PROGRESS_INTERVAL:
            return
        self._last_write = now
        updated = self._held().update(
            progress=min(max(float(fraction), 0.0), 1.0), progress_message=message[:200],
            progress_log=log_tail, heartbeat_at=timezone.now(),
        )
        if not updated:
            raise JobAborted(str(self.job.pk))

    def lock(self) -> None:
        """Write-lock this job's row for the rest of the transaction (first statement: SQLite too)."""
        if not self._held().update(heartbeat_at=timezone.now()):
            raise JobAborted(str(self.job.pk))

    def release(self, message: str) -> JobReleased:
        """Hand the job back, still running, until its shards wake it; raise what it returns."""
        if not self._held().update(worker="", progress_message=message[:200],
                                   progress_log=self._note(self.job.progress, message), heartbeat_at=timezone.now()):
            raise JobAborted(str(self.job.pk))
        return JobReleased(message)

    def complete(self, result: dict | None = None) -> None:
        """Mark the job succeeded; call inside the transaction that records its outputs."""
        updated = self._held().update(
            state=State.SUCCEEDED, progress=1.0, progress_message="done", finished_at=timezone.now(),
            progress_log=self._note(1.0, "done"), result=result or {},
        )
        if not updated:
            raise JobAborted(str(self.job.pk))


def execute(job_id: str) -> None:
    """Run one delivery of job ``job_id`` (the body of the Celery task)."""
    worker = this_worker()
    job = claim(job_id, worker)
    if job is None:
        return
    run = JobRun(job, worker)
    clean_staging(job)  # an earlier try's leftovers
    run.staging.mkdir(parents=True)
    try:
        get_job_type(job.type).run(run)
    except JobReleased as released:
        log.info("job %s released: %s", job.pk, released)
    except JobAborted:
        log.info("job %s was cancelled or taken over; stopping", job.pk)
    except Exception as exc:  # the job failed; the delivery did its work
        error = _report_failure(job, exc)
        if Job.objects.filter(pk=job.pk, state=State.RUNNING, worker=worker).update(
            state=State.FAILED, finished_at=timezone.now(), error=error,
        ):
            job_ended(job)
    finally:
        clean_staging(job)
        if not Job.objects.filter(pk=job.pk, state=State.RUNNING).exists():
            run.checkpoint.clear()


def _report_failure(job: Job, exc: Exception) -> str:
    """Log the failure and return the job's error text.

    An arbitrary exception's message can quote the data it choked on; for a job that reads
    restricted data that would be a real record, so only messages of exceptions that declare
    ``discloses_no_values`` are kept, in the log and in the error alike.
    """
    last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    where = f" (at {last[0].filename.rsplit('/', 1)[-1]}:{last[0].lineno})" if last else ""
    if getattr(exc, "discloses_no_values", False) or not job.inputs.filter(
            dataset__access=Dataset.Access.RESTRICTED).exists():
        log.exception("job %s failed", job.pk)
        return f"{type(exc).__name__}: {exc}{where}"
    frames = "\n".join(f"  {f.filename}:{f.lineno} in {f.name}" for f in traceback.extract_tb(exc.__traceback__))
    log.error("job %s failed with %s%s (message withheld: the job reads restricted data)\n%s",
              job.pk, type(exc).__name__, where, frames)
    return (f"{type(exc).__name__}{where}; its message is withheld because this job reads restricted data. "
            "An administrator can find where it failed in the worker log.")
