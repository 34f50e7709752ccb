"""Per-job caps and per-user quotas, checked at submission: a named 4xx, and nothing saved."""

import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings

from access.models import Grant, PrivacySpend
from catalog.models import Dataset, DatasetVersion, Evaluation
from generators import registry
from jobs import limits, runner, service
from jobs.evaluate import REPORT_BYTES, queue_evaluation
from jobs.models import Job
from jobs.outputs import publish_with_report
from jobs.types import QuotaExceeded
from tests.support.generators import SLOW_SPEC

pytestmark = pytest.mark.django_db

SLOW = {"generator": "test-slow", "params": {"n": 20}}  # samples.txt: 20 lines "0:i", 100 bytes at most


def saved():
    return Dataset.objects.count(), Job.objects.count(), PrivacySpend.objects.count(), DatasetVersion.objects.count()


def ready_version(dataset, samples=1797, total_size=1000, shape=(8, 8), number=1):
    return DatasetVersion.objects.create(dataset=dataset, number=number, status=DatasetVersion.Status.READY,
                                         samples=samples, total_size=total_size, summary={"shape": list(shape)})


@pytest.fixture
def versions(user, django_user_model):
    """A restricted reference (granted to the user) and the user's synthetic image version, as catalog rows."""
    keeper = django_user_model.objects.create_user("keeper")
    reference = Dataset.objects.create(slug="real-digits", title="Real", modality="image", kind="reference",
                                       access="restricted", owner=keeper)
    Grant.objects.create(dataset=reference, user=user)
    synthetic = Dataset.objects.create(slug="syn-digits", title="Syn", modality="image", kind="synthetic",
                                       owner=user, reference=reference)
    return ready_version(synthetic, samples=500, total_size=0), ready_version(reference, total_size=0)


def digits_estimate(params):
    return registry.get("digits").estimate(registry.validate("digits", params))


def test_the_test_generator_estimate_bounds_what_it_writes(tmp_path):
    for params in ({"n": 1}, {"n": 20, "seed": 12345}, {"n": 1001}):
        filled = registry.validate("test-slow", {**params, "step_seconds": 0})
        result = SLOW_SPEC.run(filled, tmp_path, lambda fraction, message: None)
        written = (tmp_path / "samples.txt").stat().st_size
        estimate = SLOW_SPEC.estimate(filled)
        assert written <= estimate.output_bytes <= written * 1.25 and estimate.samples == result.samples


@pytest.mark.parametrize(("setting", "measure"), [
    ("SYNTHREG_MAX_JOB_BYTES", "output_bytes"),
    ("SYNTHREG_MAX_JOB_SAMPLES", "samples"),
    ("SYNTHREG_MAX_JOB_COST", "cost"),
])
def test_each_per_job_cap_refuses_with_a_400_naming_it_and_just_at_it_passes(api, setting, measure):
    cap = getattr(digits_estimate({"n": 50}), measure)
    body = {"params": {"n": 50}}
    with override_settings(**{setting: cap - 1}):
        before = saved()
        response = api.post("/api/generators/digits/generate/", body, format="json")
        assert response.status_code == 400
        message = response.json()["parameters.params.n"][0]
        assert setting in message and "Lower n or resolution." in message
        assert saved() == before
    with override_settings(**{setting: cap}):
        assert api.post("/api/generators/digits/generate/", body, format="json").status_code == 201


def test_the_default_caps_take_an_empty_scenes_request_and_refuse_a_huge_one(api):
    assert api.post("/api/generators/scenes/generate/", {}, format="json").status_code == 201
    job = Job.objects.get()
    assert registry.get("scenes").estimate(job.parameters["params"]).output_bytes < 50e6
    before = saved()
    response = api.post("/api/generators/scenes/generate/", {"params": {"n": 10_000}}, format="json")
    assert response.status_code == 400
    message = response.json()["parameters.params.n"][0]
    assert "GB" in message and "SYNTHREG_MAX_JOB_BYTES" in message
    assert "Lower n, width, height, channels or sequence.frames." in message
    assert saved() == before


def test_an_evaluation_too_costly_is_refused_naming_the_version_and_spends_no_budget(api, versions):
    version, real = versions
    cost = (version.samples + real.samples) * 64  # every pixel of both inputs
    body = {"type": "evaluate", "parameters": {"version": version.pk}}
    with override_settings(SYNTHREG_MAX_JOB_COST=cost - 1):
        before = saved()
        response = api.post("/api/jobs/", body, format="json")
        assert response.status_code == 400
        assert "SYNTHREG_MAX_JOB_COST" in response.json()["parameters.version"][0]
        assert saved() == before
    with override_settings(SYNTHREG_MAX_JOB_COST=cost):
        assert api.post("/api/jobs/", body, format="json").status_code == 201
    assert PrivacySpend.objects.count() == 1  # the restricted reference's read was recorded


