"""Celery tasks: thin adapters from a message to jobs.runner."""

from celery import shared_task
from celery.signals import worker_ready

from jobs import runner, service
from jobs.evaluate import queue_stale_evaluations


@shared_task(name="jobs.run_job", acks_late=True, reject_on_worker_lost=True)
def run_job(job_id: str) -> None:
    runner.execute(job_id)


@worker_ready.connect
def _requeue_orphans(**kwargs) -> None:
    # The database is the durable queue: a broker that lost messages (a restarted Redis
    # keeps nothing) is refilled from it whenever a worker starts.
    service.requeue_orphans()
    # New evaluation code re-evaluates what older code reported on.
    queue_stale_evaluations()
