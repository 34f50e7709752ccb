"""`manage.py requeue`: sweep now for jobs whose broker messages were lost, as workers do on their own."""

import time

from django.core.management.base import BaseCommand, CommandError

from jobs.sweep import Outcome, Sweeper


class Command(BaseCommand):
    help = ("Send again the jobs that wait in the database with no message on the broker (a restarted Redis, "
            "a worker killed whole), including running jobs whose worker is gone. Workers do this every "
            "SYNTHREG_SWEEP_SECONDS; this does it now. Safe at any time: a delivery of a job that is already "
            "taken does nothing.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--settle", type=float, default=2.0,
                            help="seconds between the two looks that must both miss a job's message (default 2)")
        parser.add_argument("--timeout", type=float, default=60.0,
                            help="give up after this many seconds if workers' sweeps keep the lock (default 60)")

    def handle(self, *args, settle: float, timeout: float, **options) -> None:
        sweeper = Sweeper()
        deadline = time.monotonic() + timeout
        _sweep(sweeper, deadline)  # the first look only names suspects
        time.sleep(settle)
        outcome = _sweep(sweeper, deadline)
        self.stdout.write(f"re-sent {outcome.sent} job(s); put back {outcome.restored} taken by a worker that is gone")


def _sweep(sweeper: Sweeper, deadline: float) -> Outcome:
    while not (outcome := sweeper.sweep()).swept:
        if time.monotonic() > deadline:
            raise CommandError("workers' sweeps held the sweep lock throughout; try again")
        time.sleep(0.5)
    return outcome
