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

import pytest
import redis
from django.core.management import call_command
from django.utils import timezone

from jobs import runner, service
from jobs.models import Job
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

