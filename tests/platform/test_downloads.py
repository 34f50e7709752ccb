"""Files resume with Range and carry ETag and digest headers; the archive has an ETag and HEAD."""

import base64
import hashlib
import io
import json
import os
import shutil
import subprocess
import tempfile
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from catalog.models import Dataset
from catalog.publish import publish_version
from tests.platform.test_access import client_for

pytestmark = pytest.mark.django_db

CONTENT = bytes(range(256)) * 40 + b"tail"  # 10,244 bytes, every offset distinguishable


def publish_files(owner, slug: str, access: str, files: dict[str, bytes]):
    dataset = Dataset.objects.create(slug=slug, title=slug, modality="tabular", kind="synthetic", access=access,
                                     owner=owner)
    staging = Path(tempfile.mkdtemp())
    for name, data in files.items():
        (staging / name).write_bytes(data)
    try:
        return publish_version(dataset=dataset, staging=staging, key=f"k-{slug}", claim=lambda: None, samples=1)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


@pytest.fixture
def version(user):
    return publish_files(user, "ranges", "private", {"data.bin": CONTENT, "table.csv.gz": CONTENT})


def url(version, path="data.bin"):
    return f"/api/versions/{version.pk}/files/{path}"


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def entry_of(version, path="data.bin"):
    return version.manifest_entry(path)


def test_an_interrupted_download_resumed_with_range_gives_the_exact_bytes(api, version):
    whole = api.get(url(version))
    etag = whole["ETag"]
    received = next(iter(whole.streaming_content))[:3000]  # the connection drops after 3,000 bytes
    rest = api.get(url(version), HTTP_RANGE=f"bytes={len(received)}-", HTTP_IF_RANGE=etag)
    assert rest.status_code == 206
    assert rest["Content-Range"] == f"bytes 3000-{len(CONTENT) - 1}/{len(CONTENT)}"
    assert int(rest["Content-Length"]) == len(CONTENT) - 3000
    resumed = received + body(rest)
    assert hashlib.sha256(resumed).hexdigest() == entry_of(version)["sha256"]


def test_the_file_carries_its_etag_length_and_digest(api, version):
    response = api.get(url(version))
    sha = entry_of(version)["sha256"]
    assert response.status_code == 200 and body(response) == CONTENT
    assert hashlib.sha256(CONTENT).hexdigest() == sha
    assert response["ETag"] == f'"{sha}"'
    assert response["Content-Length"] == str(len(CONTENT))
    assert response["Accept-Ranges"] == "bytes"
    assert response["X-Checksum-SHA256"] == sha
    assert response["Repr-Digest"] == f"sha-256=:{base64.b64encode(hashlib.sha256(CONTENT).digest()).decode()}:"


@pytest.mark.parametrize(("header", "first", "last"), [
    ("bytes=0-0", 0, 0),
    ("bytes=100-199", 100, 199),
    ("bytes=10000-", 10000, len(CONTENT) - 1),
    ("bytes=-4", len(CONTENT) - 4, len(CONTENT) - 1),
    ("bytes=-999999", 0, len(CONTENT) - 1),  # a suffix longer than the file is the whole file
    ("bytes=10240-999999", 10240, len(CONTENT) - 1),  # an end past the file is cut at the end
])
def test_single_ranges_are_answered_206(api, version, header, first, last):
    response = api.get(url(version), HTTP_RANGE=header)
    assert response.status_code == 206
    assert body(response) == CONTENT[first:last + 1]
    assert response["Content-Range"] == f"bytes {first}-{last}/{len(CONTENT)}"
    assert response["Content-Length"] == str(last - first + 1)
    assert response["ETag"] == f'"{entry_of(version)["sha256"]}"'


@pytest.mark.parametrize("header", ["bytes=10244-", "bytes=99999-100000", "bytes=-0"])
def test_ranges_outside_the_file_are_416(api, version, header):
    response = api.get(url(version), HTTP_RANGE=header)
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(CONTENT)}"
    assert "10244 bytes" in response.json()["detail"]


