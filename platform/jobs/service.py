"""Submitting, cancelling and re-sending jobs: the one path the API, portal and CLI share."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from access import ledger
from generators.params import ParameterError, validate_params
from jobs import limits
from jobs.models import Job
from jobs.runner import job_ended
from jobs.tasks import run_job
from jobs.types import JobParameterError, get_job_type
from synthreg.celery import app

State = Job.State


def submit(user, job_type: str, parameters: Any) -> Job:
    """Validate, check against the limits, save and enqueue a job.

    Nothing is saved when validation fails or a limit refuses the job (jobs/limits.py).
    """
    declared = get_job_type(job_type)
    try:
        checked = validate_params(declared.schema, parameters)
    except ParameterError as exc:
        field = exc.field if exc.field == "parameters" else f"parameters.{exc.field}"
        raise JobParameterError(field, exc.message) from None
    prepared = declared.prepare(user, checked)
    estimate = limits.check_caps(declared, prepared.parameters)
    with transaction.atomic():
        if prepared.dataset is not None and prepared.dataset.pk is None:
            _create_dataset(prepared.dataset)
        job = Job.objects.create(
            type=declared.name, owner=user, parameters=prepared.parameters,
            queue=prepared.queue, dataset=prepared.dataset,
        )
        # After the insert: a user's submissions then lock in the order publishing does (dataset, user).
        limits.check_quotas(user, job, estimate)
        job.inputs.set(prepared.inputs)
        for dataset in {version.dataset for version in prepared.inputs if version.dataset.access == "restricted"}:
            try:
                ledger.reserve(job, dataset, prepared.epsilon)
            except ledger.BudgetExceeded as exc:
                raise JobParameterError("parameters.epsilon", str(exc)) from None
        enqueue(job)
    return job


def _create_dataset(dataset) -> None:
    try:
        with transaction.atomic():
            dataset.save()
    except IntegrityError:  # another request created the same slug since prepare() looked
        raise JobParameterError("parameters.dataset", f"{dataset.slug!r} was created by another request just now; "
                                "submit again to add a version to it, or choose another slug") from None


def enqueue(job: Job) -> None:
    """Send the job's message once the surrounding transaction commits (never if it rolls back)."""
    transaction.on_commit(lambda: _send(job.pk, job.queue))


def _send(job_id, queue: str) -> None:
    result = run_job.apply_async(args=[str(job_id)], queue=queue, task_id=str(job_id))
    Job.objects.filter(pk=job_id).update(celery_task_id=result.id)


def cancel(job: Job) -> bool:
    """Cancel a queued or running job. A running one stops at its next progress report."""
    never_ran = Job.objects.filter(pk=job.pk, state=State.QUEUED).update(
        state=State.CANCELLED, finished_at=timezone.now(), error="cancelled by the user",
    )
    if never_ran:
        ledger.refund(job)
    updated = never_ran or Job.objects.filter(pk=job.pk, state=State.RUNNING).update(
        state=State.CANCELLED, finished_at=timezone.now(), error="cancelled by the user",
    )
    if updated:
        app.control.revoke(str(job.pk))
        job_ended(job)
    job.refresh_from_db()
    return bool(updated)


def resend(job_id, queue: str) -> None:
    """Send a waiting job's message again, for the sweep (jobs.sweep) that found none on the broker.

    Harmless if one existed after all: a delivery that finds its job taken or ended does nothing.
    """
    _send(job_id, queue)
