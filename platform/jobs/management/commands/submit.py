"""`manage.py submit TYPE PARAMETERS_JSON`: submit a job and follow it with a progress bar."""

from __future__ import annotations

import json
import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from jobs import service
from jobs.models import Job
from jobs.types import JobParameterError, JobTargetNotFound, submittable


class Command(BaseCommand):
    help = "Submit a job (e.g. generate) and follow it until it ends."

    def add_arguments(self, parser) -> None:
        parser.add_argument("type", help=f"job type: {', '.join(t.name for t in submittable())}")
        parser.add_argument("parameters", nargs="?", default="{}", help="job parameters as JSON")
        parser.add_argument("--user", default=None, help="submit as this user (default: the first superuser)")
        parser.add_argument("--preset", default=None,
                            help="start from this preset of the generator (job types with a `preset` parameter)")
        parser.add_argument("--no-follow", action="store_true", help="return once the job is queued")

    def handle(self, *args, **options) -> None:
        try:
            parameters = json.loads(options["parameters"])
        except json.JSONDecodeError as exc:
            raise CommandError(f"parameters: not valid JSON ({exc.msg} at column {exc.colno})") from None
        if options["preset"] is not None:
            parameters = with_preset(options["type"], parameters, options["preset"])
        job = submit_as(options["user"], options["type"], parameters)
        self.stdout.write(f"job {job.pk} queued on '{job.queue}'")
        if not options["no_follow"]:
            follow(job, self.stdout, self.stderr)


def with_preset(job_type: str, parameters, preset: str) -> dict:
    """The parameters with ``preset`` set, for a job type whose declared schema takes one."""
    declared = next((t for t in submittable() if t.name == job_type), None)
    if declared is None or "preset" not in declared.schema.get("properties", {}):
        takers = [t.name for t in submittable() if "preset" in t.schema.get("properties", {})]
        raise CommandError(f"--preset: job type {job_type!r} takes no preset (these do: {', '.join(takers)})")
    if not isinstance(parameters, dict):
        raise CommandError("parameters: must be a JSON object")
    return {**parameters, "preset": preset}


def submit_as(username: str | None, job_type: str, parameters) -> Job:
    User = get_user_model()
    user = (User.objects.filter(username=username).first() if username
            else User.objects.filter(is_superuser=True, is_active=True).order_by("pk").first())
    if user is None:
        raise CommandError(f"no user {username!r}" if username else "no superuser: pass --user or run `manage.py createsuperuser`")
    try:
        return service.submit(user, job_type, parameters)
    except (JobParameterError, JobTargetNotFound) as exc:
        raise CommandError(str(exc)) from None


def follow(job: Job, stdout, stderr, poll: float = 0.5) -> None:
    """Poll the job row and draw its progress until it ends; exit non-zero unless it succeeded."""
    with tqdm(total=100, unit="%", desc=job.type, file=stderr, bar_format="{l_bar}{bar}| {postfix}") as bar:
        while True:
            job.refresh_from_db()
            bar.n = round(job.progress * 100)
            bar.set_postfix_str(f"{job.state}: {job.progress_message}"[:60])
            if job.finished:
                break
            time.sleep(poll)
    if job.state != Job.State.SUCCEEDED:
        raise CommandError(f"job {job.pk} {job.state}: {job.error}")
    version = getattr(job, "output_version", None)
    stdout.write(f"job {job.pk} succeeded" + (f": {version} is ready" if version else ""))
