"""Hostile uploads are refused with a 4xx naming the problem, memory stays flat, nothing is written.

Each case of ``tests.support.uploads.HOSTILE``: absolute paths, ``..``, links, devices, more than
10,000 members, more than 1 GiB declared (a 42 kB zip declaring 4 GiB among them), members that
expand past what they declare, an extension that does not match the content, pickles and torch
files. Time is measured in benchmarks/uploads.py, not here.
"""

import io
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from django.conf import settings

from access.models import AuditEvent
from catalog.models import Dataset, DatasetVersion, UploadSession
from catalog.uploads import sessions
from tests.platform.test_uploads import multipart, put, start
from tests.support.uploads import HOSTILE, overlap_bomb

pytestmark = pytest.mark.django_db
MEMORY_LIMIT = 50 * 2**20


@pytest.fixture
def user(django_user_model):
    """Alice without a password: hashing one costs about a second a test, and no test here logs in."""
    return django_user_model.objects.create_user("alice")


def written() -> dict:
    """Every file where an upload could leave one, and every row it could make."""
    roots = (settings.MEDIA_ROOT, settings.SYNTHREG_STAGING_DIR, settings.SYNTHREG_UPLOAD_DIR)
    files = {str(p) for root in roots if Path(root).exists() for p in Path(root).rglob("*")}
    return {"files": files, "datasets": Dataset.objects.count(), "versions": DatasetVersion.objects.count(),
            "audit": AuditEvent.objects.count()}


@pytest.mark.parametrize("case, filename, format, make, words", HOSTILE, ids=[case[0] for case in HOSTILE])
def test_a_hostile_upload_is_refused_with_flat_memory_and_nothing_written(api, case, filename, format, make, words):
    data = make()
    before = written()
    tracemalloc.start()
    try:
        response = multipart(api, filename, data, slug="hostile", format=format)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    body = response.json()
    assert response.status_code in (400, 413), (case, body)
    assert "file" in body or "format" in body, body
    assert words in body["detail"], body["detail"]
    assert peak < MEMORY_LIMIT, f"{case}: {peak / 2**20:.1f} MB"
    assert written() == before


def test_the_42_kB_bomb_declares_gigabytes():
    data = overlap_bomb()
    assert len(data) < 50_000
    declared = sum(info.file_size for info in zipfile.ZipFile(io.BytesIO(data)).infolist())
    assert declared > 3 * 2**30  # what zipfile itself reads from it


@pytest.mark.parametrize("case", ["overlap-bomb-42kB", "symlink-tar", "object-npz"])
def test_a_hostile_chunked_upload_is_refused_and_its_bytes_removed(api, case):
    _, filename, format, make, words = next(h for h in HOSTILE if h[0] == case)
    data = make()
    before = written()
    url = start(api, data, filename)["url"]
    assert put(api, url, data, 0, len(data)).status_code == 200
    session = UploadSession.objects.get()
    assert sessions.path_of(session).exists()
    tracemalloc.start()
    try:
        response = api.post(f"{url}finish/", {"slug": "hostile"}, format="json")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code in (400, 413) and words in response.json()["detail"]
    assert peak < MEMORY_LIMIT
    assert not sessions.path_of(session).exists()
    assert api.get(url).json()["state"] == "failed"
    assert written()["files"] == before["files"] and written()["datasets"] == 0
