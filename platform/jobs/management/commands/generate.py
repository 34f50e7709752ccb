"""`manage.py generate SLUG --params JSON`: the `submit generate` shortcut."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from jobs.management.commands.submit import follow, submit_as


class Command(BaseCommand):
    help = "Run a registered generator as a job and follow it (e.g. `generate digits --params '{\"n\": 5000}'`)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("generator")
        parser.add_argument("--params", default="{}", help="the generator's parameters as JSON")
        parser.add_argument("--dataset", help="slug of the synthetic dataset to add a version to")
        parser.add_argument("--user", default=None)
        parser.add_argument("--no-follow", action="store_true")

    def handle(self, *args, **options) -> None:
        try:
            params = json.loads(options["params"])
        except json.JSONDecodeError as exc:
            raise CommandError(f"--params: not valid JSON ({exc.msg} at column {exc.colno})") from None
        body = {"generator": options["generator"], "params": params}
        if options["dataset"]:
            body["dataset"] = options["dataset"]
        job = submit_as(options["user"], "generate", body)
        self.stdout.write(f"job {job.pk} queued on '{job.queue}'")
        if not options["no_follow"]:
            follow(job, self.stdout, self.stderr)