@pytest.mark.parametrize("header", ["bytes=0-1,5-6", "items=0-5", "bytes=9-3", "bytes=-", "nonsense"])
def test_multiple_or_malformed_ranges_get_the_whole_file(api, version, header):
    response = api.get(url(version), HTTP_RANGE=header)
    assert response.status_code == 200 and body(response) == CONTENT


def test_if_range_with_another_etag_gives_the_whole_file(api, version):
    response = api.get(url(version), HTTP_RANGE="bytes=100-", HTTP_IF_RANGE='"not-this-file"')
    assert response.status_code == 200 and body(response) == CONTENT


@pytest.mark.parametrize("path", ["data.bin", "table.csv.gz"])
@pytest.mark.parametrize("range_header", [None, "bytes=5-9"])
def test_head_has_the_headers_of_get_and_no_body(api, version, path, range_header):
    extra = {"HTTP_RANGE": range_header} if range_header else {}
    got, head = api.get(url(version, path), **extra), api.head(url(version, path), **extra)
    assert head.status_code == got.status_code and head.content == b""
    names = ("ETag", "Content-Length", "Content-Type", "Content-Disposition", "Accept-Ranges", "Repr-Digest",
             "X-Checksum-SHA256", "Content-Range")
    assert {n: head.get(n) for n in names} == {n: got.get(n) for n in names}


@pytest.mark.parametrize("tags", ['"{sha}"', 'W/"{sha}"', '"other", "{sha}"', "*"])
def test_a_known_etag_is_answered_304(api, version, tags):
    sha = entry_of(version)["sha256"]
    response = api.get(url(version), HTTP_IF_NONE_MATCH=tags.format(sha=sha))
    assert response.status_code == 304 and response.content == b"" and response["ETag"] == f'"{sha}"'
    assert api.get(url(version), HTTP_IF_NONE_MATCH='"other"').status_code == 200


def test_restricted_data_is_403_on_get_head_and_range(user):
    version = publish_files(user, "real-bytes", "restricted", {"data.bin": CONTENT})
    for method, headers in [("get", {}), ("head", {}), ("get", {"HTTP_RANGE": "bytes=0-10"}),
                            ("get", {"HTTP_IF_NONE_MATCH": "*"})]:
        response = getattr(client_for(user), method)(url(version), **headers)
        assert response.status_code == 403, (method, headers)
        assert "ETag" not in response and CONTENT[:10] not in response.content
    for method in ("get", "head"):
        assert getattr(client_for(user), method)(f"/api/versions/{version.pk}/archive.zip").status_code == 403


@pytest.mark.parametrize("files", [
    {}, {"one": b""}, {"ünïcode-名前.txt": b"x" * 70_000, "b": b"y"}, {f"many-{i}.txt": bytes([i]) * i for i in range(60)},
])
def test_the_archive_length_is_known_before_it_streams(api, user, files, tmp_path):
    version = publish_files(user, "sized", "private", files) if files else _empty_version(user)
    got = api.get(f"/api/versions/{version.pk}/archive.zip")
    data = body(got)
    assert int(got["Content-Length"]) == len(data)
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert {name: archive.read(name) for name in files} == files
    (tmp_path / "archive.zip").write_bytes(data)
    unzipped = subprocess.run(["unzip", "-tq", str(tmp_path / "archive.zip")], capture_output=True)
    assert unzipped.returncode == 0, unzipped.stdout + unzipped.stderr


def _empty_version(owner):
    dataset = Dataset.objects.create(slug="empty", title="empty", modality="tabular", kind="synthetic",
                                     access="private", owner=owner)
    staging = Path(tempfile.mkdtemp())
    return publish_version(dataset=dataset, staging=staging, key="k-empty", claim=lambda: None, samples=0)


