"""A whole version as one zip, streamed: files are read and sent in chunks, never held in memory."""

from __future__ import annotations

import json
from collections.abc import Iterator

from catalog import storage
from catalog.models import DatasetVersion
from catalog.zipstream import stream_zip, zip_length

_CHUNK = 1 << 20


def _manifest_bytes(version: DatasetVersion) -> bytes:
    return json.dumps(version.manifest, indent=1).encode()


def _file_chunks(version: DatasetVersion, path: str) -> Iterator[bytes]:
    with storage.open_version_file(version.storage_prefix, path) as source:
        while chunk := source.read(_CHUNK):
            yield chunk


def version_zip_length(version: DatasetVersion) -> int:
    """The archive's length, from the manifest's sizes alone."""
    sizes = [(entry["path"], entry["size"]) for entry in version.manifest.get("files", [])]
    return zip_length([*sizes, (storage.MANIFEST_NAME, len(_manifest_bytes(version)))])


def stream_version_zip(version: DatasetVersion) -> Iterator[bytes]:
    """The version's files and its manifest as a zip (stored, zip64), chunk by chunk."""
    members = [(entry["path"], _file_chunks(version, entry["path"])) for entry in version.manifest.get("files", [])]
    members.append((storage.MANIFEST_NAME, [_manifest_bytes(version)]))
    yield from stream_zip(members, modified=version.created_at)
