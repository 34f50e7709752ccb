"""The `refine` and `adapt` jobs: a refined version and a model artifact with lineage and a report,
resumption after a killed worker, refusals that create nothing, reproducibility, and reports that
hold no real image."""

import io
import json
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from access.models import Grant
from catalog import storage
from catalog.models import Dataset, DatasetVersion, VersionParent
from catalog.publish import publish_version
from generators import adapt, refine
from generators.render.digits.renderer import render
from jobs import runner, service
from jobs.checkpoints import Checkpoint
from jobs.models import Job
from tests.conftest import wait_for
from tests.support.workers import kill_group

TINY = {"epochs": 2, "steps_per_epoch": 3, "batch_size": 16}
REAL = load_digits()
# Workers on a shared CI machine: one torch thread each, as the library's own tests run.
ONE_THREAD = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@pytest.fixture(autouse=True)
def _one_torch_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def publish_arrays(dataset: Dataset, key: str, **arrays) -> DatasetVersion:
    staging = Path(tempfile.mkdtemp())
    np.savez(staging / "digits.npz", **arrays)
    return publish_version(dataset=dataset, staging=staging, key=key, claim=lambda: None,
                           samples=len(arrays["images"]))


@pytest.fixture
def real(user, django_user_model):
    """The built-in digits reference as seeded: restricted, owned by another, granted to ``user``."""
    keeper = django_user_model.objects.create_user("keeper")
    dataset = Dataset.objects.create(slug="sklearn-digits", title="Digits", modality="image", format="images/1",
                                     kind="reference", access="restricted", owner=keeper)
    publish_arrays(dataset, "v1", images=REAL.images, labels=REAL.target.astype(np.int64))
    Grant.objects.create(dataset=dataset, user=user)
    return dataset


@pytest.fixture
def source(user, real):
    # No reference of its own: a worker would first evaluate it (the refined version is evaluated).
    images, labels = render({"n": 240, "seed": 5})
    dataset = Dataset.objects.create(slug="rendered", title="Rendered", modality="image", format="images/1",
                                     kind="synthetic", owner=user)
    return publish_arrays(dataset, "s1", images=images, labels=labels)


def job_params(job_type: str = "refine", **extra):
    method = "simgan" if job_type == "refine" else "coral"
    return {"method": method, "source": "rendered", "params": TINY, "classifier_params": TINY, **extra}


def version_arrays(version: DatasetVersion, path: str = "digits.npz") -> dict[str, np.ndarray]:
    with storage.open_version_file(version.storage_prefix, path) as fh, np.load(io.BytesIO(fh.read())) as npz:
        return {key: npz[key] for key in npz.files}


def images_in(value) -> list[np.ndarray]:
    """Every 8x8 array nested anywhere in a report's JSON."""
    if isinstance(value, dict):
        return [image for item in value.values() for image in images_in(item)]
    if isinstance(value, list):
        array = np.asarray(value, dtype=object)
        if array.shape == (8, 8):
            return [array.astype(float)]
        return [image for item in value for image in images_in(item)]
    return []


def assert_no_real_image(report: dict) -> None:
    real = REAL.images.reshape(len(REAL.images), -1)
    for image in images_in(report):
        assert np.abs(real - image.ravel()).max(axis=1).min() > 0, "a real digit is in the report"


def finished(job_id):
    job = Job.objects.get(pk=job_id)
    return job if job.finished else None


# ---- refusals: a clear 400 naming the field, and nothing created --------------------------------

@pytest.fixture
def unusable(django_user_model):
    other = django_user_model.objects.create_user("stranger-owner")
    dataset = Dataset.objects.create(slug="secret-digits", title="s", modality="image", format="images/1",
                                     kind="reference", access="restricted", owner=other)
    publish_arrays(dataset, "x", images=REAL.images[:50], labels=REAL.target[:50].astype(np.int64))


@pytest.fixture
def unlabelled(user):
    dataset = Dataset.objects.create(slug="no-labels", title="n", modality="image", kind="synthetic", owner=user)
    return publish_arrays(dataset, "n", images=render({"n": 20, "seed": 1})[0])


@pytest.fixture
def wide(user):
    dataset = Dataset.objects.create(slug="wide", title="w", modality="image", format="images/1",
                                     kind="synthetic", owner=user)
    return publish_arrays(dataset, "w", images=np.zeros((20, 16, 16)), labels=np.zeros(20, dtype=np.int64))


