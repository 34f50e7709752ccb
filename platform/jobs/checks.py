"""System checks for the job machinery and every declared job type (ids jobs.E001.., stable)."""

from collections.abc import Iterable

from django.conf import settings
from django.core import checks
from jsonschema import Draft202012Validator, SchemaError

from catalog.models import VersionParent
from contracts import formats
from jobs.types import JOB_TYPES, QUEUES, JobType


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


def known_formats() -> set[str]:
    """The declared data formats' names, which job types' inputs and outputs must use."""
    return {declared.name for declared in formats.FORMATS.all()}


def job_type_errors(declared: Iterable[JobType]) -> list[checks.CheckMessage]:
    """Each job type's faults (ids jobs.E010..E017), so a broken declaration stops start-up."""
    errors = []
    relations, names = set(VersionParent.Relation.values), known_formats()

    def error(job_type: JobType, message: str, hint: str, check_id: str) -> None:
        errors.append(checks.Error(f"job type {job_type.name!r}: {message}", hint=hint, obj=job_type.name,
                                   id=check_id))

    for job_type in declared:
        schema = job_type.schema
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as exc:
            error(job_type, f"its parameter schema is no valid JSON Schema (draft 2020-12): {exc.message}",
                  "Fix the schema; jsonschema.Draft202012Validator.check_schema(schema) names the fault.", "jobs.E010")
            continue
        if schema.get("type") != "object":
            error(job_type, "its parameter schema is not an object schema",
                  'Parameters are one JSON object: give the schema "type": "object" and its "properties".', "jobs.E011")
            continue
        properties = schema.get("properties", {})
        if missing := [name for name in schema.get("required", []) if name not in properties]:
            error(job_type, f"it requires parameters it does not declare: {', '.join(missing)}",
                  "Declare each required parameter under properties (the portal's form draws its fields from them).",
                  "jobs.E012")
        for name, prop in properties.items():
            if "default" in prop and not Draft202012Validator(prop).is_valid(prop["default"]):
                error(job_type, f"the default of parameter {name!r} ({prop['default']!r}) fails its own schema",
                      "Give every parameter a default its schema accepts (forms fill it in).", "jobs.E013")
        if job_type.queue not in QUEUES:
            error(job_type, f"its queue {job_type.queue!r} is no queue the workers take",
                  f"Use one of: {', '.join(QUEUES)}.", "jobs.E014")
        for declared_input in job_type.inputs:
            if declared_input.relation is not None and declared_input.relation not in relations:
                error(job_type, f"input {declared_input.name!r} records an unknown lineage relation "
                                f"{declared_input.relation!r}",
                      f"Use one of: {', '.join(sorted(relations))} (catalog.models.VersionParent.Relation).", "jobs.E015")
            if declared_input.name not in properties:
                error(job_type, f"input {declared_input.name!r} is no parameter of its schema",
                      "Declare the input's parameter (a dataset slug or a version id) under properties.", "jobs.E016")
        named = [(f"output {o.kind}", o.format) for o in job_type.outputs] + [
            (f"input {i.name!r}", f) for i in job_type.inputs for f in i.formats]
        for where, format_name in named:
            if format_name is not None and format_name not in names:
                error(job_type, f"{where} names an unknown format {format_name!r}",
                      f"Use a declared format: {', '.join(sorted(names))}.", "jobs.E017")
    return errors


@checks.register()
def check_job_types(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """Every declared job type is one the API, the portal and the worker can use."""
    return job_type_errors(JOB_TYPES.all())
