"""Portal views through Django's test client (the browser tests cover the live pages)."""

import pytest

from access.models import Grant
from catalog.models import Dataset
from jobs.models import Job

pytestmark = pytest.mark.django_db


def test_the_generate_form_offers_usable_references_and_submits_one(client, user, other_user):
    usable = Dataset.objects.create(slug="real-digits", title="Real digits", modality="image", kind="reference",
                                    access="restricted", owner=other_user)
    Dataset.objects.create(slug="hidden-digits", title="Hidden", modality="image", kind="reference",
                           access="restricted", owner=other_user)
    Grant.objects.create(dataset=usable, user=user)
    client.force_login(user)
    page = client.get("/jobs/new/?generator=digits").content.decode()
    assert 'value="real-digits" selected' in page and "hidden-digits" not in page

    response = client.post("/jobs/new/", {"generator": "digits", "reference": "real-digits", "p.n": "30"})
    assert response.status_code == 302
    job = Job.objects.get()
    assert job.dataset.reference == usable and job.parameters["params"]["n"] == 30


def test_the_generate_form_needs_a_login(client):
    response = client.get("/jobs/new/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_reference_pages_show_their_leaderboard_once_and_a_clean_title(client, user):
    reference = Dataset.objects.create(slug="ref", title="Real things", modality="image", kind="reference",
                                       access="public", owner=user)
    page = client.get(f"/datasets/{reference.slug}/").content.decode()
    assert page.count("<h2>Leaderboard</h2>") == 1
    assert "<title>Real things · Synthreg</title>" in page


def test_evaluate_now_queues_an_evaluation_of_the_version(client, user, other_user):
    from tests.platform.test_evaluate_job import noise_table, publish_table

    reference = Dataset.objects.create(slug="real", title="Real", modality="tabular", kind="reference",
                                       access="restricted", owner=other_user)
    publish_table(reference, noise_table(), "v1")
    Grant.objects.create(dataset=reference, user=user)
    mine = Dataset.objects.create(slug="mine", title="Mine", modality="tabular", kind="synthetic",
                                  owner=user, reference=reference)
    version = publish_table(mine, noise_table(seed=4), "v1")
    client.force_login(user)
    assert "Evaluate now" in client.get("/datasets/mine/").content.decode()
    response = client.post(f"/versions/{version.pk}/evaluate/")
    job = Job.objects.get(type="evaluate")
    assert response.status_code == 302 and response["Location"] == f"/jobs/{job.pk}/"
    assert job.parameters["version"] == version.pk
