"""`manage.py requeue`: re-send waiting jobs after the broker lost its messages."""

from django.core.management.base import BaseCommand

from jobs.service import requeue_orphans


class Command(BaseCommand):
    help = ("Re-send every queued job, and every running job whose worker is gone. Safe at any time: "
            "a delivery of a job that is already taken does nothing. Workers do this when they start.")

    def handle(self, *args, **options) -> None:
        self.stdout.write(f"re-sent {requeue_orphans()} job(s)")
