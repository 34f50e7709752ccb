"""Sending a job's message to its queue, once the transaction that saved the job commits."""

from __future__ import annotations

from django.db import transaction

from jobs.models import Job
from synthreg.celery import app

# jobs.tasks.run_job, sent by name: queueing a job needs no import of the tasks (nor what they run).
RUN_JOB = "jobs.run_job"


def enqueue(job: Job) -> None:
    """Send the job's message once the surrounding transaction commits (never if it rolls back)."""
    transaction.on_commit(lambda: send(job.pk, job.queue))


def send(job_id, queue: str) -> None:
    result = app.send_task(RUN_JOB, args=[str(job_id)], queue=queue, task_id=str(job_id))
    Job.objects.filter(pk=job_id).update(celery_task_id=result.id)
