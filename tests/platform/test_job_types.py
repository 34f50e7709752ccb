"""A new job type is one module plus one registration: the toy `fit-means` (tests/support/jobtypes.py)
runs from the API through a real worker to a published model with lineage, and the API, the
OpenAPI schema, the portal, the command line and the system checks all offer or check it."""

import dataclasses
import io
import json

import numpy as np
import pytest
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient
from safetensors.numpy import load

from access.models import PrivacySpend
from catalog import storage
from catalog.models import Dataset, DatasetVersion
from jobs import checks
from jobs.checks import job_type_errors
from jobs.models import Job
from jobs.types import JOB_TYPES, Input, Output
from tests.conftest import wait_for
from tests.support.jobtypes import FIT_MEANS
from tests.support.tables import real_table

WORKER_ENV = {"SYNTHREG_JOB_TYPES": "tests.support.jobtypes.FIT_MEANS"}


@pytest.fixture
def fit_means():
    with JOB_TYPES.temporarily_registered(FIT_MEANS):
        yield FIT_MEANS


def finished(job_id):
    job = Job.objects.get(pk=job_id)
    return job if job.finished else None


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_new_job_type_runs_from_the_api_to_a_published_model_with_lineage(
        fit_means, api, reference, redis_broker, start_worker):
    start_worker(redis_broker, env=WORKER_ENV)
    response = api.post("/api/jobs/", {"type": "fit-means", "parameters": {"table": "real-table", "epsilon": 0.25}},
                        format="json")
    assert response.status_code == 201, response.content
    job = wait_for(lambda: finished(response.json()["id"]), message="the fit-means job to finish")
    assert job.state == Job.State.SUCCEEDED, job.error

    version = api.get(f"/api/versions/{api.get(f'/api/jobs/{job.pk}/').json()['output_version']}/").json()
    fitted_on = reference.latest_ready_version()
    assert version["status"] == "ready" and version["samples"] == len(real_table())
    assert [(p["version"], p["relation"]) for p in version["parents"]] == [(fitted_on.pk, "fitted-on")]
    assert sorted(f["path"] for f in version["files"]) == ["card.json", "model.safetensors"]
    model = api.get(f"/api/datasets/{version['dataset']}/").json()
    # Fitted on restricted real data, the model is restricted too: its files never leave.
    assert (model["kind"], model["access"], model["modality"]) == ("model", "restricted", "tabular")
    assert not any("download" in entry for entry in version["files"])
    assert api.get(reverse("api:version-file", kwargs={"pk": version["id"], "path": "model.safetensors"})
                   ).status_code == 403
    assert PrivacySpend.objects.get(job=job, dataset=reference).epsilon == 0.25

    stored = DatasetVersion.objects.get(pk=version["id"])
    with storage.open_version_file(stored.storage_prefix, "model.safetensors") as fh:
        weights = load(fh.read())
    expected = real_table().mean().to_numpy()  # the means, computed another way (pandas)
    np.testing.assert_allclose(weights["mean"], expected, rtol=1e-12)
    with storage.open_version_file(stored.storage_prefix, "card.json") as fh:
        assert json.load(io.TextIOWrapper(fh))["columns"] == ["a", "b", "c", "target"]


