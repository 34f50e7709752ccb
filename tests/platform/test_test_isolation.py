"""Two test runs at once on one machine share nothing: not Redis, not files, not a database."""

import os
import subprocess
from pathlib import Path

import pytest
import redis

from tests.conftest import REPO
from tests.support.redis_server import RedisServer


def test_the_session_redis_is_a_server_this_session_started(session_redis_url, tmp_path_factory):
    if os.environ.get("REDIS_URL"):
        pytest.skip("REDIS_URL names the Redis to use")
    folder = Path(redis.Redis.from_url(session_redis_url).config_get("dir")["dir"])
    assert folder.is_relative_to(tmp_path_factory.getbasetemp().resolve())


def test_another_sessions_server_is_another_and_emptying_it_leaves_ours(redis_url, tmp_path):
    ours = redis.Redis.from_url(redis_url)
    ours.lpush("cpu", "our message")
    other = RedisServer(tmp_path / "other-session")
    other.start()
    try:
        assert other.url != redis_url
        redis.Redis.from_url(other.url).flushdb()  # what the other run's fixtures do before each test
    finally:
        other.kill()
    assert ours.lrange("cpu", 0, -1) == [b"our message"]


def new_test_run() -> dict[str, str]:
    """What scripts/test's new_test_run gives a run, and whether its folder is gone after."""
    script = ('. scripts/services.sh; TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres; new_test_run; '
              'echo "$SYNTHREG_VAR_DIR|$TMPDIR|$TEST_POSTGRES_URL|${REDIS_URL:-unset}|${CELERY_BROKER_URL:-unset}"')
    env = {**os.environ, "REDIS_URL": "redis://127.0.0.1:6379/15", "CELERY_BROKER_URL": "redis://127.0.0.1:6379/15"}
    env.pop("TEST_REDIS_URL", None)
    result = subprocess.run(["bash", "-c", script], cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    var_dir, tmp, postgres, redis_url, broker_url = result.stdout.strip().splitlines()[-1].split("|")
    return {"var": var_dir, "tmp": tmp, "database": postgres.rsplit("/", 1)[1], "redis": redis_url,
            "broker": broker_url, "left behind": str(Path(var_dir).parent.exists())}


def test_each_scripts_test_run_gets_its_own_folders_and_database_and_leaves_none():
    first, second = new_test_run(), new_test_run()
    for key in ("var", "tmp", "database"):
        assert first[key] != second[key], key
    for run in (first, second):
        assert run["redis"] == run["broker"] == "unset"  # the tests start their own redis-server
        assert run["database"] not in ("postgres", "synthreg") and run["left behind"] == "False"
