"""The `tune` job end to end on a real worker: a killed worker's delivery resumes from the checkpoint
and ends as an uninterrupted run would, with a preset, a rendered dataset with tuned-on lineage and
a report; bad parameters are refused naming the field, creating nothing."""

import io
import os
import signal

import numpy as np
import pytest
from django.core.management import call_command
from django.urls import reverse

from access.models import Grant
from catalog.models import Dataset, DatasetVersion, GeneratorPreset
from generators.adapt.protocol import TargetProtocol
from generators.feedback import Budget, ParameterSpace, RealData, tune
from generators.render.digits.renderer import DIGITS_SPEC
from jobs.models import Job
from tests.conftest import wait_for

TINY = {"generator": "digits", "attributes": ["slant", "width"], "iterations": 2, "pairs": 1, "images": 100,
        "steps": 10, "n": 100, "seed": 4}


@pytest.fixture
def digits_reference(user):
    call_command("seed", stdout=io.StringIO())
    reference = Dataset.objects.get(slug="sklearn-digits")
    Grant.objects.create(dataset=reference, user=user)
    return reference


def finished(job_id):
    job = Job.objects.get(pk=job_id)
    return job if job.finished else None


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_killed_tune_job_resumes_and_ends_with_a_preset_a_dataset_and_a_report(
        api, user, digits_reference, redis_broker, start_worker):
    # One worker for both halves: the kill and resume, then what the finished job left.
    start_worker(redis_broker)
    parameters = {**TINY, "iterations": 10, "tuner": "vadra", "preset": "my-tuned"}
    response = api.post("/api/jobs/", {"type": "tune", "parameters": parameters}, format="json")
    assert response.status_code == 201, response.content
    running = wait_for(lambda: Job.objects.filter(pk=response.json()["id"], state="running",
                                                  result__iterations__2__isnull=False).first(),
                       message="three iterations to be checkpointed (live in the job's result)")
    os.kill(int(running.worker.rsplit(":", 1)[1]), signal.SIGKILL)

    job = wait_for(lambda: finished(running.pk), message="the resumed job to finish")
    assert job.state == Job.State.SUCCEEDED, job.error
    assert job.attempts == 2 and job.result["resumed_at_iteration"] >= 3
    assert [entry["iteration"] for entry in job.result["iterations"]] == list(range(11))
    assert all({"parameters", "objective", "dev_accuracy"} <= set(e) for e in job.result["iterations"])
    # The same run, uninterrupted, in this process.
    protocol = TargetProtocol.digits()
    images, labels = protocol.dev_labelled()
    space = ParameterSpace(DIGITS_SPEC, attributes=["slant", "width"])
    whole = tune("vadra", space, RealData(images, labels), start=space.unit_of(space.base),
                 budget=Budget(iterations=10, pairs=1, images=100, steps=10), seed=4)
    np.testing.assert_allclose([e["objective"] for e in job.result["iterations"]],
                               [e["objective"] for e in whole.history], rtol=1e-5)
    assert job.result["moved"] == pytest.approx(whole.moved)

    real = digits_reference.latest_ready_version()
    preset = GeneratorPreset.objects.get(name="my-tuned")
    assert (preset.generator.slug, preset.owner, preset.created_by_id, preset.tuned_on) == ("digits", user, job.pk, real)
    assert preset.parameters == whole.parameters
    version = DatasetVersion.objects.get(job=job)
    assert version.samples == 100 and version.dataset.access == "private"
    assert [(p.parent, p.relation) for p in version.parent_links.all()] == [(real, "tuned-on")]
    # The rendered version is evaluated automatically, like any generated one.
    assert Job.objects.filter(type="evaluate", parameters__version=version.pk).exists()
    # The report is stored beside the version and served by the version's job-report route.
    assert set(version.summary["report"]) == {"html", "pdf", "json"}
    response = api.get(reverse("api:version-job-report", args=[version.pk, "html"]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    html = b"".join(response.streaming_content).decode()
    assert html.count("<svg") == 2 and "<img" not in html and "data:image" not in html
    response = api.get(reverse("api:version-job-report", args=[version.pk, "pdf"]))
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"%PDF")
    # The preset is usable: a generate job from it starts from its parameters.
    response = api.post("/api/jobs/", {"type": "generate", "parameters": {
        "generator": "digits", "preset": "my-tuned", "params": {"n": 50}}}, format="json")
    assert response.status_code == 201, response.content
    assert Job.objects.get(pk=response.json()["id"]).parameters["params"]["width"] == preset.parameters["width"]


@pytest.mark.django_db
@pytest.mark.parametrize(("change", "field"), [
    ({"attributes": ["slant", "mode"]}, "parameters.attributes.1"),
    ({"iterations": 0}, "parameters.iterations"),
    ({"generator": "scenes"}, "parameters.generator"),
    ({"reference": "private-digits"}, "parameters.reference"),
])
def test_bad_parameters_are_refused_naming_the_field_and_create_nothing(api, django_user_model, change, field):
    call_command("seed", stdout=io.StringIO())
    keeper = django_user_model.objects.create_user("keeper")
    Dataset.objects.create(slug="private-digits", title="Someone's digits", modality="image", kind="reference",
                           format="images/1", access="restricted", owner=keeper)
    datasets = Dataset.objects.count()
    response = api.post("/api/jobs/", {"type": "tune", "parameters": {**TINY, **change}}, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert not Job.objects.exists() and Dataset.objects.count() == datasets and not GeneratorPreset.objects.exists()
