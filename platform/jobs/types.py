"""Every job type, declared once: name, parameter schema, queue and the function that runs it.

The API, the portal's forms, the command line and the worker all read :data:`JOB_TYPES`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from generators.spec import Estimate

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from catalog.models import Dataset, DatasetVersion
    from jobs.runner import JobRun


class JobParameterError(ValueError):
    """Invalid job parameters; ``field`` is the dotted name of the offending parameter."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class JobLimitExceeded(JobParameterError):
    """The job is larger than one job may be (HTTP 400, like any parameter error); the message names the cap."""


class QuotaExceeded(JobParameterError):
    """The user's quota has no room for the job: ``quota`` names the setting, ``used`` and ``limit``
    say where it stands, ``status`` is the HTTP status (429: wait for jobs to finish; 403: storage full)."""

    def __init__(self, quota: str, message: str, used: int, limit: int, status: int) -> None:
        super().__init__("quota", message)
        self.quota, self.used, self.limit, self.status = quota, used, limit, status


class JobTargetNotFound(LookupError):
    """A named generator, dataset or version does not exist (or is not visible): HTTP 404."""


@dataclass
class PreparedJob:
    """A validated request, ready to be saved as a Job row."""

    parameters: dict[str, Any]
    queue: str
    dataset: Dataset | None = None
    inputs: list[DatasetVersion] = field(default_factory=list)
    # Differential-privacy epsilon the job spends on each restricted input (0: it only reads).
    epsilon: float = 0.0


@dataclass(frozen=True)
class Sizing:
    """A job's estimate, and what a refusal names: the parameter to change, and how."""

    estimate: Estimate
    field: str
    remedy: str


@dataclass(frozen=True)
class JobType:
    name: str
    title: str
    description: str
    # JSON Schema of the job's parameters (the outer object; nested generator
    # parameters are checked against the generator's own schema by ``prepare``).
    schema: dict[str, Any]
    # Validate and resolve a request for ``user``; raises JobParameterError / JobTargetNotFound.
    prepare: Callable[[AbstractBaseUser, dict[str, Any]], PreparedJob]
    # Runs inside the worker; publishes outputs through ``run.complete``.
    run: Callable[[JobRun], None]
    # What the job will write and cost, from its prepared parameters (those saved on the Job row).
    estimate: Callable[[dict[str, Any]], Sizing]


@cache
def job_types() -> dict[str, JobType]:
    """Every declared job type by name."""
    # Inside jobs, a real cycle: each type's module imports this one for JobType.
    from jobs.evaluate import EVALUATE
    from jobs.generate import GENERATE
    from jobs.shards import GENERATE_SHARD

    return {job_type.name: job_type for job_type in (GENERATE, GENERATE_SHARD, EVALUATE)}


def get_job_type(name: str) -> JobType:
    try:
        return job_types()[name]
    except KeyError:
        known = ", ".join(sorted(job_types()))
        raise JobParameterError("type", f"unknown job type {name!r}; known types: {known}") from None
