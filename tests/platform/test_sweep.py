"""The sweep, in process against a real broker: lost messages are replaced once, live ones never.

These tests run inside a transaction whose on-commit hooks never fire, so a submitted job
sends no message: exactly a job whose message the broker lost.
"""

import io
import json
import os
import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
import redis
from django.core.management import call_command
from django.utils import timezone

from catalog import storage
from catalog.models import DatasetVersion
from jobs import runner, service
from jobs.checkpoints import Checkpoint, checkpoint_dir
from jobs.models import Job
from jobs.outputs import report_prefix
from jobs.sweep import Sweeper, jobs_needing_delivery

pytestmark = pytest.mark.django_db


def submit(user, **fields) -> Job:
    """A job whose message never reached the broker, submitted long enough ago to be swept."""
    job = service.submit(user, "generate", {"generator": "test-slow", "params": {"n": 2, "step_seconds": 0}})
    Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(hours=1), **fields)
    return Job.objects.get(pk=job.pk)


def waiting_ids(client) -> list[str]:
    return [json.loads(raw)["headers"]["id"] for raw in client.lrange("cpu", 0, -1)]


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_job_with_no_message_is_sent_once_on_the_second_look(redis_broker, user):
    client = redis.Redis.from_url(redis_broker.url)
    job = submit(user)
    sweeper = Sweeper()
    first = sweeper.sweep()
    assert (first.swept, first.suspects, first.sent) == (True, 1, 0)  # a first look only suspects
    assert waiting_ids(client) == []
    assert sweeper.sweep().sent == 1
    assert waiting_ids(client) == [str(job.pk)]
    for _ in range(2):  # from now on its message waits: nothing more is sent
        assert sweeper.sweep().suspects == 0
    assert waiting_ids(client) == [str(job.pk)]


def test_a_job_whose_message_waits_and_a_job_just_created_are_left_alone(redis_broker, user):
    client = redis.Redis.from_url(redis_broker.url)
    waiting = submit(user)
    service.resend(waiting.pk, waiting.queue)
    fresh = service.submit(user, "generate", {"generator": "test-slow", "params": {"n": 2}})  # in its grace period
    sweeper = Sweeper()
    outcomes = [sweeper.sweep() for _ in range(3)]
    assert [o.suspects for o in outcomes] == [0, 0, 0] and sum(o.sent for o in outcomes) == 0
    assert waiting_ids(client) == [str(waiting.pk)]
    assert str(fresh.pk) not in jobs_needing_delivery()


def test_a_message_taken_by_a_worker_that_died_is_put_back_not_duplicated(redis_broker, user):
    client = redis.Redis.from_url(redis_broker.url)
    job = submit(user)
    service.resend(job.pk, job.queue)
    # A consumer takes the message (kombu parks it in `unacked`) and dies before acting on it.
    subprocess.run([sys.executable, "-c", (
        "import os, signal, kombu; c = kombu.Connection(os.environ['URL']).default_channel; "
        "assert c.basic_get('cpu', no_ack=False) is not None; os.kill(os.getpid(), signal.SIGKILL)")],
        env={**os.environ, "URL": redis_broker.url}, check=False)
    assert client.llen("cpu") == 0 and client.hlen("unacked") == 1

    sweeper = Sweeper()
    assert sweeper.sweep().suspects == 1
    second = sweeper.sweep()
    assert (second.restored, second.sent) == (1, 0)
    assert waiting_ids(client) == [str(job.pk)] and client.hlen("unacked") == 0
    assert sweeper.sweep().suspects == 0


def test_a_running_job_is_sent_again_only_when_its_holder_is_gone(redis_broker, user):
    client = redis.Redis.from_url(redis_broker.url)
    here = socket.gethostname()
    orphan = submit(user)
    runner.claim(str(orphan.pk), f"{here}:{dead_pid()}")
    alive = submit(user)
    runner.claim(str(alive.pk), f"{here}:{os.getpid()}")
    sweeper = Sweeper()
    sweeper.sweep()
    assert sweeper.sweep().sent == 1
    assert waiting_ids(client) == [str(orphan.pk)]


