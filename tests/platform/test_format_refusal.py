"""Files that do not match their format are never published: the job fails with the reason."""

import shutil
import tempfile
import uuid
from pathlib import Path

import numpy as np
import pytest

from access.models import Grant
from catalog import storage
from catalog.models import Dataset, DatasetVersion
from catalog.publish import publish_version
from contracts.formats import FormatError
from generators import registry
from jobs import runner, service
from jobs.models import Job
from jobs.shards import shards_root
from tests.conftest import wait_for
from tests.support.generators import MISMATCHED_SPEC

REASON = "key 'labels' has {} rows, 'images' has {}"
WORKER_ENV = {"SYNTHREG_GENERATORS": "tests.support.generators.SLOW_SPEC,tests.support.generators.MISMATCHED_SPEC"}


@pytest.fixture(autouse=True)
def mismatched_generator():
    with registry.temporarily_registered(MISMATCHED_SPEC):
        yield


def left_nothing(job: Job) -> bool:
    prefix = f"{job.dataset.slug}/{job.pk}"
    return (not DatasetVersion.objects.filter(dataset=job.dataset).exists()
            and not Path(storage.dataset_storage().path(prefix)).exists())


def finished(job_id):
    job = Job.objects.get(pk=job_id)
    return job if job.finished else None


@pytest.mark.django_db
def test_publishing_files_that_break_the_format_raises_the_reason_and_leaves_nothing(user, tmp_path):
    dataset = Dataset.objects.create(slug="imgs", title="i", modality="image", format="images/1", kind="synthetic",
                                     owner=user)
    key = uuid.uuid4().hex  # the media folder outlives the database: earlier runs may have published imgs/k
    np.savez(tmp_path / "digits.npz", images=np.zeros((1000, 8, 8)), labels=np.zeros(999, np.int64))
    with pytest.raises(FormatError, match=r"^digits.npz: key 'labels' has 999 rows, 'images' has 1000$"):
        publish_version(dataset=dataset, staging=tmp_path, key=key, claim=lambda: None, samples=1000)
    with pytest.raises(FormatError, match="dataset 'imgs' holds images/1; these files are declared table/1"):
        publish_version(dataset=dataset, staging=tmp_path, key=key, claim=lambda: None, samples=1, format="table/1")
    assert not DatasetVersion.objects.exists() and not Path(storage.dataset_storage().path(f"imgs/{key}")).exists()


@pytest.mark.django_db
def test_a_dataset_without_a_format_takes_the_one_its_first_version_is_published_in(user, api, tmp_path):
    dataset = Dataset.objects.create(slug="imgs", title="i", modality="image", kind="synthetic", owner=user)
    assert dataset.data_format == "images/1"  # read as its modality's format meanwhile
    np.savez(tmp_path / "digits.npz", images=np.zeros((3, 8, 8)), labels=np.zeros(3, np.int64))
    publish_version(dataset=dataset, staging=tmp_path, key="k", claim=lambda: None, samples=3, format="images/1")
    assert Dataset.objects.get(pk=dataset.pk).format == "images/1"
    assert api.get("/api/datasets/imgs/").json()["format"] == "images/1"


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_a_job_writing_mismatching_files_fails_with_the_reason_on_a_real_worker(redis_broker, user, start_worker):
    start_worker(redis_broker, env=WORKER_ENV)
    job = service.submit(user, "generate", {"generator": "test-mismatched", "params": {"n": 5}})
    assert job.dataset.format == "images/1"
    job = wait_for(lambda: finished(job.pk), message="the job to fail")
    assert job.state == Job.State.FAILED
    assert job.error.startswith("FormatError: digits.npz: " + REASON.format(4, 5)), job.error
    assert left_nothing(job)


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_a_sharded_job_is_validated_shard_by_shard_before_it_publishes(redis_broker, user, start_worker):
    start_worker(redis_broker, concurrency=2, env={**WORKER_ENV, "SYNTHREG_SHARD_SIZE": "3"})
    job = service.submit(user, "generate", {"generator": "test-mismatched", "params": {"n": 7}})
    job = wait_for(lambda: finished(job.pk), message="the sharded job to fail")
    assert job.state == Job.State.FAILED
    assert [c.state for c in job.shards.all()] == [Job.State.SUCCEEDED] * 3  # each shard wrote its files
    assert job.error.startswith("FormatError: shard-00000/digits.npz: " + REASON.format(2, 3)), job.error
    assert left_nothing(job) and not shards_root(job.pk).exists()


@pytest.mark.django_db
def test_the_reason_is_shown_even_when_the_job_reads_restricted_data(user, django_user_model):
    keeper = django_user_model.objects.create_user("keeper")
    real = Dataset.objects.create(slug="photos", title="p", modality="image", format="images/1", kind="reference",
                                  access="restricted", owner=keeper)
    staging = Path(tempfile.mkdtemp())
    np.savez(staging / "photos.npz", images=np.zeros((4, 6, 6), np.uint8), labels=np.zeros(4, np.int64))
    try:
        publish_version(dataset=real, staging=staging, key="v1", claim=lambda: None, samples=4)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    Grant.objects.create(dataset=real, user=user)
    job = service.submit(user, "generate", {"generator": "test-mismatched", "backgrounds": "photos",
                                            "params": {"n": 3}})
    runner.execute(str(job.pk))
    job.refresh_from_db()
    assert job.state == Job.State.FAILED and job.inputs.filter(dataset__access="restricted").exists()
    assert job.error.startswith("FormatError: digits.npz: " + REASON.format(2, 3)), job.error
    assert left_nothing(job)


@pytest.mark.django_db
def test_the_migration_gives_existing_datasets_their_modalitys_format(user):
    from importlib import import_module

    from django.apps import apps

    for slug, modality in (("i", "image"), ("s", "scene"), ("t", "tabular")):
        Dataset.objects.create(slug=slug, title=slug, modality=modality, kind="synthetic", owner=user)
    Dataset.objects.create(slug="kept", title="k", modality="image", format="custom/1", kind="synthetic", owner=user)
    import_module("catalog.migrations.0003_dataset_format").record_formats(apps, None)
    assert dict(Dataset.objects.values_list("slug", "format")) == {
        "i": "images/1", "s": "scenes/1", "t": "table/1", "kept": "custom/1"}


@pytest.mark.django_db
def test_a_job_cannot_add_a_version_of_another_format_to_a_dataset(user):
    Dataset.objects.create(slug="scenes-here", title="s", modality="image", format="scenes/1", kind="synthetic",
                           owner=user)
    with pytest.raises(service.JobParameterError, match="holds scenes/1; `digits` writes images/1") as refused:
        service.submit(user, "generate", {"generator": "digits", "params": {"n": 10}, "dataset": "scenes-here"})
    assert refused.value.field == "parameters.dataset"
    assert not Job.objects.exists()
