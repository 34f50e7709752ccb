"""Uploads of real data through the API: tables and image archives become reference versions,
the schema is inferred and overridable, and a chunked upload resumes to the exact bytes."""

import hashlib
import io
import os
import time
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from catalog import storage
from catalog.models import Dataset, UploadSession
from catalog.uploads import sessions
from tests.support.uploads import csv_table, npz, png_tar, png_zip

pytestmark = pytest.mark.django_db


@pytest.fixture
def user(django_user_model):
    """Alice without a password: hashing one costs about a second a test, and no test here logs in."""
    return django_user_model.objects.create_user("alice")


def multipart(api, name: str, data: bytes, **fields):
    return api.post("/api/uploads/", {"file": _named(name, data), **fields}, format="multipart")


def _named(name: str, data: bytes) -> io.BytesIO:
    fh = io.BytesIO(data)
    fh.name = name
    return fh


def stored_frame(version) -> pd.DataFrame:
    with storage.open_version_file(version.storage_prefix, "data.parquet") as fh:
        return pd.read_parquet(fh)


def test_a_csv_becomes_a_restricted_parquet_reference_with_its_schema(api, user):
    response = multipart(api, "people.csv", csv_table(), slug="people", epsilon_budget="3",
                         privacy_thresholds='{"dcr_share": 0.6}')
    assert response.status_code == 201, response.json()
    body = response.json()
    dataset = Dataset.objects.get(slug="people")
    assert (dataset.kind, dataset.access, dataset.format, dataset.owner) == ("reference", "restricted", "table/1", user)
    assert dataset.epsilon_budget == 3.0 and dataset.privacy_thresholds == {"dcr_share": 0.6}
    schema = {c["name"]: c for c in body["summary"]["schema"]}
    assert {n: c["type"] for n, c in schema.items()} == {
        "person_id": "categorical", "age": "numeric", "income": "numeric", "city": "categorical",
        "smoker": "boolean", "visited": "datetime"}
    assert schema["person_id"]["identifier"] and not schema["age"]["identifier"]
    assert schema["income"]["missing"] == 1
    version = dataset.versions.get()
    assert [f["path"] for f in version.manifest["files"]] == ["data.parquet"] and version.samples == 60
    frame = stored_frame(version)
    assert str(frame["smoker"].dtype) == "bool" or frame["smoker"].dtype.name == "boolean"
    assert pd.api.types.is_datetime64_any_dtype(frame["visited"]) and frame["age"].sum() == sum(
        20 + i % 50 for i in range(60))
    assert body["summary"]["upload"]["sha256"] == hashlib.sha256(csv_table()).hexdigest()


def test_check_only_answers_the_schema_and_writes_nothing(api):
    response = multipart(api, "people.csv", csv_table(), check="true")
    assert response.status_code == 200
    assert [c["name"] for c in response.json()["columns"]][:2] == ["person_id", "age"]
    assert not Dataset.objects.exists()


def test_the_owner_overrides_column_types_and_drops_columns(api):
    columns = '{"age": "categorical", "person_id": "drop", "smoker": {"type": "categorical"}}'
    response = multipart(api, "people.csv", csv_table(), slug="people", access="private", columns=columns)
    assert response.status_code == 201, response.json()
    version = Dataset.objects.get(slug="people").versions.get()
    frame = stored_frame(version)
    assert "person_id" not in frame and not pd.api.types.is_numeric_dtype(frame["age"])
    assert not pd.api.types.is_bool_dtype(frame["smoker"])
    assert Dataset.objects.get(slug="people").access == "private"


@pytest.mark.parametrize("columns, field", [
    ('{"nope": "numeric"}', "columns.nope"), ('{"city": "numeric"}', "columns.city"),
    ('{"age": "float"}', "columns.age"), ("[1]", "columns"), ("{", "columns")])
def test_a_bad_override_names_the_column_and_writes_nothing(api, columns, field):
    response = multipart(api, "people.csv", csv_table(), slug="people", columns=columns)
    assert response.status_code == 400 and field in response.json(), response.json()
    assert not Dataset.objects.exists()
    assert not any(settings.SYNTHREG_STAGING_DIR.glob("upload-*"))


@pytest.mark.parametrize("fields, field", [
    ({"slug": "Bad Slug"}, "slug"), ({"slug": "x", "access": "public"}, "access"),
    ({"slug": "x", "epsilon_budget": "lots"}, "epsilon_budget"),
    ({"slug": "x", "privacy_thresholds": '{"dcr": "high"}'}, "privacy_thresholds.dcr")])
