"""Celery tasks: thin adapters from a message to jobs.runner."""

from celery import shared_task
from celery.signals import worker_ready

from jobs import runner
from jobs.evaluate import queue_stale_evaluations


@shared_task(name="jobs.run_job", acks_late=True, reject_on_worker_lost=True)
def run_job(job_id: str) -> None:
    runner.execute(job_id)


@worker_ready.connect
def _queue_stale_evaluations(**kwargs) -> None:
    # New evaluation code re-evaluates what older code reported on. (Jobs whose messages the
    # broker lost are re-sent by the sweep every worker runs: jobs.sweep.)
    queue_stale_evaluations()