def test_a_range_of_a_large_file_streams_in_constant_memory(api, user):
    size = 50 * 1024 * 1024
    data = os.urandom(size)
    version = publish_files(user, "large", "private", {"big.bin": data})
    digest = hashlib.sha256()
    tracemalloc.start()
    try:
        response = api.get(url(version, "big.bin"), HTTP_RANGE="bytes=1000-")
        for chunk in response.streaming_content:
            digest.update(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 206 and response["Content-Length"] == str(size - 1000)
    assert peak < size / 10, f"peak {peak} bytes while streaming {size}"
    assert digest.hexdigest() == hashlib.sha256(data[1000:]).hexdigest()


def test_the_archive_has_a_strong_etag_and_head(api, user):
    version = publish_files(user, "zipped", "private", {"a.bin": CONTENT, "b.txt": b"hello\n"})
    archive_url = f"/api/versions/{version.pk}/archive.zip"
    got, head = api.get(archive_url), api.head(archive_url)
    etag = got["ETag"]
    assert etag.startswith('"') and etag == head["ETag"] and head.content == b""
    assert got["Accept-Ranges"] == head["Accept-Ranges"] == "bytes"
    assert got["Content-Disposition"] == head["Content-Disposition"]
    data = body(got)
    assert got["Content-Length"] == head["Content-Length"] == str(len(data))
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None  # every CRC matches
    assert archive.read("a.bin") == CONTENT and archive.read("b.txt") == b"hello\n"
    assert json.loads(archive.read("manifest.json")) == version.manifest
    assert api.get(archive_url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    other = publish_files(user, "zipped-other", "private", {"a.bin": CONTENT, "b.txt": b"hello!\n"})
    assert api.get(f"/api/versions/{other.pk}/archive.zip")["ETag"] != etag


def test_an_interrupted_archive_download_resumed_with_range_gives_the_exact_bytes(api, user):
    files = {"a.bin": CONTENT, "ünï.txt": b"hello\n" * 50, "empty": b""}
    version = publish_files(user, "resumed-zip", "private", files)
    archive_url = f"/api/versions/{version.pk}/archive.zip"
    whole = api.get(archive_url)
    data, etag = body(whole), whole["ETag"]
    # The digest announced before the first byte is the hash of what came (zipstream's layout
    # without reading is the very archive its CRC-computing stream writes).
    assert whole["Repr-Digest"] == f"sha-256=:{base64.b64encode(hashlib.sha256(data).digest()).decode()}:"
    assert zipfile.ZipFile(io.BytesIO(data)).testzip() is None
    version.refresh_from_db()
    assert len(version.archive_index["crc32"]) == len(files) + 1  # kept: later requests read no file for it
    for cut in (1, 29, 100, 3000, len(data) // 2, len(data) - 120, len(data) - 1):  # across every kind of record
        rest = api.get(archive_url, HTTP_RANGE=f"bytes={cut}-", HTTP_IF_RANGE=etag)
        assert rest.status_code == 206 and rest["Content-Range"] == f"bytes {cut}-{len(data) - 1}/{len(data)}"
        assert data[:cut] + body(rest) == data, cut
        assert rest["Repr-Digest"] == whole["Repr-Digest"]
    middle = api.get(archive_url, HTTP_RANGE="bytes=50-10300")
    assert body(middle) == data[50:10301] and middle["Content-Length"] == str(10301 - 50)
    assert body(api.get(archive_url, HTTP_RANGE="bytes=-77")) == data[-77:]
    # A stale If-Range gets the whole archive; a range past the end is refused with the length.
    assert api.get(archive_url, HTTP_RANGE="bytes=5-", HTTP_IF_RANGE='"other"').status_code == 200
    refused = api.get(archive_url, HTTP_RANGE=f"bytes={len(data)}-")
    assert refused.status_code == 416 and refused["Content-Range"] == f"bytes */{len(data)}"
