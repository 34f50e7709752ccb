"""Submitting jobs over the API: bad input gets a 4xx naming what is wrong, and nothing is created."""

import pytest

from catalog.models import Dataset
from jobs.models import Job

pytestmark = pytest.mark.django_db


def counts():
    return Job.objects.count(), Dataset.objects.count()


@pytest.mark.parametrize(("params", "field"), [
    ({"n": -5}, "parameters.params.n"),
    ({"n": "many"}, "parameters.params.n"),
    ({"thickness": 3}, "parameters.params.thickness"),
    ({"colour": "red"}, "parameters.params.colour"),
])
def test_invalid_generator_parameters_are_refused_naming_the_field(api, params, field):
    before = counts()
    response = api.post("/api/jobs/", {"type": "generate", "parameters": {"generator": "digits", "params": params}},
                        format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert counts() == before


def test_invalid_parameters_on_the_generator_endpoint_name_the_field(api):
    before = counts()
    response = api.post("/api/generators/digits/generate/", {"params": {"n": 0}}, format="json")
    assert response.status_code == 400
    assert "parameters.params.n" in response.json()
    assert counts() == before


@pytest.mark.parametrize("route", ["/api/jobs/", "/api/generators/no-such-generator/generate/"])
def test_unknown_generator_is_404_and_creates_nothing(api, route):
    before = counts()
    body = {"type": "generate", "parameters": {"generator": "no-such-generator"}} if route == "/api/jobs/" else {}
    response = api.post(route, body, format="json")
    assert response.status_code == 404
    assert "no-such-generator" in response.json()["detail"]
    assert counts() == before


def test_unknown_job_type_and_unknown_job_parameters_are_400(api):
    response = api.post("/api/jobs/", {"type": "teleport", "parameters": {}}, format="json")
    assert response.status_code == 400 and "type" in response.json()
    response = api.post("/api/jobs/", {"type": "generate", "parameters": {"generator": "digits", "speed": 9}},
                        format="json")
    assert response.status_code == 400 and "parameters.speed" in response.json()


def test_malformed_json_is_400(api):
    response = api.post("/api/jobs/", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]


def test_anonymous_users_cannot_submit(client):
    response = client.post("/api/jobs/", {"type": "generate", "parameters": {"generator": "digits"}},
                           content_type="application/json")
    assert response.status_code in (401, 403)
    assert Job.objects.count() == 0


def test_a_valid_submission_is_queued_with_defaults_filled_in(api, user):
    response = api.post("/api/generators/digits/generate/", {"params": {"n": 20}, "dataset": "my-digits"},
                        format="json")
    assert response.status_code == 201, response.content
    job = Job.objects.get(pk=response.json()["id"])
    assert job.state == Job.State.QUEUED and job.owner == user and job.queue == "cpu"
    assert job.parameters["params"]["n"] == 20
    assert job.parameters["params"]["seed"] == 0  # default filled in and recorded
    assert job.dataset.slug == "my-digits" and job.dataset.kind == "synthetic"


def test_someone_elses_dataset_cannot_be_written(api, other_user):
    Dataset.objects.create(slug="bobs", title="Bob's", modality="image", kind="synthetic", owner=other_user)
    response = api.post("/api/generators/digits/generate/", {"dataset": "bobs"}, format="json")
    assert response.status_code == 400 and "parameters.dataset" in response.json()


def test_a_token_from_username_and_password_authenticates(client, user):
    response = client.post("/api/token/", {"username": "alice", "password": "alice-pass-123"})
    assert response.status_code == 200
    token = response.json()["token"]
    submitted = client.post("/api/generators/digits/generate/", {}, content_type="application/json",
                            HTTP_AUTHORIZATION=f"Token {token}")
    assert submitted.status_code == 201
    assert client.post("/api/token/", {"username": "alice", "password": "wrong"}).status_code == 401


def test_two_first_submissions_into_one_new_dataset_do_not_500(api, user, django_user_model, monkeypatch):
    from jobs import limits

    check_caps = limits.check_caps

    def meanwhile(*args, **kwargs):  # another request creates the slug after prepare() looked
        Dataset.objects.create(slug="race", title="r", modality="image", kind="synthetic",
                               owner=django_user_model.objects.create_user("racer"))
        return check_caps(*args, **kwargs)

    monkeypatch.setattr(limits, "check_caps", meanwhile)
    response = api.post("/api/jobs/", {"type": "generate", "parameters": {"generator": "digits", "dataset": "race"}},
                        format="json")
    assert response.status_code == 400 and "another request" in response.json()["parameters.dataset"][0]
    assert not Job.objects.exists()
