"""Submitting, cancelling and re-sending jobs: the one path the API, portal and CLI share."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from access import ledger
from catalog.models import Dataset
from generators.params import ParameterError, validate_params
from jobs import limits
from jobs.lifecycle import job_ended
from jobs.models import Job
from jobs.queueing import enqueue, send
from jobs.resolve import resolve_inputs
from jobs.types import JobParameterError, JobType, PreparedJob, get_job_type
from synthreg.celery import app

State = Job.State


def submit(user, job_type: str, parameters: Any) -> Job:
    """Validate, resolve the declared inputs, check against the limits, save and enqueue a job.

    Nothing is saved when validation fails, an input may not be used, or a limit refuses the job
    (jobs/limits.py).
    """
    declared = get_job_type(job_type)
    try:
        checked = validate_params(declared.schema, parameters)
    except ParameterError as exc:
        field = exc.field if exc.field == "parameters" else f"parameters.{exc.field}"
        raise JobParameterError(field, exc.message) from None
    prepared = declared.prepare(user, checked, resolve_inputs(user, declared, checked))
    # The saved parameters name every version read, under its input's key (lineage reads them).
    parameters = {**prepared.parameters, **{declared.input(name).key: version.pk
                                            for name, version in prepared.inputs.items()}}
    estimate = limits.check_caps(declared, parameters)
    with transaction.atomic():
        if prepared.dataset is not None and prepared.dataset.pk is None:
            _create_dataset(prepared.dataset)
        job = Job.objects.create(
            type=declared.name, owner=user, parameters=parameters,
            queue=prepared.queue or declared.queue, dataset=prepared.dataset,
        )
        # After the insert: a user's submissions then lock in the order publishing does (dataset, user).
        limits.check_quotas(user, job, estimate)
        job.inputs.set(prepared.inputs.values())
        _reserve_budget(job, declared, prepared)
        enqueue(job)
    return job


def _reserve_budget(job: Job, declared: JobType, prepared: PreparedJob) -> None:
    """Record on each restricted dataset's ledger the epsilon its declared inputs spend."""
    spends: dict[Dataset, list] = defaultdict(list)
    for name, version in prepared.inputs.items():
        if version.dataset.access == Dataset.Access.RESTRICTED:
            spends[version.dataset].append(declared.input(name))
    for dataset, inputs in spends.items():
        try:
            ledger.reserve(job, dataset, sum(i.epsilon_for(job.parameters) for i in inputs))
        except ledger.BudgetExceeded as exc:
            spender = next((i for i in inputs if isinstance(i.epsilon, str)), inputs[0])
            field = spender.epsilon if isinstance(spender.epsilon, str) else spender.name
            raise JobParameterError(f"parameters.{field}", str(exc)) from None


def _create_dataset(dataset) -> None:
    try:
        with transaction.atomic():
            dataset.save()
    except IntegrityError:  # another request created the same slug since prepare() looked
        raise JobParameterError("parameters.dataset", f"{dataset.slug!r} was created by another request just now; "
                                "submit again to add a version to it, or choose another slug") from None


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
    send(job_id, queue)
