"""Access checks generated for every view: a new route without an entry here fails this test.

Alice owns a private synthetic dataset (with a version, an evaluation and a job) evaluated
against a restricted reference. Anonymous visitors and Bob must see none of it anywhere.
"""

import io

import pytest
from django.urls import URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from access.models import AccessRequest
from catalog.models import Dataset, DatasetVersion, Evaluation
from catalog.presets import register_preset
from catalog.uploads import sessions
from catalog.uploads.register import Registration, register
from jobs import service
from tests.platform.test_evaluate_job import noise_table, publish_table
from tests.support.uploads import csv_table

SECRET_CELL = "alice-real-cell-8271"


def uploaded_file():
    return io.BytesIO(csv_table(secret=SECRET_CELL))

pytestmark = pytest.mark.django_db

PUBLIC_VIEWS = {"api:token", "api:api-root", "api:schema", "api:docs", "api:redoc", "api:generator-list",
                "api:generator-detail", "portal:home", "api:dataset-list", "api:version-list",
                "api:evaluation-list", "api:job-list", "portal:jobs", "portal:job-new", "portal:datasets",
                "portal:generators", "portal:generator", "portal:upload", "api:generator-presets"}
WRITE_VIEWS = {"api:token": "post", "api:job-cancel": "post", "portal:job-cancel": "post",
               "portal:version-evaluate": "post", "api:generator-generate": "post",
               "portal:access-request-submit": "post", "portal:access-decide": "post",
               "api:upload": "post", "api:upload-sessions": "post", "api:upload-session": "put",
               "api:upload-session-check": "post", "api:upload-session-finish": "post",
               "api:dataset-publish": "post", "api:version-override": "post", "portal:dataset-publish": "post",
               "portal:version-override": "post"}
# Anyone logged in may start an upload of their own: an empty one is refused (400), naming the field.
OPEN_WRITES = {"api:generator-generate": (201, 401, 403), "api:upload": (400, 401, 403),
               "api:upload-sessions": (400, 401, 403)}


def route_names() -> set[str]:
    def walk(patterns, namespace=None):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, pattern.namespace or namespace)
            elif namespace in ("api", "portal"):
                yield f"{namespace}:{pattern.name}"
    return set(walk(get_resolver().url_patterns))


@pytest.fixture
def private_world(user, django_user_model):
    keeper = django_user_model.objects.create_user("keeper")
    reference = Dataset.objects.create(slug="hidden-real", title="Hidden real", modality="tabular",
                                       kind="reference", access="restricted", owner=keeper)
    real_version = publish_table(reference, noise_table(), "v1")
    dataset = Dataset.objects.create(slug="alice-secret", title="Alice secret", modality="tabular",
                                     kind="synthetic", access="private", owner=user, reference=reference)
    version = publish_table(dataset, noise_table(seed=3), "v1")
    # A job report (refine, adapt) beside it, as its owner would read it.
    DatasetVersion.objects.filter(pk=version.pk).update(summary={"report": {"html": "alice-secret/v1/data.parquet"}})
    evaluation = Evaluation.objects.create(version=version, reference=real_version, results={"x": 1},
                                           report_files={"html": "alice-secret/v1/data.parquet"})
    job = service.submit(user, "generate", {"generator": "digits", "dataset": "alice-secret-2"})
    # Alice's own real data, uploaded restricted, and an upload of hers still open.
    uploaded = register(user, Registration(slug="alice-uploaded"), uploaded_file(), "people.csv", "table/1")
    upload_session = sessions.create(user, "more.csv", 100, "table/1")
    asked = AccessRequest.objects.create(dataset=reference, user=user)
    register_preset("digits", "alice-secret-sevens", {"classes": [1, 7]}, user)  # private: hers alone
    return {
        "api:version-file": {"pk": version.pk, "path": "data.parquet"},
        "api:version-archive": {"pk": version.pk},
        "api:version-format": {"pk": version.pk, "name": "parquet"},
        "api:version-webdataset-shard": {"pk": version.pk, "name": "alice-secret-v1-000000.tar"},
        "api:evaluation-report": {"pk": evaluation.pk, "kind": "html"},
        "api:version-job-report": {"pk": version.pk, "kind": "html"},
        "api:dataset-detail": {"slug": dataset.slug},
        "api:dataset-leaderboard": {"slug": reference.slug},
        "api:dataset-versions": {"slug": dataset.slug},
        "api:dataset-publish": {"slug": dataset.slug},
        "api:dataset-ledger": {"slug": reference.slug},
        "api:dataset-audit": {"slug": dataset.slug},
        "api:version-override": {"pk": version.pk},
        "portal:dataset-publish": {"slug": dataset.slug},
        "portal:version-override": {"pk": version.pk},
        "api:version-detail": {"pk": version.pk},
        "api:generator-detail": {"slug": "digits"},
        "api:generator-generate": {"slug": "digits"},
        "api:generator-presets": {"slug": "digits"},
        "api:job-detail": {"pk": job.pk},
        "api:job-cancel": {"pk": job.pk},
        "api:evaluation-detail": {"pk": evaluation.pk},
        "portal:dataset": {"slug": dataset.slug},
        "portal:evaluation": {"pk": evaluation.pk},
        "portal:job": {"pk": job.pk},
        "portal:job-new-type": {"job_type": "evaluate"},
        "portal:job-progress": {"pk": job.pk},
        "portal:job-cancel": {"pk": job.pk},
        "portal:version-evaluate": {"pk": version.pk},
        "portal:version": {"pk": version.pk},
        "portal:version-samples": {"pk": version.pk},
        "portal:version-sample-layer": {"pk": version.pk, "index": 0, "layer": "image"},
        "portal:version-report-status": {"pk": version.pk},
        "portal:version-compare": {"pk": version.pk, "other": real_version.pk},
        "portal:access-request": {"slug": dataset.slug},
        "portal:access-request-submit": {"slug": reference.slug},
        "portal:access-decide": {"pk": asked.pk},
        "portal:generator": {"slug": "digits"},
        "api:upload-session": {"pk": upload_session.pk},
        "api:upload-session-check": {"pk": upload_session.pk},
        "api:upload-session-finish": {"pk": upload_session.pk},
        "uploaded": uploaded,
        "secrets": ["alice-secret", "hidden-real", str(job.pk), str(version.pk) + "/files", "alice-uploaded",
                    str(upload_session.pk), SECRET_CELL, str(uploaded.pk) + "/files"],
    }


def test_every_route_is_covered_here(private_world):
    covered = set(private_world) | PUBLIC_VIEWS | set(OPEN_WRITES)
    assert route_names() - covered == set(), "add the new view to this test's table"


@pytest.mark.parametrize("who", ["anonymous", "stranger"])
def test_no_view_shows_alice_private_or_restricted_things(who, private_world, other_user):
    client = APIClient()
    if who == "stranger":
        client.force_authenticate(other_user)
    for name in sorted(route_names()):
        if name in ("api:api-root",) or name.endswith("format"):
            continue
        kwargs = private_world.get(name, {})
        url = reverse(name, kwargs=kwargs)
        response = getattr(client, WRITE_VIEWS.get(name, "get"))(url)
        if name in PUBLIC_VIEWS or name in OPEN_WRITES:
            body = b"".join(response.streaming_content) if response.streaming else response.content
            for secret in private_world["secrets"]:
                assert secret.encode() not in body, f"{name} shows {secret} to {who}"
            if name in OPEN_WRITES:
                assert response.status_code in OPEN_WRITES[name], name
        else:
            assert response.status_code in (302, 401, 403, 404), f"{name} answered {response.status_code} to {who}"
