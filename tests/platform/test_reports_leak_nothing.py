"""No evaluation response (JSON, HTML, PDF, leaderboard) carries a reference record.

A reference is never evaluated as if it were synthetic; a report about restricted data, or data
made from it, has no samples; and any sample equal or near-equal to a real record is dropped
before a report is stored.
"""

import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
from django.test import Client

import evaluation
from access.models import Grant
from catalog import storage
from catalog.models import Dataset, Evaluation, VersionParent
from catalog.publish import publish_version
from jobs import runner, service
from jobs.models import Job
from tests.support.tables import publish_table, real_table

pytestmark = pytest.mark.django_db


def test_a_reference_is_never_evaluated_as_if_synthetic(api, reference):
    real_version = reference.latest_ready_version()
    for parameters in ({"version": real_version.pk, "reference": reference.slug}, {"version": real_version.pk}):
        response = api.post("/api/jobs/", {"type": "evaluate", "parameters": parameters}, format="json")
        assert response.status_code == 400, response.content
        assert "only synthetic versions" in response.json()["parameters.version"][0]
    assert not Job.objects.filter(type="evaluate").exists()


def test_the_leaderboard_lists_synthetic_versions_only(api, reference, user):
    from catalog.models import Evaluation

    real_version = reference.latest_ready_version()
    # An evaluation row of a reference (made before this rule, or by hand) never ranks.
    Evaluation.objects.create(version=real_version, reference=real_version, results={
        "utility": {"tstr": {"mean": 1.0}}, "verdict": {"privacy_gate": "pass"}})
    assert api.get(f"/api/datasets/{reference.slug}/leaderboard/").json() == []


# --- the sweep: every response about an evaluation, for every reference record ------------------

def sweep_numbers(value, width: int):
    """Every nested list in a JSON value whose flattened numbers are one record's width."""
    if isinstance(value, dict):
        for item in value.values():
            yield from sweep_numbers(item, width)
    elif isinstance(value, list):
        flat = np.asarray(value, dtype=object).ravel() if value and isinstance(value[0], list) else None
        if flat is not None and flat.size == width and all(isinstance(v, int | float) for v in flat):
            yield np.asarray(flat, dtype=float)
        for item in value:
            yield from sweep_numbers(item, width)


def evaluation_responses(api, version, reference) -> dict:
    """Run the version's evaluation job and fetch everything its owner can get about it."""
    job = service.submit(version.dataset.owner, "evaluate", {"version": version.pk})
    runner.execute(str(job.pk))
    job.refresh_from_db()
    assert job.state == "succeeded", job.error
    evaluation = Evaluation.objects.get(job=job)
    portal = Client()
    portal.force_login(version.dataset.owner)
    body = api.get(f"/api/evaluations/{evaluation.pk}/").json()
    prefix, _, name = evaluation.report_files["json"].rpartition("/")
    with storage.open_version_file(prefix, name) as fh:
        written = json.load(fh)  # in the key order the job wrote (PostgreSQL's JSONB reorders keys)
    assert written == body["results"]
    return {
        "json": body["results"],
        "written": written,
        "html": b"".join(api.get(body["report"]["html"]).streaming_content),
        "pdf": b"".join(api.get(body["report"]["pdf"]).streaming_content),
        "portal": portal.get(f"/evaluations/{evaluation.pk}/").content,
        "leaderboard": api.get(f"/api/datasets/{reference.slug}/leaderboard/").content,
    }


def assert_files_are_drawn_from_the_json_alone(responses, tmp_path):
    # The HTML and PDF are pure functions of the JSON (equal to the API's): they carry nothing it does not.
    assert responses["html"].decode() == evaluation.render_html(responses["written"])
    evaluation.render_pdf(responses["written"], tmp_path / "again.pdf")
    assert responses["pdf"] == (tmp_path / "again.pdf").read_bytes()


@pytest.fixture
def real_digits(user, django_user_model):
    from sklearn.datasets import load_digits

    digits = load_digits()
    owner = django_user_model.objects.create_user("digits-keeper")
    dataset = Dataset.objects.create(slug="real-digits", title="Real digits", modality="image",
                                     kind="reference", access="restricted", owner=owner)
    Grant.objects.create(dataset=dataset, user=user)
    publish_arrays(dataset, digits.images[:300], digits.target[:300], "v1")
    return dataset, digits.images[:300]