@pytest.mark.django_db
def test_the_api_schema_offers_one_request_per_submittable_type(fit_means, api):
    schema = api.get("/api/schema/?format=json").json()
    body = schema["paths"]["/api/jobs/"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    variants = {v["properties"]["type"]["enum"][0]: v["properties"]["parameters"] for v in body["oneOf"]}
    assert sorted(variants) == ["adapt", "evaluate", "fit-means", "generate", "refine", "synthesize"]  # never generate-shard
    assert variants["fit-means"] == FIT_MEANS.schema


@pytest.mark.django_db
@pytest.mark.parametrize(("parameters", "field"), [
    ({"table": "real-table", "epsilon": -1}, "parameters.epsilon"),
    ({"table": "real-table", "shape": 3}, "parameters.shape"),
    ({}, "parameters"),
    ({"table": "nowhere"}, "parameters.table"),
])
def test_bad_parameters_are_refused_naming_the_field(fit_means, api, reference, parameters, field):
    response = api.post("/api/jobs/", {"type": "fit-means", "parameters": parameters}, format="json")
    assert response.status_code == 400 and field in response.json(), response.content
    assert not Job.objects.exists() and not Dataset.objects.filter(kind="model").exists()


@pytest.mark.django_db
def test_an_input_the_user_may_not_use_is_refused_and_nothing_is_created(fit_means, reference, other_user):
    client = APIClient()
    client.force_authenticate(other_user)  # bob holds no grant on the restricted table
    response = client.post("/api/jobs/", {"type": "fit-means", "parameters": {"table": "real-table"}}, format="json")
    assert response.status_code == 400
    assert response.json()["parameters.table"] == ["no dataset 'real-table' you can use"]
    version_id = reference.latest_ready_version().pk  # named by id, as evaluate's version is
    response = client.post("/api/jobs/", {"type": "evaluate", "parameters": {"version": version_id}}, format="json")
    assert response.status_code == 404 and response.json()["detail"] == f"no dataset version {version_id}"
    assert not Job.objects.exists() and not Dataset.objects.filter(kind="model").exists()
    assert not PrivacySpend.objects.exists()


@pytest.mark.django_db
def test_the_portal_lists_the_type_and_submits_its_form(fit_means, client, user, reference):
    client.force_login(user)
    assert b'href="/jobs/new/fit-means/"' in client.get("/jobs/").content
    form = client.get("/jobs/new/fit-means/")
    assert form.status_code == 200 and b'name="p.table"' in form.content and b'name="p.epsilon"' in form.content
    refused = client.post("/jobs/new/fit-means/", {"p.table": "real-table", "p.epsilon": "99"})
    assert refused.status_code == 400 and b"parameters.epsilon" in refused.content
    assert not Job.objects.exists()
    submitted = client.post("/jobs/new/fit-means/", {"p.table": "real-table", "p.epsilon": "0.5"})
    job = Job.objects.get(type="fit-means")
    assert submitted.status_code == 302 and submitted["Location"] == job.get_absolute_url()
    assert client.get("/jobs/new/generate-shard/").status_code == 404


@pytest.mark.django_db
def test_the_command_line_submits_it(fit_means, user, reference):
    call_command("submit", "fit-means", '{"table": "real-table"}', "--user", user.username, "--no-follow")
    job = Job.objects.get(type="fit-means")
    assert job.parameters["table_version"] == reference.latest_ready_version().pk and job.dataset.kind == "model"


def test_a_sound_job_type_passes_the_checks():
    assert job_type_errors([FIT_MEANS]) == []


@pytest.mark.parametrize(("broken", "check_id"), [
    ({"schema": {"type": "array"}}, "jobs.E011"),
    ({"schema": {**FIT_MEANS.schema, "required": ["table", "rows"]}}, "jobs.E012"),
    ({"schema": {**FIT_MEANS.schema, "properties": {**FIT_MEANS.schema["properties"],
                                                     "epsilon": {"type": "number", "default": "half"}}}}, "jobs.E013"),
    ({"queue": "tpu"}, "jobs.E014"),
    ({"inputs": (dataclasses.replace(FIT_MEANS.inputs[0], relation="copied-from"),)}, "jobs.E015"),
    ({"inputs": (Input("rows"), *FIT_MEANS.inputs)}, "jobs.E016"),
], ids=["not-an-object", "required-undeclared", "bad-default", "unknown-queue", "unknown-relation",
        "input-not-a-parameter"])
def test_each_broken_job_type_is_reported_with_its_id(broken, check_id):
    errors = job_type_errors([dataclasses.replace(FIT_MEANS, name="probe", **broken)])
    assert [(e.id, e.obj) for e in errors] == [(check_id, "probe")] and errors[0].hint


def test_an_output_of_an_unknown_format_is_reported(monkeypatch):
    monkeypatch.setattr(checks, "known_formats", lambda: {"table/1", "model/1"})
    assert job_type_errors([FIT_MEANS]) == []
    broken = dataclasses.replace(FIT_MEANS, name="probe", outputs=(Output("model", format="model/9"),))
    assert [e.id for e in job_type_errors([broken])] == ["jobs.E017"]


@pytest.mark.django_db
def test_the_budget_spent_is_the_declared_inputs_and_an_overspend_names_its_parameter(fit_means, api, reference):
    Dataset.objects.filter(pk=reference.pk).update(epsilon_budget=1.0)
    accepted = api.post("/api/jobs/", {"type": "fit-means", "parameters": {"table": "real-table", "epsilon": 0.75}},
                        format="json")
    assert accepted.status_code == 201 and PrivacySpend.objects.get().epsilon == 0.75
    refused = api.post("/api/jobs/", {"type": "fit-means", "parameters": {"table": "real-table", "epsilon": 0.5}},
                       format="json")
    assert refused.status_code == 400 and "0.75 is spent" in refused.json()["parameters.epsilon"][0]
    assert Job.objects.count() == 1 and PrivacySpend.objects.count() == 1
