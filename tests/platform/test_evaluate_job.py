"""The `evaluate` job on the platform: automatic after publication, report files, leaderboard, privacy."""

import json

import numpy as np
import pytest
from rest_framework.test import APIClient

from catalog import storage
from catalog.models import Dataset, Evaluation
from catalog.usage import stored_bytes
from jobs import runner
from jobs.evaluate import queue_evaluation, split_indices
from jobs.models import Job
from tests.support.tables import noise_table, publish_table

pytestmark = pytest.mark.django_db


def test_publishing_a_version_with_a_reference_queues_its_evaluation(synthetic):
    version = publish_table(synthetic, noise_table(), "k1", on_published=queue_evaluation)
    job = Job.objects.get(type="evaluate")
    assert job.parameters["version"] == version.pk
    assert job.parameters["reference"] == "real-table"
    assert set(job.inputs.all()) == {version, synthetic.reference.latest_ready_version()}


def test_no_evaluation_without_a_reference(user):
    dataset = Dataset.objects.create(slug="lonely", title="l", modality="tabular", kind="synthetic", owner=user)
    publish_table(dataset, noise_table(), "k", on_published=queue_evaluation)
    assert not Job.objects.filter(type="evaluate").exists()


def test_the_real_split_is_fixed_by_its_seed_and_has_equal_halves():
    train, holdout = split_indices(101, seed=4)
    again, _ = split_indices(101, seed=4)
    assert np.array_equal(train, again)
    assert len(train) == len(holdout) == 50 and not set(train) & set(holdout)
    assert not np.array_equal(train, split_indices(101, seed=5)[0])


def test_evaluate_job_writes_a_report_without_real_records(user, synthetic, api):
    version = publish_table(synthetic, noise_table(), "k1", on_published=queue_evaluation)
    job = Job.objects.get(type="evaluate")
    runner.execute(str(job.pk))
    job.refresh_from_db()
    assert job.state == "succeeded", job.error
    evaluation = Evaluation.objects.get(job=job)
    assert evaluation.version == version
    results = evaluation.results
    assert results["schema"] == "synthreg.report/1"
    assert results["verdict"]["privacy_gate"] in ("pass", "fail", "inconclusive")
    assert results["real_split"]["train_size"] == results["real_split"]["holdout_size"] == 60
    # Its stored files count toward the dataset owner's storage, beside the version's own.
    stored = storage.dataset_storage()
    assert evaluation.report_size == sum(stored.size(path) for path in evaluation.report_files.values()) > 0
    assert set(evaluation.report_files) == {"json", "html", "pdf"}
    assert stored_bytes(user) == version.total_size + evaluation.report_size

    body = api.get(f"/api/evaluations/{evaluation.pk}/").json()
    assert body["results"]["summary"] == results["summary"]
    html = api.get(body["report"]["html"])
    assert html.status_code == 200 and "default-src 'none'" in html["Content-Security-Policy"]
    html_text = b"".join(html.streaming_content).decode()
    pdf = api.get(body["report"]["pdf"])
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")
    for text in (html_text, json.dumps(results)):
        assert "987654" not in text  # the real marker row never appears


def test_reports_follow_the_synthetic_datasets_access(user, synthetic, other_user):
    version = publish_table(synthetic, noise_table(), "k1")
    evaluation = Evaluation.objects.create(version=version, reference=synthetic.reference.latest_ready_version(),
                                           results={}, report_files={"html": "syn-table/k1/data.parquet"})
    stranger = APIClient()
    stranger.force_authenticate(other_user)
    assert stranger.get(f"/api/evaluations/{evaluation.pk}/").status_code == 404
    assert stranger.get(f"/api/evaluations/{evaluation.pk}/report.html").status_code == 404


def test_evaluating_without_a_reference_names_the_field(api, user):
    dataset = Dataset.objects.create(slug="lonely", title="l", modality="tabular", kind="synthetic", owner=user)
    version = publish_table(dataset, noise_table(), "k")
    response = api.post("/api/jobs/", {"type": "evaluate", "parameters": {"version": version.pk}}, format="json")
    assert response.status_code == 400 and "parameters.reference" in response.json()
    response = api.post("/api/jobs/", {"type": "evaluate", "parameters": {"version": 999999}}, format="json")
    assert response.status_code == 404


def test_leaderboard_ranks_by_tstr_and_hides_what_the_viewer_cannot_see(user, other_user, reference, synthetic, api):
    real_version = reference.latest_ready_version()
    theirs = Dataset.objects.create(slug="theirs", title="t", modality="tabular", kind="synthetic",
                                    access="private", owner=other_user, reference=reference)
    scores = {(synthetic, "a"): 0.7, (synthetic, "b"): 0.9, (theirs, "c"): 0.99}
    for (dataset, key), tstr in scores.items():
        version = publish_table(dataset, noise_table(), key)
        Evaluation.objects.create(version=version, reference=real_version, results={
            "utility": {"tstr": {"mean": tstr}, "trtr": {"mean": 0.95}, "ratio": tstr / 0.95, "metric": "f1"},
            "summary": {"quality_score": 50, "privacy_score": 90}, "verdict": {"privacy_gate": "pass"}})
    board = api.get("/api/datasets/real-table/leaderboard/").json()
    assert [(row["dataset"], row["tstr"]) for row in board] == [("syn-table", 0.9), ("syn-table", 0.7)]


def test_versions_are_re_evaluated_when_the_evaluation_code_changes(synthetic):
    from evaluation.version import EVALUATION_VERSION
    from jobs.evaluate import queue_stale_evaluations

    current = publish_table(synthetic, noise_table(), "current")
    outdated = publish_table(synthetic, noise_table(seed=2), "outdated")
    never = publish_table(synthetic, noise_table(seed=3), "never")
    real_version = synthetic.reference.latest_ready_version()
    Evaluation.objects.create(version=current, reference=real_version, evaluation_version=EVALUATION_VERSION)
    Evaluation.objects.create(version=outdated, reference=real_version, evaluation_version="0.0.0-old")
    assert {v.pk for v in queue_stale_evaluations()} == {outdated.pk, never.pk}
    assert queue_stale_evaluations() == []  # already queued: not twice