@override_settings(SYNTHREG_USER_ACTIVE_JOBS=2)
def test_the_active_jobs_quota_is_a_429_naming_it_and_counts_only_unfinished_parent_jobs(api, user, other_user):
    first, second = (service.submit(user, "generate", SLOW) for _ in range(2))
    service.submit(other_user, "generate", SLOW)  # someone else's
    Job.objects.create(type="generate-shard", owner=user, parent=first, parameters={})  # part of `first`
    before = saved()
    response = api.post("/api/jobs/", {"type": "generate", "parameters": SLOW}, format="json")
    assert response.status_code == 429
    assert response.json()["quota"] == "SYNTHREG_USER_ACTIVE_JOBS"
    assert (response.json()["used"], response.json()["limit"]) == (2, 2)
    assert "cancel one" in response.json()["detail"]
    assert saved() == before
    Job.objects.filter(pk=first.pk).update(state=Job.State.RUNNING)
    assert api.post("/api/jobs/", {"type": "generate", "parameters": SLOW}, format="json").status_code == 429
    Job.objects.filter(pk=second.pk).update(state=Job.State.SUCCEEDED)
    assert api.post("/api/jobs/", {"type": "generate", "parameters": SLOW}, format="json").status_code == 201


def test_the_storage_quota_counts_ready_versions_and_unfinished_jobs_estimates(api, user, other_user):
    mine = Dataset.objects.create(slug="mine", title="m", modality="tabular", kind="synthetic", owner=user)
    ready_version(mine, total_size=1000)
    ready_version(mine, total_size=500, number=2)
    DatasetVersion.objects.create(dataset=mine, number=3, status=DatasetVersion.Status.FAILED, total_size=10**6)
    theirs = Dataset.objects.create(slug="theirs", title="t", modality="tabular", kind="synthetic", owner=other_user)
    ready_version(theirs, total_size=10**6)
    size = SLOW_SPEC.estimate(registry.validate("test-slow", SLOW["params"])).output_bytes
    assert limits.stored_bytes(user) == 1500

    with override_settings(SYNTHREG_USER_STORAGE_BYTES=1500 + 2 * size):
        queued = service.submit(user, "generate", SLOW)  # just fits beside the next one
        Job.objects.create(type="generate-shard", owner=user, parent=queued, parameters=SLOW)  # counted in its parent
        assert api.post("/api/jobs/", {"type": "generate", "parameters": SLOW}, format="json").status_code == 201
        before = saved()
        response = api.post("/api/jobs/", {"type": "generate", "parameters": SLOW}, format="json")
        assert response.status_code == 403
        body = response.json()
        assert body["quota"] == "SYNTHREG_USER_STORAGE_BYTES"
        assert (body["used"], body["limit"]) == (1500 + 2 * size, 1500 + 2 * size)
        assert "SYNTHREG_USER_STORAGE_BYTES" in body["detail"] and "1.5 kB" in body["detail"]
        assert saved() == before
        service.cancel(queued)  # its estimate no longer counts
        assert api.post("/api/jobs/", {"type": "generate", "parameters": SLOW}, format="json").status_code == 201