def publish_arrays(dataset, images, labels, key, parents=()):
    staging = Path(tempfile.mkdtemp())
    np.savez(staging / "digits.npz", images=images, labels=labels.astype(np.int64))
    try:
        return publish_version(dataset=dataset, staging=staging, key=key, claim=lambda: None,
                               samples=len(labels), parents=parents)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def test_real_digits_posing_as_synthetic_never_show(api, user, real_digits, tmp_path):
    reference, real = real_digits
    rng = np.random.default_rng(0)
    # A hostile "synthetic" set: real digits (one nudged by a single grey level) among noise.
    copies = real[:40].copy()
    copies[0, 3, 3] = min(16, copies[0, 3, 3] + 1)
    noise = rng.integers(0, 17, size=(40, 8, 8)).astype(float)
    images = np.concatenate([copies, noise])
    labels = np.r_[np.arange(40) % 10, np.arange(40) % 10]
    order = rng.permutation(len(images))
    fake = Dataset.objects.create(slug="copycat", title="Copycat", modality="image", kind="synthetic",
                                  access="private", owner=user, reference=reference)
    version = publish_arrays(fake, images[order], labels[order], "k1")
    responses = evaluation_responses(api, version, reference)

    samples = responses["json"]["details"]["samples"]
    assert samples["dropped_near_copies"] > 0 and len(samples["images"]) == 25  # the noise still shows
    flat_real = real.reshape(len(real), -1)
    for record in sweep_numbers(responses["json"], 64):
        assert np.abs(flat_real - record).max(axis=1).min() > 1, "a real digit is in the report"
    assert_files_are_drawn_from_the_json_alone(responses, tmp_path)


def test_reports_on_data_made_from_restricted_data_carry_no_samples(api, user, real_digits, tmp_path):
    reference, real = real_digits
    rng = np.random.default_rng(1)
    made = Dataset.objects.create(slug="composites", title="Composites", modality="image", kind="synthetic",
                                  access="private", owner=user, reference=reference)
    parent = reference.latest_ready_version()
    version = publish_arrays(made, rng.integers(0, 17, size=(80, 8, 8)).astype(float), np.arange(80) % 10, "k1",
                             parents=[(parent, VersionParent.Relation.FITTED_ON)])
    responses = evaluation_responses(api, version, reference)
    assert not (responses["json"]["details"].get("samples") or {}).get("images")
    assert b"synthetic samples" not in responses["html"].lower()
    assert_files_are_drawn_from_the_json_alone(responses, tmp_path)


def json_numbers(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from json_numbers(item)
    elif isinstance(value, list):
        for item in value:
            yield from json_numbers(item)
    elif isinstance(value, float):
        yield value


def test_a_copied_real_table_shows_none_of_its_values(api, user, reference, tmp_path):
    real = real_table()
    real_version = publish_table(reference, real, "v2")
    copy = Dataset.objects.create(slug="table-copy", title="Copy", modality="tabular", kind="synthetic",
                                  access="private", owner=user, reference=reference)
    version = publish_table(copy, real.sample(frac=1.0, random_state=0), "k1",
                            parents=[(real_version, VersionParent.Relation.FITTED_ON)])
    responses = evaluation_responses(api, version, reference)
    assert responses["json"]["verdict"]["privacy_gate"] == "fail"
    # No real value, not even an extreme one as a histogram edge: compared as numbers, exactly.
    real_values = set(real[["a", "b", "c"]].to_numpy().ravel().tolist())
    assert not real_values & set(json_numbers(responses["json"]))
    assert_files_are_drawn_from_the_json_alone(responses, tmp_path)
    for name in ("leaderboard", "portal"):
        assert "987654" not in responses[name].decode()

def test_a_failure_on_restricted_data_quotes_none_of_it(synthetic, monkeypatch, caplog):
    from jobs import evaluate

    def choke(version, real, params, progress):
        raise ValueError("could not convert 'Jane Doe, 1970-01-01' to float")  # as a parser would

    monkeypatch.setattr(evaluate, "compute_report", choke)
    version = publish_table(synthetic, real_table(), "k1")
    job = service.submit(synthetic.owner, "evaluate", {"version": version.pk})
    runner.execute(str(job.pk))
    job.refresh_from_db()
    assert job.state == "failed" and job.error.startswith("ValueError (at test_reports_leak_nothing.py:")
    assert "withheld" in job.error
    assert "Jane Doe" not in job.error and "Jane Doe" not in caplog.text
