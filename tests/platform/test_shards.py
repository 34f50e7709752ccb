"""Large generate jobs fan out as shard jobs on real workers and publish one version."""

import io

import numpy as np
import pytest

from catalog import storage
from catalog.loaders import load_arrays
from catalog.models import DatasetVersion
from generators.render.digits import render
from jobs import service
from jobs.models import Job
from jobs.shards import shard_plan, shards_root
from tests.conftest import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def finished(job_id):
    job = Job.objects.get(pk=job_id)
    return job if job.finished else None


def test_shard_plan_covers_every_sample_with_distinct_seeds():
    plan = shard_plan(1050, 100, seed=3)
    assert [n for _, n, _ in plan] == [100] * 10 + [50]
    assert len({seed for _, _, seed in plan}) == len(plan)
    assert plan == shard_plan(1050, 100, seed=3) and plan != shard_plan(1050, 100, seed=4)


def test_a_large_job_fans_out_and_publishes_every_shard_as_one_version(redis_broker, user, start_worker):
    start_worker(redis_broker, concurrency=2, env={"SYNTHREG_SHARD_SIZE": "100"})
    job = service.submit(user, "generate", {"generator": "digits", "params": {"n": 350, "seed": 7}})
    job = wait_for(lambda: finished(job.pk), timeout=120, message="the sharded job to finish")
    assert job.state == Job.State.SUCCEEDED, job.error
    shards = sorted(job.shards.all(), key=lambda c: c.parameters["shard"])
    assert [(c.state, c.result["samples"]) for c in shards] == [("succeeded", 100)] * 3 + [("succeeded", 50)]
    version = DatasetVersion.objects.get(job=job)
    assert version.samples == 350
    assert [f["path"] for f in version.manifest["files"]] == [f"shard-{i:05d}/digits.npz" for i in range(4)]
    assert len(load_arrays(version)["labels"]) == 350
    # A shard is exactly what the renderer makes from that shard's own parameters.
    index, samples, seed = shard_plan(350, 100, 7)[3]
    with storage.open_version_file(version.storage_prefix, "shard-00003/digits.npz") as fh:
        published = np.load(io.BytesIO(fh.read()))
    images, labels = render({**job.parameters["params"], "n": samples, "seed": seed})
    assert np.array_equal(published["images"], images) and np.array_equal(published["labels"], labels)
    assert not shards_root(job.pk).exists()


def test_a_failing_shard_fails_the_job_and_publishes_nothing(redis_broker, user, start_worker):
    start_worker(redis_broker, concurrency=2, env={"SYNTHREG_SHARD_SIZE": "10"})
    job = service.submit(user, "generate", {"generator": "test-slow", "params": {"n": 30, "fail": True}})
    job = wait_for(lambda: finished(job.pk), timeout=120, message="the job to fail")
    assert job.state == Job.State.FAILED
    assert "asked to fail" in job.error
    wait_for(lambda: all(c.finished for c in job.shards.all()), message="every shard to end")
    assert not DatasetVersion.objects.filter(dataset=job.dataset).exists()
    assert not shards_root(job.pk).exists()


def test_shards_are_listed_under_their_job_not_beside_it(api, user):
    parent = service.submit(user, "generate", {"generator": "digits", "params": {"n": 10}})
    child = Job.objects.create(type="generate-shard", owner=user, parent=parent, parameters={"shard": 0})
    assert [j["id"] for j in api.get("/api/jobs/").json()["results"]] == [str(parent.pk)]
    assert [j["id"] for j in api.get(f"/api/jobs/?parent={parent.pk}").json()["results"]] == [str(child.pk)]


def test_shard_jobs_cannot_be_submitted_directly(api):
    response = api.post("/api/jobs/", {"type": "generate-shard", "parameters": {}}, format="json")
    assert response.status_code == 400 and "type" in response.json()