def test_a_stored_job_report_and_evaluation_reports_count_toward_the_storage_quota(
        api, user, other_user, versions, tmp_path):
    """Reports are kept beside the version, outside its manifest: a user whose version alone leaves room
    for one more job is refused once the version's job report and its evaluation's are counted."""
    job = service.submit(user, "generate", SLOW)
    run = runner.JobRun(runner.claim(str(job.pk), "here:1"), "here:1")
    files, report = tmp_path / "version", tmp_path / "report"
    files.mkdir()
    report.mkdir()
    (files / "samples.txt").write_bytes(b"0:0\n" * 50)
    for kind, size in (("json", 300), ("html", 700), ("pdf", 1100)):
        (report / f"report.{kind}").write_bytes(b"r" * size)
    version = publish_with_report(run, report, samples=50, staging=files)
    assert (version.total_size, version.report_size) == (200, 2100)
    assert version.summary["report"] == {kind: f"{job.dataset.slug}/{job.pk}-report/report.{kind}"
                                         for kind in ("html", "json", "pdf")}
    _, reference = versions
    Evaluation.objects.create(version=version, reference=reference, report_size=4000)  # its job is gone
    # One a stranger ran counts for the stranger, as its estimate did while it was queued.
    theirs = Job.objects.create(type="evaluate", owner=other_user, state=Job.State.SUCCEEDED)
    Evaluation.objects.create(version=version, reference=reference, job=theirs, report_size=900)
    assert (limits.stored_bytes(user), limits.stored_bytes(other_user)) == (200 + 2100 + 4000, 900)

    size = SLOW_SPEC.estimate(registry.validate("test-slow", SLOW["params"])).output_bytes
    with override_settings(SYNTHREG_USER_STORAGE_BYTES=200 + size):  # room for the version's files alone
        response = api.post("/api/jobs/", {"type": "generate", "parameters": SLOW}, format="json")
        assert response.status_code == 403 and response.json()["used"] == 6300
    with override_settings(SYNTHREG_USER_STORAGE_BYTES=6300 + size):
        assert api.post("/api/jobs/", {"type": "generate", "parameters": SLOW}, format="json").status_code == 201


def test_queued_evaluations_count_their_report(user, versions):
    version, _ = versions
    with override_settings(SYNTHREG_USER_STORAGE_BYTES=2 * REPORT_BYTES):
        service.submit(user, "evaluate", {"version": version.pk})
        service.submit(user, "evaluate", {"version": version.pk})
        with pytest.raises(QuotaExceeded):
            service.submit(user, "evaluate", {"version": version.pk})
    assert PrivacySpend.objects.count() == 2


@override_settings(SYNTHREG_USER_ACTIVE_JOBS=0)
def test_an_automatic_evaluation_the_quota_refuses_is_logged_not_raised(versions, caplog):
    version, _ = versions
    queue_evaluation(version)
    assert not Job.objects.exists() and not PrivacySpend.objects.exists()
    assert "SYNTHREG_USER_ACTIVE_JOBS" in caplog.text


@override_settings(SYNTHREG_MAX_JOB_SAMPLES=100)
def test_the_portal_form_shows_a_limit_error_like_a_parameter_error(client, user):
    client.force_login(user)
    response = client.post("/jobs/new/", {"generator": "digits", "p.n": "101"})
    assert response.status_code == 400
    assert "SYNTHREG_MAX_JOB_SAMPLES" in response.content.decode()
    assert not Job.objects.exists() and not Dataset.objects.exists()


@override_settings(SYNTHREG_MAX_JOB_SAMPLES=100)
def test_the_command_line_refuses_with_the_limit(user):
    with pytest.raises(CommandError, match="SYNTHREG_MAX_JOB_SAMPLES"):
        call_command("submit", "generate", '{"generator": "digits", "params": {"n": 101}}', "--user", user.username,
                     "--no-follow")
    assert not Job.objects.exists()


@pytest.mark.django_db(transaction=True)
@override_settings(SYNTHREG_USER_ACTIVE_JOBS=1)
def test_two_submissions_at_once_cannot_both_take_the_last_place(user, monkeypatch):
    """The first holds its transaction open after its check until the second is done (or a second has
    passed): without the lock, the second counts before the first commits and gets in too."""
    first_checked, second_done = threading.Event(), threading.Event()
    real_check = limits.check_quotas
    outcomes: dict[str, object] = {}

    def check_and_hold(*args):
        real_check(*args)
        if threading.current_thread().name == "first":
            first_checked.set()
            second_done.wait(timeout=1.0)

    monkeypatch.setattr(limits, "check_quotas", check_and_hold)
    # Into an existing dataset: two first submissions racing to create one is another matter.
    Dataset.objects.create(slug="shared", title="s", modality="tabular", kind="synthetic", owner=user)

    def submit(name):
        try:
            outcomes[name] = service.submit(user, "generate", {**SLOW, "dataset": "shared"})
        except Exception as exc:  # recorded for the assertions below
            outcomes[name] = exc
        finally:
            if name == "second":
                second_done.set()
            connection.close()

    first = threading.Thread(target=submit, args=("first",), name="first")
    first.start()
    assert first_checked.wait(timeout=30)
    second = threading.Thread(target=submit, args=("second",), name="second")
    second.start()
    first.join(timeout=60)
    second.join(timeout=60)
    assert isinstance(outcomes["first"], Job)
    assert isinstance(outcomes["second"], QuotaExceeded), outcomes["second"]
    assert Job.objects.count() == 1