def test_bad_registration_fields_are_named(api, fields, field):
    response = multipart(api, "people.csv", csv_table(), **fields)
    assert response.status_code == 400 and field in response.json(), response.json()


def test_a_taken_slug_is_refused(api, user):
    assert multipart(api, "a.csv", csv_table(), slug="people").status_code == 201
    response = multipart(api, "a.csv", csv_table(), slug="people")
    assert response.status_code == 400 and "exists already" in response.json()["slug"][0]


@pytest.mark.parametrize("name, data, shape, classes", [
    ("pets.zip", png_zip(), [8, 8], ["cat", "dog"]), ("pets.tar.gz", png_tar(), [8, 8], [0, 1]),
    ("pets.npz", npz(), [8, 8], [0, 1]),
])
def test_image_archives_become_images_1(api, name, data, shape, classes):
    response = multipart(api, name, data, slug="pets")
    assert response.status_code == 201, response.json()
    dataset = Dataset.objects.get(slug="pets")
    assert (dataset.format, dataset.modality, dataset.access) == ("images/1", "image", "restricted")
    summary = response.json()["summary"]
    assert summary["shape"] == shape and summary["classes"] == classes
    version = dataset.versions.get()
    with storage.open_version_file(version.storage_prefix, "images.npz") as fh:
        arrays = np.load(io.BytesIO(fh.read()), allow_pickle=False)
        assert arrays["images"].shape[0] == arrays["labels"].shape[0] == version.samples
    if name.endswith(".zip"):  # image i is all 10 * i; labels alternate dog (1), cat (0)
        assert [int(image.max()) for image in arrays["images"]] == [0, 10, 20, 30, 40, 50]
        assert arrays["labels"].tolist() == [1, 0, 1, 0, 1, 0]


