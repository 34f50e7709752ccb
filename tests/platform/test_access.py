"""The access policy as every route applies it."""

import shutil
import tempfile
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from access.models import Grant
from catalog import storage
from catalog.models import Dataset
from catalog.publish import publish_version

pytestmark = pytest.mark.django_db


def make_dataset(owner, slug, access, kind="synthetic"):
    dataset = Dataset.objects.create(slug=slug, title=slug, modality="tabular", kind=kind, access=access, owner=owner)
    staging = Path(tempfile.mkdtemp())
    (staging / "data.csv").write_text("a,b\n1,2\n")
    try:
        version = publish_version(dataset=dataset, staging=staging, key=f"k-{slug}", claim=lambda: None, samples=1)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return dataset, version


def client_for(user=None):
    client = APIClient()
    if user:
        client.force_authenticate(user)
    return client


def test_private_datasets_are_invisible_to_others(user, other_user):
    dataset, version = make_dataset(user, "alice-private", "private")
    stranger = client_for(other_user)
    assert "alice-private" not in [d["slug"] for d in stranger.get("/api/datasets/").json()["results"]]
    assert stranger.get("/api/datasets/alice-private/").status_code == 404
    assert stranger.get(f"/api/versions/{version.pk}/files/data.csv").status_code == 404
    assert client_for(user).get(f"/api/versions/{version.pk}/files/data.csv").status_code == 200
    Grant.objects.create(dataset=dataset, user=other_user)
    assert stranger.get(f"/api/versions/{version.pk}/files/data.csv").status_code == 200


def test_public_datasets_are_downloadable_by_anyone(user):
    _, version = make_dataset(user, "open", "public")
    anonymous = client_for()
    assert anonymous.get("/api/datasets/open/").status_code == 200
    assert anonymous.get(f"/api/versions/{version.pk}/files/data.csv").status_code == 200


def test_restricted_content_never_leaves_even_for_its_owner(user, admin_user):
    _, version = make_dataset(user, "real", "restricted", kind="reference")
    for who in (user, admin_user):
        client = client_for(who)
        body = client.get(f"/api/versions/{version.pk}/").json()
        assert body["files"][0]["path"] == "data.csv" and "download" not in body["files"][0]
        response = client.get(f"/api/versions/{version.pk}/files/data.csv")
        assert response.status_code == 403
        assert "never downloaded" in response.json()["detail"]
    assert client_for().get("/api/datasets/real/").status_code == 404


def test_only_manifest_paths_are_served(user):
    _, version = make_dataset(user, "paths", "public")
    client = client_for(user)
    for path in ["../../../etc/passwd", "manifest.json", "data.csv/../data.csv", "nope.csv"]:
        assert client.get(f"/api/versions/{version.pk}/files/{path}").status_code == 404


def test_jobs_are_visible_to_their_owner_only(api, other_user):
    job_id = api.post("/api/generators/digits/generate/", {}, format="json").json()["id"]
    assert api.get(f"/api/jobs/{job_id}/").status_code == 200
    assert client_for(other_user).get(f"/api/jobs/{job_id}/").status_code == 404
    assert client_for(other_user).post(f"/api/jobs/{job_id}/cancel/").status_code == 404


def test_a_whole_version_streams_as_a_zip_matching_its_manifest(user):
    import hashlib
    import io
    import zipfile

    _, version = make_dataset(user, "zipped", "public")
    client = client_for(user)
    body = client.get(f"/api/versions/{version.pk}/").json()
    response = client.get(body["archive"])
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert archive.testzip() is None
    for entry in version.manifest["files"]:
        assert hashlib.sha256(archive.read(entry["path"])).hexdigest() == entry["sha256"]
    assert "manifest.json" in archive.namelist()


def test_restricted_versions_have_no_archive(user):
    _, version = make_dataset(user, "real-zip", "restricted", kind="reference")
    client = client_for(user)
    assert client.get(f"/api/versions/{version.pk}/").json()["archive"] is None
    assert client.get(f"/api/versions/{version.pk}/archive.zip").status_code == 403


def test_a_file_missing_from_storage_is_a_clear_404(user):
    _, version = make_dataset(user, "damaged", "public")
    Path(storage.dataset_storage().path(f"{version.storage_prefix}/data.csv")).unlink()
    response = client_for(user).get(f"/api/versions/{version.pk}/files/data.csv")
    assert response.status_code == 404
    assert "missing from storage" in response.json()["detail"]
