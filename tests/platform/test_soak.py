"""A short soak (benchmarks/soak.py): jobs through a pool-process kill, a whole-worker kill and a
Redis restart all end, each published once, intact, with nothing left behind."""

import pytest
from django.conf import settings

from benchmarks.soak import RECORDED_SPEC, Plan, Soak
from generators import registry
from tests.conftest import worker_env

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_jobs_survive_kills_and_a_redis_restart_exactly_once(own_redis, own_redis_broker, user, tmp_path):
    plan = Plan(jobs=20, kill_every=1.5, kills=2, redis_restart_after=0.3,
                params={"n": 10, "step_seconds": 0.1}, timeout=300)
    with registry.temporarily_registered(RECORDED_SPEC):
        result = Soak(plan, own_redis, worker_env(own_redis_broker), tmp_path, user).run()

    assert not result["timed_out"], result
    assert result["kills"] == {"holder": 1, "worker": 1} and result["redis_restarts"] == 1, result
    assert result["final_states"] == {"succeeded": 20}, result
    assert result["duplicates"] == 0
    assert result["most_deliveries"] <= settings.SYNTHREG_JOB_MAX_ATTEMPTS
    assert result["sha256_mismatches"] == 0
    assert result["stray_staging_files"] == 0 and result["unpublished_output_folders"] == 0
    assert result["resent_by_sweeps"] >= 1  # what the restart lost came back through the sweep
