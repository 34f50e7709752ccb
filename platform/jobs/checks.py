"""System checks for the job machinery (ids jobs.E001..)."""

from collections.abc import Iterable

from django.conf import settings
from django.core import checks
from jsonschema import Draft202012Validator, SchemaError

from jobs.types import JobType, job_types


@checks.register(checks.Tags.compatibility)
def check_timeouts(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """The broker must not redeliver a job that is still legitimately running."""
    errors = []
    longest_job = settings.SYNTHREG_JOB_MAX_SECONDS
    time_limit = settings.CELERY_TASK_TIME_LIMIT
    if time_limit <= longest_job:
        errors.append(checks.Error(
            f"CELERY_TASK_TIME_LIMIT ({time_limit}s) must exceed SYNTHREG_JOB_MAX_SECONDS ({longest_job}s).",
            hint="Raise CELERY_TASK_TIME_LIMIT or lower SYNTHREG_JOB_MAX_SECONDS.",
            id="jobs.E001",
        ))
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout")
    if visibility is not None and visibility <= time_limit:
        errors.append(checks.Error(
            f"The broker's visibility timeout ({visibility}s) must exceed CELERY_TASK_TIME_LIMIT "
            f"({time_limit}s), or running jobs are delivered again while they run.",
            hint="Raise CELERY_VISIBILITY_TIMEOUT.",
            id="jobs.E002",
        ))
    return errors


def job_type_errors(declared: Iterable[JobType]) -> list[checks.CheckMessage]:
    errors = []
    for job_type in declared:
        try:
            Draft202012Validator.check_schema(job_type.schema)
        except SchemaError as exc:
            errors.append(checks.Error(
                f"job type {job_type.name!r}: its parameter schema is no valid JSON Schema (draft 2020-12): "
                f"{exc.message}",
                hint="Fix the schema; jsonschema.Draft202012Validator.check_schema(schema) names the fault.",
                obj=job_type.name, id="jobs.E010",
            ))
    return errors


@checks.register()
def check_job_types(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """Every declared job type's schema is one the API can validate requests against."""
    return job_type_errors(job_types().values())
