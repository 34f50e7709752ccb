"""Soak: many jobs through worker kills and a Redis restart, then the promises, counted.

Jobs of the test generator (tests/support/generators.py, wrapped to record every run) go to
two `celery worker` processes on a private redis-server (a free port, never a shared one),
with their own SQLite database and var folder. Every few seconds comes a SIGKILL: alternately
the pool process running a job (its worker forks a new one and requeues the message) and a
whole worker with its pool (started again; what it had taken stays parked in Redis). Once,
when a share of the jobs has ended, the Redis server is killed and started empty. When every
job has ended, it prints as JSON on its last line:

- final_states: jobs by state;
- duplicates: jobs that published more than one version (must be 0);
- most_deliveries: the most runs of one job: the larger of the runs the generator recorded
  and the job's attempts in the database (at most SYNTHREG_JOB_MAX_ATTEMPTS, 3);
- most_messages: the most task messages the workers received for one job;
- sha256_mismatches: published files that differ from their manifests (must be 0);
- stray_staging_files: files left in the jobs' staging folders (must be 0);
- unpublished_output_folders: output folders with no version (a job killed mid-publication);
- drain_seconds: from the first submission to the last job's end;
- kills, redis_restarts, resent_by_sweeps, put_back_by_sweeps: what happened on the way.

    python benchmarks/soak.py [--jobs 200] [--kill-every 3] [--sweep-seconds 5] [--seed 0] [--keep]

tests/platform/test_soak.py runs a short one through ``Soak`` and asserts the invariants.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import re
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # run as a script: `tests.support` and `benchmarks.soak` by name

from tests.support.generators import SLOW_SPEC  # noqa: E402
from tests.support.redis_server import RedisServer  # noqa: E402
from tests.support.workers import kill_group, launch_worker, stop_worker  # noqa: E402

# Django is configured by the caller (main() here, pytest-django in the test) before any
# function below imports it; the workers import this module for RECORDED_SPEC alone.
RUNS_LOG = "SYNTHREG_SOAK_RUNS"


def _recorded_run(params, out_dir: Path, progress, **inputs):
    """The test generator, first noting the run: its staging folder is named by the job."""
    with open(os.environ[RUNS_LOG], "a") as fh:
        fh.write(f"{out_dir.name}\n")
    return SLOW_SPEC.run(params, out_dir, progress)


RECORDED_SPEC = dataclasses.replace(
    SLOW_SPEC, slug="soak-recorded", title="Slow test generator that records its runs", run=_recorded_run, inputs=())


@dataclass
class Plan:
    jobs: int = 200
    workers: int = 2
    kill_every: float = 3.0  # mean seconds between SIGKILLs
    kills: int | None = None  # stop killing after this many (None: until drained)
    redis_restart_after: float = 0.3  # share of the jobs ended when Redis is restarted
    params: dict[str, Any] = field(default_factory=lambda: {"n": 10, "step_seconds": 0.05})
    timeout: float = 1800
    seed: int = 0


def _parent_pid(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rpartition(")")[2].split()[1])  # after "(comm)": state, then the parent's pid


class Soak:
    """Runs a plan against ``redis`` with workers started from ``worker_env``, in ``folder``."""

    def __init__(self, plan: Plan, redis: RedisServer, worker_env: dict[str, str], folder: Path, owner) -> None:
        self.plan, self.redis, self.folder, self.owner = plan, redis, folder, owner
        self.runs_log = folder / "runs.log"
        self.runs_log.touch()
        self.env = {**worker_env, "CELERY_BROKER_URL": redis.url, RUNS_LOG: str(self.runs_log),
                    "SYNTHREG_GENERATORS": "benchmarks.soak.RECORDED_SPEC"}
        self.rng = random.Random(plan.seed)
        self.launches = 0
        self.kills = Counter()
        self.redis_restarts = 0
        self.workers: list = []

    def run(self) -> dict[str, Any]:
        from django.test import override_settings

        from jobs import service
        from jobs.models import Job

        self.workers = [self._launch(index) for index in range(self.plan.workers)]
        started = time.monotonic()
        # All jobs are submitted at once: the soak lifts its own user's active-jobs quota.
        with override_settings(SYNTHREG_USER_ACTIVE_JOBS=self.plan.jobs):
            ids = [service.submit(self.owner, "generate", {
                "generator": RECORDED_SPEC.slug, "params": {**self.plan.params, "seed": i}}).pk
                for i in range(self.plan.jobs)]
        next_kill, timed_out = started + self._pause(), False
        while (ended := Job.objects.filter(pk__in=ids, state__in=Job.FINISHED_STATES).count()) < len(ids):
            if time.monotonic() - started > self.plan.timeout:
                timed_out = True
                break
            if not self.redis_restarts and ended >= self.plan.redis_restart_after * len(ids):
                self.redis.restart()
                self.redis_restarts += 1
            if time.monotonic() >= next_kill and self._may_kill() and self._kill(ids):
                next_kill = time.monotonic() + self._pause()
            time.sleep(0.2)
        drain_seconds = time.monotonic() - started
        for worker in self.workers:
            stop_worker(worker)
        return {**self._tally(ids), "drain_seconds": round(drain_seconds, 1), "timed_out": timed_out}

    def _pause(self) -> float:
        return self.plan.kill_every * self.rng.uniform(0.5, 1.5)

    def _may_kill(self) -> bool:
        return self.plan.kills is None or sum(self.kills.values()) < self.plan.kills

    def _launch(self, index: int):
        self.launches += 1
        log = self.folder / f"worker-{index}-{self.launches}.log"
        return launch_worker(self.env, log, f"soak{index}", concurrency=1, cwd=self.folder)

    def _kill(self, ids) -> bool:
        """Kill a job's pool process and a whole worker in turn; False if there was nothing to kill."""
        if sum(self.kills.values()) % 2 == 0:
            if not self._kill_a_holder(ids):
                return False
            self.kills["holder"] += 1
        else:
            index = self.rng.randrange(len(self.workers))
            kill_group(self.workers[index])
            self.workers[index] = self._launch(index)
            self.kills["worker"] += 1
        return True

    def _kill_a_holder(self, ids) -> bool:
        from jobs.models import Job

        ours = {worker.pid for worker in self.workers}
        holders = [int(pid) for host, _, pid in (
            w.rpartition(":") for w in Job.objects.filter(pk__in=ids, state=Job.State.RUNNING)
            .exclude(worker="").values_list("worker", flat=True))
            if host == socket.gethostname() and pid.isdigit()]
        holders = [pid for pid in holders if _parent_pid(pid) in ours]  # only our workers' pool processes
        if not holders:
            return False
        try:
            os.kill(self.rng.choice(holders), signal.SIGKILL)
        except ProcessLookupError:  # its job ended a moment ago
            return False
        return True

    def _tally(self, ids) -> dict[str, Any]:
        from django.conf import settings

        from catalog import storage
        from catalog.management.commands.verify import problems_of
        from catalog.models import DatasetVersion
        from jobs.models import Job

        jobs = Job.objects.filter(pk__in=ids).select_related("dataset")
        versions = DatasetVersion.objects.filter(job__in=ids)
        per_job = Counter(versions.values_list("job_id", flat=True))
        runs = Counter(self.runs_log.read_text().split())
        logs = "".join(path.read_text() for path in self.folder.glob("worker-*.log"))
        messages = Counter(re.findall(r"Task jobs\.run_job\[([0-9a-f-]+)\] received", logs))
        published = set(versions.values_list("storage_prefix", flat=True))
        root = Path(storage.dataset_storage().path(""))
        return {
            "jobs": len(ids),
            "final_states": dict(sorted(Counter(job.state for job in jobs).items())),
            "duplicates": sum(1 for count in per_job.values() if count > 1),
            "most_deliveries": max(max(runs[str(job.pk)], job.attempts) for job in jobs),
            "most_messages": max(messages.values(), default=0),
            "sha256_mismatches": sum(len(problems_of(version)) for version in versions),
            "stray_staging_files": sum(
                1 for job in jobs for path in (settings.SYNTHREG_STAGING_DIR / str(job.pk)).rglob("*") if path.is_file()),
            "unpublished_output_folders": sum(
                1 for job in jobs if f"{job.dataset.slug}/{job.pk}" not in published
                and (root / job.dataset.slug / str(job.pk)).exists()),
            "kills": dict(self.kills),
            "redis_restarts": self.redis_restarts,
            "resent_by_sweeps": sum(int(n) for n in re.findall(r"sweep: re-sent (\d+) job", logs)),
            "put_back_by_sweeps": sum(int(n) for n in re.findall(r"put back (\d+) taken", logs)),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--kill-every", type=float, default=3.0)
    parser.add_argument("--sweep-seconds", type=float, default=5.0, help="the workers' SYNTHREG_SWEEP_SECONDS")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", action="store_true", help="keep the run's folder (logs, database) and print it")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="synthreg-soak-"))
    redis = RedisServer(folder / "redis")
    redis.start()
    os.environ.pop("REDIS_URL", None)
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "synthreg.settings",
        "SYNTHREG_VAR_DIR": str(folder / "var"),
        "DATABASE_URL": f"sqlite:///{folder / 'soak.sqlite3'}",
        "CELERY_BROKER_URL": redis.url,
        "SYNTHREG_GENERATORS": "benchmarks.soak.RECORDED_SPEC",
        "SYNTHREG_SWEEP_SECONDS": str(args.sweep_seconds),
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    })
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    try:
        call_command("migrate", verbosity=0)
        owner = get_user_model().objects.create_user("soak")
        plan = Plan(jobs=args.jobs, workers=args.workers, kill_every=args.kill_every, seed=args.seed)
        result = Soak(plan, redis, dict(os.environ), folder, owner).run()
    finally:
        redis.kill()
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    result["sweep_seconds"] = args.sweep_seconds
    if args.keep:
        result["folder"] = str(folder)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