def start(api, data: bytes, filename: str = "people.csv") -> dict:
    response = api.post("/api/upload-sessions/", {"filename": filename, "size": len(data)}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def put(client, url: str, chunk: bytes, first: int, total: int):
    return client.generic("PUT", url, chunk, content_type="application/octet-stream",
                          HTTP_CONTENT_RANGE=f"bytes {first}-{first + len(chunk) - 1}/{total}")


def test_an_interrupted_chunked_upload_resumes_to_the_exact_bytes(api, user):
    data = csv_table(rows=400)
    session = start(api, data)
    url, total, chunk = session["url"], len(data), 1000
    assert put(api, url, data[:chunk], 0, total).status_code == 200
    # The connection drops mid-chunk: the body that arrived is shorter than its Content-Range says.
    broken = api.generic("PUT", url, data[chunk:chunk + 300], content_type="application/octet-stream",
                         HTTP_CONTENT_RANGE=f"bytes {chunk}-{2 * chunk - 1}/{total}")
    assert broken.status_code == 400 and "Content-Range" in broken.json()
    # A new client (the old one is gone) learns the offset, and a chunk sent from elsewhere is refused.
    resumed = APIClient()
    resumed.force_authenticate(user)
    head = resumed.head(url)
    assert head.status_code == 200 and head["Upload-Offset"] == str(chunk)
    ahead = put(resumed, url, data[2 * chunk:3 * chunk], 2 * chunk, total)
    assert ahead.status_code == 409 and ahead["Upload-Offset"] == str(chunk)
    offset = int(head["Upload-Offset"])
    while offset < total:
        response = put(resumed, url, data[offset:offset + chunk], offset, total)
        assert response.status_code == 200, response.json()
        offset = response.json()["offset"]
    part = sessions.path_of(UploadSession.objects.get())
    assert hashlib.sha256(part.read_bytes()).hexdigest() == hashlib.sha256(data).hexdigest()
    checked = resumed.post(f"{url}check/")
    assert checked.status_code == 200 and checked.json()["sha256"] == hashlib.sha256(data).hexdigest()
    finished = resumed.post(f"{url}finish/", {"slug": "people", "columns": {"person_id": "drop"}}, format="json")
    assert finished.status_code == 201, finished.json()
    assert finished.json()["summary"]["upload"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert len(stored_frame(Dataset.objects.get(slug="people").versions.get())) == 400
    assert not part.exists() and UploadSession.objects.get().state == "done"


def test_a_session_is_its_owners_and_has_caps(api, other_user, settings):
    data = csv_table()
    url = start(api, data)["url"]
    stranger = APIClient()
    stranger.force_authenticate(other_user)
    assert stranger.get(url).status_code == 404
    assert put(stranger, url, data, 0, len(data)).status_code == 404
    assert stranger.post(f"{url}finish/", {"slug": "mine"}, format="json").status_code == 404
    assert api.post(f"{url}finish/", {"slug": "mine"}, format="json").status_code == 409  # bytes missing
    settings.SYNTHREG_UPLOAD_MAX_BYTES = 100
    too_big = api.post("/api/upload-sessions/", {"filename": "a.csv", "size": 101}, format="json")
    assert too_big.status_code == 413 and "SYNTHREG_UPLOAD_MAX_BYTES" in too_big.json()["size"][0]
    bad = api.post("/api/upload-sessions/", {"filename": "a.pkl", "size": 10}, format="json")
    assert bad.status_code == 400 and "never loaded" in bad.json()["filename"][0]


def test_uploads_count_toward_the_storage_quota(api, settings):
    data = csv_table()
    start(api, data)  # an open upload holds its room
    settings.SYNTHREG_USER_STORAGE_BYTES = len(data) + 10
    refused = api.post("/api/upload-sessions/", {"filename": "a.csv", "size": len(data)}, format="json")
    assert refused.status_code == 403 and "SYNTHREG_USER_STORAGE_BYTES" in refused.json()["quota"][0]
    assert multipart(api, "a.csv", data, slug="fits").status_code == 201  # nothing stored yet: it fits
    whole = multipart(api, "b.csv", data, slug="too-much")
    assert whole.status_code == 403 and not Dataset.objects.filter(slug="too-much").exists()


def test_an_expired_session_is_gone_with_its_bytes(api):
    data = csv_table()
    url = start(api, data)["url"]
    session = UploadSession.objects.get()
    assert put(api, url, data[:100], 0, len(data)).status_code == 200
    UploadSession.objects.filter(pk=session.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert put(api, url, data[100:200], 100, len(data)).status_code == 410
    assert not sessions.path_of(session).exists()
    start(api, data)  # a new session sweeps expired rows away
    assert not UploadSession.objects.filter(pk=session.pk).exists()


def test_refused_sessions_lose_their_bytes_at_once_and_their_rows_at_the_first_sweep_after_expiry(
        api, redis_broker, settings):
    from jobs.sweep import Sweeper

    png = b"\x89PNG\r\n\x1a\n" + b"x" * 200  # not a table, whatever its name says
    bad = start(api, png)["url"]
    assert put(api, bad, png, 0, len(png)).status_code == 200
    assert api.post(f"{bad}check/").status_code == 400  # refused for its bytes: they go now
    data = csv_table()
    taken = start(api, data)["url"]
    assert put(api, taken, data, 0, len(data)).status_code == 200
    assert multipart(api, "p.csv", data, slug="people").status_code == 201
    assert api.post(f"{taken}finish/", {"slug": "people"}, format="json").status_code == 400
    refused, retryable = UploadSession.objects.order_by("created_at")
    assert (refused.state, sessions.path_of(refused).exists()) == ("failed", False) and "file" in refused.error
    assert (retryable.state, sessions.path_of(retryable).exists()) == ("open", True)  # kept to try another slug
    # A partial file whose row is gone (dropped by another host's sweep): removed once older than a session lives.
    stray = sessions.path_of(UploadSession(pk="00000000-0000-0000-0000-000000000001"))
    stray.write_bytes(b"left")
    assert Sweeper().sweep().expired_uploads == 0  # nothing expired yet: rows and bytes stay
    assert UploadSession.objects.count() == 2 and sessions.path_of(retryable).exists() and stray.exists()

    UploadSession.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    old = time.time() - settings.SYNTHREG_UPLOAD_SESSION_SECONDS - 1
    os.utime(stray, (old, old))
    assert Sweeper().sweep().expired_uploads == 2
    assert not UploadSession.objects.exists()
    assert not sessions.path_of(retryable).exists() and not stray.exists()


def test_abandoning_removes_the_bytes(api):
    data = csv_table()
    url = start(api, data)["url"]
    put(api, url, data[:100], 0, len(data))
    assert api.delete(url).status_code == 204
    assert not sessions.path_of(UploadSession.objects.get()).exists()


def test_the_upload_command_registers_a_file(tmp_path, user):
    path = tmp_path / "people.csv"
    path.write_bytes(csv_table())
    out = io.StringIO()
    call_command("upload", str(path), "--slug", "people", "--owner", user.username, "--epsilon-budget", "2",
                 "--chunk-bytes", "500", stdout=out, stderr=io.StringIO())
    dataset = Dataset.objects.get(slug="people")
    assert (dataset.access, dataset.epsilon_budget) == ("restricted", 2.0)
    assert "person_id" in out.getvalue() and "identifier" in out.getvalue()