@pytest.mark.django_db
@pytest.mark.parametrize("job_type", ["refine", "adapt"])
@pytest.mark.parametrize(("change", "field", "words"), [
    ({"method": "no-such-method"}, "parameters.method", "no-such-method"),
    ({"params": {"epochs": 0}}, "parameters.params.epochs", "minimum"),
    ({"source": "no-labels"}, "parameters.source", "no label"),
    ({"source": "wide"}, "parameters.target", "must match"),
    ({"target": "secret-digits"}, "parameters.target", "no dataset 'secret-digits' you can use"),
])
def test_bad_parameters_get_a_400_naming_the_field_and_create_nothing(
        api, source, unusable, unlabelled, wide, job_type, change, field, words):
    datasets = Dataset.objects.count()
    response = api.post("/api/jobs/", {"type": job_type, "parameters": job_params(job_type, **change)}, format="json")
    assert response.status_code == 400, response.content
    assert field in json.dumps(response.json()) and words in json.dumps(response.json())
    assert not Job.objects.exists() and Dataset.objects.count() == datasets


# ---- in-process runs -----------------------------------------------------------------------------

@pytest.mark.django_db
def test_a_refine_run_is_reproducible_by_seed_on_cpu(user, source):
    job = service.submit(user, "refine", job_params(method="cyclegan", seed=3))
    runner.execute(str(job.pk))
    job.refresh_from_db()
    assert job.state == "succeeded", job.error
    version = DatasetVersion.objects.get(job=job)
    published = version_arrays(version)["images"]
    # A CycleGAN's reverse map is scored too: the source-only CNN on real test images mapped back.
    with storage.open_version_file(*version.summary["report"]["json"].rsplit("/", 1)) as fh:
        rows = [row["name"] for row in json.loads(fh.read())["results"]["rows"]]
    assert rows == ["source-only", "cyclegan (TSTR)", "source-only on reverse-mapped real test",
                    "target-only (oracle)"]
    # The job's output is the library's, refitted apart from the job with the same seed.
    arrays = version_arrays(source)
    pool = adapt.TargetProtocol(REAL.images, REAL.target).pool()
    params = job.parameters
    for seed, same in ((3, True), (4, False)):
        again = refine.fit("cyclegan", arrays["images"], arrays["labels"], pool, params["params"], seed)
        assert np.array_equal(again.refined.transform(arrays["images"], seed=seed), published) is same


@pytest.mark.django_db
def test_no_fit_of_a_job_is_handed_a_test_index(user, source, monkeypatch):
    protocols = []
    original = adapt.TargetProtocol.__post_init__

    def record(self) -> None:
        original(self)
        protocols.append(self)

    monkeypatch.setattr(adapt.TargetProtocol, "__post_init__", record)
    messages = []
    progress = runner.JobRun.progress
    monkeypatch.setattr(runner.JobRun, "PROGRESS_INTERVAL", 0.0)
    monkeypatch.setattr(runner.JobRun, "progress", lambda self, f, m="": (messages.append(m), progress(self, f, m)))
    job = service.submit(user, "adapt", job_params("adapt"))
    runner.execute(str(job.pk))
    assert Job.objects.get(pk=job.pk).state == "succeeded"
    # Progress names the fit, the epoch and its losses.
    for fit in ("coral", "source_only", "target_only"):
        assert any(m.startswith(f"{fit} epoch 2/2: loss_class ") for m in messages), messages
    (protocol,) = protocols
    assert protocol.training_indices() == set(protocol.dev.tolist())
    assert not protocol.training_indices() & set(protocol.test.tolist())
    assert {purpose for purpose, _ in protocol.handed_out} == {"pool", "oracle", "evaluate"}


