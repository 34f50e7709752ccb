"""`manage.py reevaluate`: queue evaluations for versions whose report is missing or outdated."""

from django.core.management.base import BaseCommand

from jobs.evaluate import queue_stale_evaluations


class Command(BaseCommand):
    help = "Evaluate every ready synthetic version whose newest report predates the evaluation code."

    def handle(self, *args, **options) -> None:
        versions = queue_stale_evaluations()
        self.stdout.write(f"queued {len(versions)} evaluation(s)" + "".join(f"\n  {v}" for v in versions))
