"""Shared fixtures: users, an API client, a real Redis, and real Celery worker processes."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient

from contracts import formats
from generators import registry
from tests.support.generators import LINES, SLOW_SPEC
from tests.support.redis_server import RedisServer, RedisServerError
from tests.support.workers import WorkerDidNotStart, launch_worker, stop_worker

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session", autouse=True)
def _test_generators():
    with registry.temporarily_registered(SLOW_SPEC), formats.temporarily_registered(LINES):
        yield


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("alice", password="alice-pass-123")


@pytest.fixture
def other_user(django_user_model):
    return django_user_model.objects.create_user("bob", password="bob-pass-123")


@pytest.fixture
def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture(scope="session")
def session_redis_url(tmp_path_factory) -> Iterator[str]:
    """This test session's own redis-server on a free port, so runs at once share no broker state.

    REDIS_URL, when set, names a Redis to use instead (its database is emptied before each test).
    """
    if url := os.environ.get("REDIS_URL"):
        yield url
        return
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    try:
        server.start()
    except RedisServerError as exc:
        pytest.fail(str(exc))
    yield server.url
    server.kill()


@pytest.fixture
def redis_url(session_redis_url) -> str:
    """A real Redis, emptied first."""
    import redis

    client = redis.Redis.from_url(session_redis_url)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        pytest.fail(f"Redis is not reachable at {session_redis_url} ({exc}); unset REDIS_URL to let the "
                    "tests start their own")
    client.flushdb()
    return session_redis_url


def database_url() -> str:
    """The URL of the test database this process uses, for worker processes to share."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = quote(db["USER"] or "")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"])
    return f"postgres://{auth}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


class Broker:
    """Points this process's Celery app at a broker, and starts worker processes on it."""

    def __init__(self, url: str, env: dict[str, str], transport_options: dict) -> None:
        self.url, self.env, self.transport_options = url, env, transport_options

    def activate(self) -> None:
        from synthreg.celery import app

        app.conf.broker_url = self.url
        app.conf.broker_transport_options = self.transport_options
        app._pool = None
        app.amqp._producer_pool = None


@pytest.fixture(autouse=True)
def _broker_restored() -> Iterator[None]:
    """A test that points the Celery app at its own broker (which it may kill) leaves it as it was."""
    from synthreg.celery import app

    before = app.conf.broker_url, app.conf.broker_transport_options
    yield
    if (app.conf.broker_url, app.conf.broker_transport_options) != before:
        Broker(before[0], {}, before[1]).activate()


@pytest.fixture
def redis_broker(redis_url) -> Broker:
    return _activated_redis_broker(redis_url)


@pytest.fixture
def own_redis(tmp_path) -> Iterator[RedisServer]:
    """A redis-server for this test alone, which it may kill and restart."""
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.kill()


@pytest.fixture
def own_redis_broker(own_redis) -> Broker:
    return _activated_redis_broker(own_redis.url)


def _activated_redis_broker(url: str) -> Broker:
    broker = Broker(url, {"CELERY_BROKER_URL": url}, {"visibility_timeout": 7200})
    broker.activate()
    return broker


@pytest.fixture
def filesystem_broker(tmp_path) -> Broker:
    folder = tmp_path / "broker"
    for sub in ("queue", "processed", "control"):
        (folder / sub).mkdir(parents=True)
    options = {"data_folder_in": str(folder / "queue"), "data_folder_out": str(folder / "queue"),
               "processed_folder": str(folder / "processed"), "control_folder": str(folder / "control"),
               "polling_interval": 0.1}
    url = "filesystem://localhost/"
    broker = Broker(url, {"CELERY_BROKER_URL": url, "SYNTHREG_BROKER_DIR": str(folder)}, options)
    broker.activate()
    return broker


def worker_env(broker: Broker, env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a worker process on ``broker`` that shares this process's database and files."""
    return {
        **os.environ, **broker.env,
        "DATABASE_URL": database_url(),
        "SYNTHREG_VAR_DIR": str(settings.VAR_DIR),
        "SYNTHREG_GENERATORS": "tests.support.generators.SLOW_SPEC",
        "SYNTHREG_FORMATS": "tests.support.generators.LINES",
        # Sweep for lost messages every second, so the tests that lose some wait little.
        "SYNTHREG_SWEEP_SECONDS": "1",
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
        **(env or {}),
    }


@pytest.fixture
def start_worker(tmp_path):
    """Start real `celery worker` processes against a broker; stopped at teardown."""
    processes: list[subprocess.Popen] = []

    def start(broker: Broker, concurrency: int = 1, env: dict[str, str] | None = None) -> subprocess.Popen:
        name = f"test{len(processes)}"
        try:
            process = launch_worker(worker_env(broker, env), tmp_path / f"worker-{len(processes)}.log", name,
                                    concurrency=concurrency, cwd=tmp_path)
        except WorkerDidNotStart as exc:
            pytest.fail(str(exc))
        processes.append(process)
        _worker_logs.append(process.log)
        return process

    yield start
    _worker_logs.clear()
    for process in processes:
        process.terminate()
    for process in processes:
        stop_worker(process)


def wait_for(predicate, timeout: float = 120, interval: float = 0.2, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(interval)
    logs = "".join(f"\n--- {log.name} ---\n{log.read_text()[-4000:]}" for log in _worker_logs)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}{logs}")


_worker_logs: list[Path] = []  # of the running test's workers, for timeout messages
