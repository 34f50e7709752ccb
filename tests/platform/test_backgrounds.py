"""Generators that composite onto a registered image dataset; restricted backgrounds stay restricted."""

import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest

from access.models import Grant, PrivacySpend
from catalog import storage
from catalog.models import Dataset, DatasetVersion
from catalog.publish import publish_version
from jobs import runner, service
from jobs.types import JobParameterError

pytestmark = pytest.mark.django_db

IMAGES = np.arange(5 * 4 * 4, dtype=np.uint8).reshape(5, 4, 4)


@pytest.fixture
def real_backgrounds(user, django_user_model):
    keeper = django_user_model.objects.create_user("keeper")
    dataset = Dataset.objects.create(slug="street-photos", title="Streets", modality="image", kind="reference",
                                     access="restricted", owner=keeper)
    staging = Path(tempfile.mkdtemp())
    np.savez(staging / "photos.npz", images=IMAGES, labels=np.zeros(5, dtype=np.int64))
    try:
        publish_version(dataset=dataset, staging=staging, key="v1", claim=lambda: None, samples=5)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    Grant.objects.create(dataset=dataset, user=user)
    return dataset


def test_backgrounds_reach_the_generator_and_the_output_stays_restricted(user, real_backgrounds):
    job = service.submit(user, "generate", {"generator": "test-slow", "backgrounds": "street-photos",
                                            "params": {"n": 3, "step_seconds": 0}})
    assert job.dataset.access == "restricted"
    assert PrivacySpend.objects.filter(job=job, dataset=real_backgrounds).exists()
    runner.execute(str(job.pk))
    job.refresh_from_db()
    assert job.state == "succeeded", job.error
    version = DatasetVersion.objects.get(job=job)
    with storage.open_version_file(version.storage_prefix, "backgrounds.txt") as fh:
        assert fh.read().decode() == f"{IMAGES.shape} {int(IMAGES.sum())}"
    link = version.parent_links.get()
    assert link.parent == real_backgrounds.latest_ready_version() and link.relation == "backgrounds-from"


@pytest.mark.parametrize(("body", "message"), [
    ({"generator": "digits", "backgrounds": "street-photos"}, "takes no backgrounds"),
    ({"generator": "test-slow", "backgrounds": "nowhere"}, "no dataset 'nowhere'"),
])
def test_bad_backgrounds_are_refused_naming_the_field(user, real_backgrounds, body, message):
    with pytest.raises(JobParameterError) as refused:
        service.submit(user, "generate", body)
    assert refused.value.field == "parameters.backgrounds" and message in refused.value.message


def test_restricted_backgrounds_cannot_feed_a_shareable_dataset(user, real_backgrounds):
    Dataset.objects.create(slug="mine", title="m", modality="tabular", kind="synthetic", access="public", owner=user)
    with pytest.raises(JobParameterError, match="must be too"):
        service.submit(user, "generate", {"generator": "test-slow", "backgrounds": "street-photos", "dataset": "mine"})


def test_backgrounds_must_be_images(user):
    Dataset.objects.create(slug="table", title="t", modality="tabular", kind="synthetic", access="public", owner=user)
    with pytest.raises(JobParameterError, match="not images"):
        service.submit(user, "generate", {"generator": "test-slow", "backgrounds": "table"})
