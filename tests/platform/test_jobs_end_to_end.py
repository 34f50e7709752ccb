"""The whole path with real parts: API -> broker -> a real Celery worker process -> ready version -> download."""

import hashlib
import io
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from django.conf import settings
from django.db import transaction

from catalog.models import DatasetVersion
from jobs import service
from jobs.models import Job
from tests.conftest import database_url, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def finished(job_id):
    job = Job.objects.get(pk=job_id)
    return job if job.finished else None


def staging_is_empty(job_id) -> bool:
    return not (settings.SYNTHREG_STAGING_DIR / str(job_id)).exists()


@pytest.mark.parametrize("broker_name", ["redis_broker", "filesystem_broker"])
def test_generate_job_from_api_to_download(broker_name, request, api, start_worker):
    broker = request.getfixturevalue(broker_name)
    start_worker(broker)
    response = api.post("/api/jobs/", {"type": "generate", "parameters": {
        "generator": "digits", "params": {"n": 300, "seed": 3}}}, format="json")
    assert response.status_code == 201, response.content
    job = wait_for(lambda: finished(response.json()["id"]), message="the job to finish")
    assert job.state == Job.State.SUCCEEDED, job.error
    assert job.progress == 1.0

    job_body = api.get(f"/api/jobs/{job.pk}/").json()
    version = api.get(f"/api/versions/{job_body['output_version']}/").json()
    assert version["status"] == "ready" and version["samples"] == 300
    assert version["parameters"]["seed"] == 3 and version["generator"] == "digits"
    assert [f["path"] for f in version["files"]] == ["digits.npz", "preview.png"]
    for entry in version["files"][:1]:
        download = api.get(entry["download"])
        assert download.status_code == 200
        body = b"".join(download.streaming_content)
        assert len(body) == entry["size"]
        assert hashlib.sha256(body).hexdigest() == entry["sha256"]
    arrays = np.load(io.BytesIO(body))
    assert arrays["images"].shape == (300, 8, 8) and arrays["labels"].shape == (300,)
    assert staging_is_empty(job.pk)


def test_killed_worker_loses_nothing_and_the_job_is_retried(redis_broker, user, start_worker):
    start_worker(redis_broker)
    job = service.submit(user, "generate", {"generator": "test-slow", "params": {"n": 40, "step_seconds": 0.1}})
    running = wait_for(lambda: Job.objects.filter(pk=job.pk, state="running", progress__gt=0.1).first(),
                       message="the job to be running")
    pid = int(running.worker.rsplit(":", 1)[1])
    os.kill(pid, signal.SIGKILL)  # the pool process running the job dies mid-way

    job = wait_for(lambda: finished(job.pk), message="the retried job to finish")
    assert job.state == Job.State.SUCCEEDED, job.error
    assert job.attempts == 2
    version = DatasetVersion.objects.get(job=job)
    assert DatasetVersion.objects.filter(dataset=job.dataset).count() == 1
    from catalog.storage import open_version_file

    with open_version_file(version.storage_prefix, "samples.txt") as fh:
        assert fh.read().decode().splitlines() == [f"0:{i}" for i in range(40)]
    assert staging_is_empty(job.pk)


def test_job_that_keeps_killing_its_worker_ends_failed_with_the_reason(redis_broker, user, start_worker):
    start_worker(redis_broker)
    job = service.submit(user, "generate", {"generator": "test-slow", "params": {"n": 10, "crash_after": 2}})
    job = wait_for(lambda: finished(job.pk), timeout=300, message="the job to give up")
    assert job.state == Job.State.FAILED
    assert "died 3 times" in job.error
    assert job.attempts == settings.SYNTHREG_JOB_MAX_ATTEMPTS
    assert not DatasetVersion.objects.filter(dataset=job.dataset).exists()
    assert staging_is_empty(job.pk)
    assert not (settings.MEDIA_ROOT / "datasets" / job.dataset.slug / str(job.pk)).exists()


def test_a_job_delivered_twice_publishes_one_version(redis_broker, user, start_worker):
    import redis

    start_worker(redis_broker, concurrency=2)
    job = service.submit(user, "generate", {"generator": "test-slow", "params": {"n": 10}})
    service.resend(job.pk, job.queue)  # the broker delivers the same job again
    job = wait_for(lambda: finished(job.pk), message="the job to finish")
    client = redis.Redis.from_url(redis_broker.url)
    wait_for(lambda: client.llen("cpu") == 0 and client.hlen("unacked") == 0, message="both deliveries consumed")
    assert job.state == Job.State.SUCCEEDED
    assert job.attempts == 1
    assert DatasetVersion.objects.filter(dataset=job.dataset).count() == 1


def test_a_job_in_a_rolled_back_transaction_sends_no_message(redis_broker, user):
    import redis

    client = redis.Redis.from_url(redis_broker.url)
    with pytest.raises(RuntimeError), transaction.atomic():
        service.submit(user, "generate", {"generator": "digits", "params": {"n": 10}})
        raise RuntimeError("the request failed after submitting")
    assert Job.objects.count() == 0
    assert client.llen("cpu") == 0
    service.submit(user, "generate", {"generator": "digits", "params": {"n": 10}})
    assert client.llen("cpu") == 1  # the same call, committed, does send


def test_manage_py_generate_follows_the_job_to_the_end(filesystem_broker, user, start_worker):
    user.is_superuser = True
    user.save()
    start_worker(filesystem_broker)
    env = {**os.environ, **filesystem_broker.env, "DATABASE_URL": database_url(),
           "SYNTHREG_VAR_DIR": str(settings.VAR_DIR)}
    result = subprocess.run(
        [sys.executable, str(settings.BASE_DIR / "manage.py"), "generate", "digits", "--params", '{"n": 50}',
         "--dataset", "cli-digits"],
        env=env, capture_output=True, text=True, timeout=120, cwd="/",
    )
    assert result.returncode == 0, result.stderr
    assert "cli-digits@v1 is ready" in result.stdout
    assert "100%" in result.stderr  # the progress bar reached the end
    assert DatasetVersion.objects.get(dataset__slug="cli-digits").samples == 50


def test_cancelling_a_running_job_stops_it_and_leaves_nothing(redis_broker, user, start_worker, api):
    start_worker(redis_broker)
    # 100 s of work if nothing stopped it; the assertions below need it gone within 15 s.
    job = service.submit(user, "generate", {"generator": "test-slow", "params": {"n": 2000, "step_seconds": 0.05}})
    wait_for(lambda: Job.objects.filter(pk=job.pk, state="running", progress__gt=0.05).exists(),
             message="the job to be running")
    response = api.post(f"/api/jobs/{job.pk}/cancel/")
    assert response.status_code == 200 and response.json()["state"] == "cancelled"
    # The worker notices at its next progress report, stops, and cleans its staging folder.
    wait_for(lambda: staging_is_empty(job.pk), timeout=15, message="the worker to stop and clean up")
    time.sleep(1)
    job.refresh_from_db()
    assert job.state == Job.State.CANCELLED and job.progress < 1.0
    assert not DatasetVersion.objects.filter(dataset=job.dataset).exists()
    assert api.post(f"/api/jobs/{job.pk}/cancel/").status_code == 409  # already ended
