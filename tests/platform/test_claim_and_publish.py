"""Claiming, cancelling and publishing, in process (no broker needed)."""

import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from catalog import storage
from catalog.models import Dataset, DatasetVersion
from catalog.publish import publish_version
from jobs import runner, service
from jobs.models import Job

pytestmark = pytest.mark.django_db


@pytest.fixture
def job(user):
    return service.submit(user, "generate", {"generator": "test-slow", "params": {"n": 2, "step_seconds": 0}})


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_only_the_first_delivery_claims_a_job(job):
    assert runner.claim(str(job.pk), "host:1") is not None
    assert runner.claim(str(job.pk), "host:2") is None
    job.refresh_from_db()
    assert job.state == "running" and job.attempts == 1 and job.worker == "host:1"


def test_a_job_whose_holder_died_is_claimed_again_up_to_the_cap(job):
    import socket

    for attempt in range(1, settings.SYNTHREG_JOB_MAX_ATTEMPTS + 1):
        holder = f"{socket.gethostname()}:{dead_pid()}"
        assert runner.claim(str(job.pk), holder) is not None
        assert Job.objects.get(pk=job.pk).attempts == attempt
    assert runner.claim(str(job.pk), "another:1") is None
    job.refresh_from_db()
    assert job.state == "failed" and "died 3 times" in job.error


def test_a_live_holder_on_this_host_keeps_its_job(job):
    import os
    import socket

    assert runner.claim(str(job.pk), f"{socket.gethostname()}:{os.getpid()}") is not None
    assert runner.claim(str(job.pk), "host:9") is None


def test_execute_runs_the_job_and_publishes_once(job):
    runner.execute(str(job.pk))
    runner.execute(str(job.pk))  # a late second delivery
    job.refresh_from_db()
    assert job.state == "succeeded"
    assert DatasetVersion.objects.filter(job=job).count() == 1
    assert not (settings.SYNTHREG_STAGING_DIR / str(job.pk)).exists()


def test_cancelling_stops_a_running_job_at_its_next_progress_report(job):
    claimed = runner.claim(str(job.pk), "host:1")
    run = runner.JobRun(claimed, "host:1")
    run.progress(0.5, "half")
    assert service.cancel(job)
    with pytest.raises(runner.JobAborted):
        run.progress(1.0, "done")
    assert Job.objects.get(pk=job.pk).state == "cancelled"


def test_a_failing_job_records_the_reason(user):
    job = service.submit(user, "generate", {"generator": "test-slow", "params": {"n": 3, "crash_after": -1}})
    Job.objects.filter(pk=job.pk).update(parameters={**job.parameters, "generator": "vanished"})
    runner.execute(str(job.pk))
    job.refresh_from_db()
    assert job.state == "failed" and "vanished" in job.error


def test_publication_that_loses_its_claim_leaves_nothing(user, tmp_path):
    dataset = Dataset.objects.create(slug="d", title="d", modality="tabular", kind="synthetic", owner=user)
    staging = tmp_path / "staging"
    staging.mkdir()
    (staging / "x.bin").write_bytes(b"123")

    def lost_claim():
        raise runner.JobAborted("cancelled")

    with pytest.raises(runner.JobAborted):
        publish_version(dataset=dataset, staging=staging, key="job-1", claim=lost_claim, samples=1)
    assert not DatasetVersion.objects.exists()
    assert not Path(storage.dataset_storage().path("d/job-1")).exists()


def test_published_manifest_lists_every_file_with_its_checksum(user, tmp_path):
    import hashlib
    import json

    dataset = Dataset.objects.create(slug="m", title="m", modality="tabular", kind="synthetic", owner=user)
    staging = tmp_path / "staging"
    (staging / "sub").mkdir(parents=True)
    (staging / "a.txt").write_bytes(b"alpha")
    (staging / "sub" / "b.txt").write_bytes(b"beta!")
    version = publish_version(dataset=dataset, staging=staging, key="k", claim=lambda: None, samples=2)
    assert version.status == "ready" and version.number == 1 and version.total_size == 10
    assert version.manifest["files"] == [
        {"path": "a.txt", "size": 5, "sha256": hashlib.sha256(b"alpha").hexdigest()},
        {"path": "sub/b.txt", "size": 5, "sha256": hashlib.sha256(b"beta!").hexdigest()},
    ]
    written = Path(storage.dataset_storage().path("m/k/manifest.json"))
    assert json.loads(written.read_text())["files"] == version.manifest["files"]


def test_verify_finds_missing_and_altered_files(user, tmp_path):
    import io

    from django.core.management import CommandError, call_command

    dataset = Dataset.objects.create(slug="v", title="v", modality="tabular", kind="synthetic", owner=user)
    staging = tmp_path / "staging"
    staging.mkdir()
    (staging / "a.txt").write_bytes(b"alpha")
    (staging / "b.txt").write_bytes(b"beta")
    version = publish_version(dataset=dataset, staging=staging, key="k", claim=lambda: None, samples=2)
    out = io.StringIO()
    call_command("verify", stdout=out, stderr=io.StringIO())
    assert "match their manifests" in out.getvalue()

    root = Path(storage.dataset_storage().path(version.storage_prefix))
    (root / "a.txt").write_bytes(b"alpha!")
    (root / "b.txt").unlink()
    out = io.StringIO()
    with pytest.raises(CommandError, match="2 file"):
        call_command("verify", stdout=out, stderr=io.StringIO())
    assert "a.txt: sha256" in out.getvalue() and "b.txt: missing" in out.getvalue()


def test_a_failure_after_publishing_keeps_the_version_its_report_and_the_jobs_success(user, tmp_path, monkeypatch):
    """The archive index and the export digest are derived after the version is published: if they
    fail, the published version, its report and the job's success stand (a request computes them)."""
    from jobs import outputs

    def broken(version):
        raise OSError("disk hiccup")

    monkeypatch.setattr(outputs, "archive_index", broken)
    job = service.submit(user, "generate", {"generator": "test-slow", "params": {"n": 2, "step_seconds": 0}})
    run = runner.JobRun(runner.claim(str(job.pk), "here:1"), "here:1")
    files, report = tmp_path / "version", tmp_path / "report"
    files.mkdir()
    report.mkdir()
    (files / "samples.txt").write_bytes(b"0:0\n" * 2)
    (report / "report.json").write_bytes(b"{}")
    version = outputs.publish_with_report(run, report, samples=2, staging=files)
    assert DatasetVersion.objects.get(pk=version.pk).status == "ready"
    assert storage.dataset_storage().exists(version.summary["report"]["json"])
    assert Job.objects.get(pk=job.pk).state == "succeeded"