def test_a_released_parent_is_due_only_once_its_shards_have_ended(user):
    parent = submit(user, state=Job.State.RUNNING, worker="", attempts=1)
    shard = Job.objects.create(type="generate-shard", owner=user, parent=parent, queue="cpu")
    Job.objects.filter(pk=shard.pk).update(created_at=timezone.now())  # just created: not yet due itself
    assert str(parent.pk) not in jobs_needing_delivery()
    Job.objects.filter(pk=shard.pk).update(state=Job.State.SUCCEEDED)
    assert str(parent.pk) in jobs_needing_delivery()


def test_a_sweep_does_nothing_while_another_holds_the_lock(redis_broker, user):
    from jobs.sweep import broker_queues
    from synthreg.celery import app

    submit(user)
    sweeper = Sweeper()
    with app.connection_for_write() as connection, broker_queues(connection).exclusive() as mine:
        assert mine
        assert [sweeper.sweep().swept for _ in range(2)] == [False, False]
    assert sweeper.sweep().swept


def test_the_filesystem_broker_gets_a_lost_message_once(filesystem_broker, user, tmp_path):
    job = submit(user)
    queue = tmp_path / "broker" / "queue"
    sweeper = Sweeper()
    outcomes = [sweeper.sweep() for _ in range(3)]
    assert [o.sent for o in outcomes] == [0, 1, 0]
    files = list(queue.glob("*.cpu.msg"))
    assert len(files) == 1 and json.loads(files[0].read_bytes())["headers"]["id"] == str(job.pk)


def test_manage_py_requeue_sends_what_was_lost(redis_broker, user):
    client = redis.Redis.from_url(redis_broker.url)
    job = submit(user)
    out = io.StringIO()
    call_command("requeue", settle=0, stdout=out)
    assert out.getvalue().startswith("re-sent 1 job(s)")
    assert waiting_ids(client) == [str(job.pk)]



def test_a_sweep_removes_what_killed_workers_left_for_ended_jobs_only(redis_broker, user, tmp_path):
    """A checkpoint of a job whose worker died just after it turned succeeded, and the report a worker
    stored before it was killed short of publishing (its job then failed), go; what a running job, a job
    ended moments ago (its worker may not have noticed) or a recorded version still uses stays."""
    hour_ago = timezone.now() - timedelta(hours=1)
    succeeded = submit(user, state=Job.State.SUCCEEDED, finished_at=hour_ago)
    failed = submit(user, state=Job.State.FAILED, finished_at=hour_ago)
    running = submit(user, state=Job.State.RUNNING, worker=f"{socket.gethostname()}:{os.getpid()}")
    just_cancelled = submit(user, state=Job.State.CANCELLED, finished_at=timezone.now())
    jobs = (succeeded, failed, running, just_cancelled)
    for job in jobs:
        Checkpoint(job).save({"weights": np.zeros(3)}, {"epoch": 1})
        report = tmp_path / str(job.pk)
        report.mkdir()
        (report / "report.json").write_text("{}")
        storage.publish_report(report, report_prefix(job))
    DatasetVersion.objects.create(dataset=succeeded.dataset, number=1, status=DatasetVersion.Status.READY,
                                  job=succeeded, storage_prefix=f"{succeeded.dataset.slug}/{succeeded.pk}")
    stored = storage.dataset_storage()
    # The failed job's version files and an evaluation report, moved into place before it was killed too.
    slug = failed.dataset.slug
    folders = [Path(stored.path(p)) for p in (f"{slug}/{failed.pk}", f"{slug}/evaluations/{failed.pk}",
                                              f"{succeeded.dataset.slug}/{succeeded.pk}", f"{slug}/upload-0123")]
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)

    assert Sweeper().sweep().tidied == 5
    assert [checkpoint_dir(job).exists() for job in jobs] == [False, False, True, True]
    assert [stored.exists(f"{report_prefix(job)}/report.json") for job in jobs] == [True, False, True, True]
    assert [folder.is_dir() for folder in folders] == [False, False, True, True]  # a recorded version; no job's
    assert Sweeper().sweep().tidied == 0
