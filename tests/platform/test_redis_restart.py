"""A restarted Redis (it keeps nothing on disk) loses no job: the database is the durable queue."""

import shutil
import socket
import subprocess
import time

import pytest
import redis

from jobs import service
from jobs.models import Job
from tests.conftest import Broker, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OwnRedis:
    """A private redis-server on a free port, without persistence, that can be restarted."""

    def __init__(self, tmp_path) -> None:
        self.port, self.dir, self.process = free_port(), tmp_path, None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [shutil.which("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.dir)], stdout=subprocess.DEVNULL)
        client = redis.Redis(port=self.port)
        wait_for(lambda: self._answers(client), timeout=20, message="redis-server to answer")

    @staticmethod
    def _answers(client) -> bool:
        try:
            return client.ping()
        except redis.ConnectionError:
            return False

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


@pytest.fixture
def own_redis(tmp_path):
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed; scripts/test installs it")
    server = OwnRedis(tmp_path)
    server.start()
    yield server
    server.stop()


def test_jobs_queued_before_a_redis_restart_still_run(own_redis, user, start_worker):
    broker = Broker(own_redis.url, {"CELERY_BROKER_URL": own_redis.url}, {"visibility_timeout": 7200})
    broker.activate()
    job = service.submit(user, "generate", {"generator": "digits", "params": {"n": 50}})
    assert redis.Redis(port=own_redis.port).llen("cpu") == 1

    own_redis.stop()
    time.sleep(0.5)
    own_redis.start()
    assert redis.Redis(port=own_redis.port).llen("cpu") == 0  # the message is gone with the restart

    start_worker(broker)  # a starting worker re-sends what the database says is waiting
    job = wait_for(lambda: Job.objects.get(pk=job.pk) if Job.objects.get(pk=job.pk).finished else None,
                   message="the job to finish after the restart")
    assert job.state == Job.State.SUCCEEDED, job.error
    assert job.attempts == 1
