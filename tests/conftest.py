"""Shared fixtures: users, an API client, a real Redis, and real Celery worker processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient

from generators import registry
from tests.support.generators import SLOW_SPEC

REPO = Path(__file__).resolve().parents[1]
DEFAULT_TEST_REDIS = "redis://127.0.0.1:6379/15"


@pytest.fixture(scope="session", autouse=True)
def _test_generators():
    with registry.temporarily_registered(SLOW_SPEC):
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


@pytest.fixture
def redis_url() -> str:
    """A real Redis (REDIS_URL, default a spare database on the local server), emptied first."""
    import redis

    url = os.environ.get("REDIS_URL", DEFAULT_TEST_REDIS)
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        pytest.fail(f"Redis is not reachable at {url} ({exc}); run the tests with scripts/test, which starts it")
    client.flushdb()
    return url


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


@pytest.fixture
def redis_broker(redis_url) -> Broker:
    broker = Broker(redis_url, {"CELERY_BROKER_URL": redis_url}, {"visibility_timeout": 7200})
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


@pytest.fixture
def start_worker(tmp_path):
    """Start real `celery worker` processes against a broker; stopped at teardown."""
    processes: list[subprocess.Popen] = []

    def start(broker: Broker, concurrency: int = 1, env: dict[str, str] | None = None) -> subprocess.Popen:
        log = tmp_path / f"worker-{len(processes)}.log"
        env = {
            **os.environ, **broker.env,
            "DATABASE_URL": database_url(),
            "SYNTHREG_VAR_DIR": str(settings.VAR_DIR),
            "SYNTHREG_GENERATORS": "tests.support.generators.SLOW_SPEC",
            "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
            **(env or {}),
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "synthreg", "worker", "-Q", "cpu,gpu",
             "-c", str(concurrency), "-n", f"test{len(processes)}@%h", "--without-gossip",
             "--without-mingle", "--loglevel", "INFO"],
            env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, cwd=tmp_path,
        )
        processes.append(process)
        deadline = time.monotonic() + 60
        while " ready." not in log.read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"worker did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        process.log = log
        _worker_logs.append(log)
        return process

    yield start
    _worker_logs.clear()
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def wait_for(predicate, timeout: float = 120, interval: float = 0.2, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(interval)
    logs = "".join(f"\n--- {log.name} ---\n{log.read_text()[-4000:]}" for log in _worker_logs)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}{logs}")


_worker_logs: list[Path] = []  # of the running test's workers, for timeout messages