# ---- real workers on real Redis ------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_refine_job_publishes_a_refined_version_with_its_parents_labels_lineage_and_report(
        redis_broker, api, client, user, source, real, start_worker):
    worker = start_worker(redis_broker, env=ONE_THREAD)
    response = api.post("/api/jobs/", {"type": "refine", "parameters": job_params()}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["queue"] == "gpu"  # a CPU-only worker (-Q cpu,gpu) runs it on the CPU
    job = wait_for(lambda: finished(response.json()["id"]), message="the refine job to finish")
    assert job.state == Job.State.SUCCEEDED, job.error

    version = DatasetVersion.objects.get(job=job)
    assert version.dataset.kind == "synthetic" and version.dataset.access == "private"
    assert {(p.parent_id, p.relation) for p in version.parent_links.all()} == {
        (source.pk, VersionParent.Relation.REFINED_FROM), (real.latest_ready_version().pk, VersionParent.Relation.FITTED_ON)}
    refined, parent = version_arrays(version), version_arrays(source)
    assert np.array_equal(refined["labels"], parent["labels"]) and refined["labels"].dtype == parent["labels"].dtype
    assert refined["images"].shape == parent["images"].shape and not np.array_equal(refined["images"], parent["images"])
    # Evaluated automatically, like any new version.
    assert Job.objects.filter(type="evaluate", parameters__version=version.pk).exists()

    prefix, _, _ = version.summary["report"]["json"].rpartition("/")
    with storage.open_version_file(prefix, "report.json") as fh:
        report = json.loads(fh.read())
    rows = {row["name"]: row for row in report["results"]["rows"]}
    assert set(rows) == {"source-only", "simgan (TSTR)", "target-only (oracle)"}
    assert report["results"]["gap_closed"] == rows["simgan (TSTR)"]["gap_closed"]
    assert all("best_on_test" in row and row["selected_epoch"] == 2 for row in rows.values())
    assert [row["epoch"] for row in report["history"]["refiner"]] == [1, 2]
    # The grid shows the source's own images beside the published refined ones, and nothing real.
    samples = report["samples"]
    assert np.array_equal(samples["synthetic"], parent["images"][:8])
    assert np.allclose(samples["refined"], refined["images"][:8])
    assert samples["labels"] == parent["labels"][:8].tolist()
    assert_no_real_image(report)

    html = api.get(f"/api/versions/{version.pk}/job-report.html")
    assert html.status_code == 200 and b"gap closed" in b"".join(html.streaming_content).lower()
    pdf = api.get(f"/api/versions/{version.pk}/job-report.pdf")
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")
    client.force_login(user)
    page = client.get(f"/versions/{version.pk}/")
    assert f"/api/versions/{version.pk}/job-report.html".encode() in page.content
    # The lineage graph shows what it was refined from and fitted on.
    assert b"rendered v1" in page.content and b"refined-from" in page.content and b"fitted-on" in page.content
    kill_group(worker)  # its evaluation is left undone: no need to wait for it


@pytest.mark.django_db(transaction=True)
def test_a_killed_adapt_job_resumes_from_its_checkpoint_and_publishes_a_model(
        redis_broker, api, client, user, source, real, start_worker, other_user):
    worker = start_worker(redis_broker, env=ONE_THREAD)
    slow = {"epochs": 3, "steps_per_epoch": 40, "batch_size": 32}
    job = service.submit(user, "adapt", job_params("adapt", params=slow, baselines=False))
    state = Checkpoint(job).folder / "method" / "checkpoint.json"
    # Killed once the first epoch is saved: two epochs, the scoring and the report are still to come.
    wait_for(state.exists, message="the first epoch's checkpoint")
    assert Job.objects.get(pk=job.pk).state == "running"
    kill_group(worker)  # SIGKILL the worker and its pool mid-run
    worker = start_worker(redis_broker, env=ONE_THREAD)

    job = wait_for(lambda: finished(job.pk), message="the resumed job to finish")
    assert job.state == Job.State.SUCCEEDED, job.error
    assert job.attempts == 2
    version = DatasetVersion.objects.get(job=job)
    assert 1 <= version.summary["resumed"]["method"] < 3  # not from scratch
    # Removed by the delivery once the job has ended, just after it turned succeeded.
    wait_for(lambda: not Checkpoint(job).folder.exists(), message="the ended job's checkpoint to be removed")
    kill_group(worker)  # done with it: no warm shutdown to wait for

    assert version.dataset.kind == "model" and version.dataset.access == "private"
    assert version.dataset.format == "model/1"
    assert {(p.parent_id, p.relation) for p in version.parent_links.all()} == {
        (source.pk, VersionParent.Relation.FITTED_ON), (real.latest_ready_version().pk, VersionParent.Relation.TUNED_ON)}
    folder = Path(tempfile.mkdtemp())
    for entry in api.get(f"/api/versions/{version.pk}/").json()["files"]:
        download = api.get(entry["download"])
        assert download.status_code == 200
        (folder / entry["path"]).write_bytes(b"".join(download.streaming_content))
    model = adapt.load_model(folder)  # safetensors and JSON only
    card = model.card
    assert card["method"] == "coral" and card["data"]["source_version"] == source.pk
    assert card["data"]["target_version"] == real.latest_ready_version().pk
    assert card["protocol"]["test_use"].startswith("labelled; scored once")
    assert card["results"]["gap_closed"] is None  # baselines off
    assert [row["relation"] for row in card["lineage"]] == ["fitted-on", "tuned-on"]
    # The stored model is the reported one: it scores what the report says on the test half.
    protocol = adapt.TargetProtocol(REAL.images, REAL.target)
    assert protocol.evaluate(model.predict) == card["results"]["rows"][0]["test_accuracy"]

    # In the catalog, with its lineage; private to its owner.
    assert version.dataset.slug.encode() in api.get("/api/datasets/").content
    client.force_login(user)
    page = client.get(f"/versions/{version.pk}/")
    assert b"rendered v1" in page.content and b"tuned-on" in page.content
    api.force_authenticate(other_user)
    assert api.get(f"/api/versions/{version.pk}/").status_code == 404
