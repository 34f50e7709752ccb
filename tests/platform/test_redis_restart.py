"""A restarted Redis (it keeps nothing on disk) loses no job: the database is the durable queue,
and every worker's sweep sends again what the broker lost, without a restart."""

import pytest
import redis

from jobs import service
from jobs.models import Job
from tests.conftest import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def finished(job_id):
    job = Job.objects.get(pk=job_id)
    return job if job.finished else None


def test_jobs_queued_before_a_redis_restart_still_run(own_redis, own_redis_broker, user, start_worker):
    job = service.submit(user, "generate", {"generator": "digits", "params": {"n": 50}})
    assert redis.Redis(port=own_redis.port).llen("cpu") == 1

    own_redis.restart()
    assert redis.Redis(port=own_redis.port).llen("cpu") == 0  # the message is gone with the restart

    start_worker(own_redis_broker)  # its sweeps find the job waiting with no message, and send it again
    job = wait_for(lambda: finished(job.pk), message="the job to finish after the restart")
    assert job.state == Job.State.SUCCEEDED, job.error
    assert job.attempts == 1


def test_a_running_worker_sends_again_what_a_redis_restart_lost(own_redis, own_redis_broker, user, start_worker):
    worker = start_worker(own_redis_broker)  # one process: the second job waits in Redis behind the first
    busy = service.submit(user, "generate", {"generator": "test-slow", "params": {"n": 30, "step_seconds": 0.1}})
    wait_for(lambda: Job.objects.filter(pk=busy.pk, state="running").exists(), message="the first job to run")
    waiting = service.submit(user, "generate", {"generator": "digits", "params": {"n": 20}})
    assert redis.Redis(port=own_redis.port).llen("cpu") == 1

    own_redis.restart()  # both messages are lost: the running job's (unacked) and the waiting one's

    waiting = wait_for(lambda: finished(waiting.pk), message="the sweep to send the lost job again")
    assert waiting.state == Job.State.SUCCEEDED, waiting.error
    assert waiting.attempts == 1
    busy = wait_for(lambda: finished(busy.pk), message="the running job to finish")
    assert busy.state == Job.State.SUCCEEDED and busy.attempts == 1
    assert worker.poll() is None and worker.log.read_text().count(" ready.") == 1  # never restarted
    assert "sweep: re-sent 1 job(s)" in worker.log.read_text()
