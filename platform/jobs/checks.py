"""System checks for the job machinery (ids jobs.E001..)."""

from django.conf import settings
from django.core import checks


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
