"""A whole version as one zip, streamed: files are read and sent in chunks, never held in memory.

The archive's bytes are fixed by the manifest and the version's creation date, but its records
carry each member's CRC-32, which no manifest holds. The first time an archive is asked for (or
when a job publishes the version) its *index* is computed in one read of the files: every
member's CRC-32 and the SHA-256 of the whole archive. With the index, the archive is laid out
without reading (``zipstream.zip_parts``): any byte range can be served (a download resumes),
the digest is announced before the first byte, and nothing is computed per chunk.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator

from catalog import storage
from catalog.models import DatasetVersion
from catalog.zipstream import Member, read_parts, stream_zip, zip_length, zip_parts

# Bigger reads: fewer trips through Python per byte sent.
_CHUNK = 4 << 20
# Bumped when the layout changes: an index of another layout is computed again.
LAYOUT = "zip64-stored-1"


def _manifest_bytes(version: DatasetVersion) -> bytes:
    return json.dumps(version.manifest, indent=1).encode()


def _names_and_sizes(version: DatasetVersion) -> list[tuple[str, int]]:
    files = [(entry["path"], entry["size"]) for entry in version.manifest.get("files", [])]
    return [*files, (storage.MANIFEST_NAME, len(_manifest_bytes(version)))]


def _file_chunks(version: DatasetVersion, path: str, offset: int = 0, length: int | None = None) -> Iterator[bytes]:
    with storage.open_version_file(version.storage_prefix, path) as source:
        if offset:
            source.seek(offset)
        left = length
        while left is None or left > 0:
            chunk = source.read(_CHUNK if left is None else min(_CHUNK, left))
            if not chunk:
                return
            if left is not None:
                left -= len(chunk)
            yield chunk


def version_zip_length(version: DatasetVersion) -> int:
    """The archive's length, from the manifest's sizes alone."""
    return zip_length(_names_and_sizes(version))


def _computed_index(version: DatasetVersion) -> dict:
    """Stream the archive once, computing CRCs as it goes, and hash what it wrote."""
    members = [(entry["path"], _file_chunks(version, entry["path"])) for entry in version.manifest.get("files", [])]
    members.append((storage.MANIFEST_NAME, [_manifest_bytes(version)]))
    crcs: list[int] = []
    digest = hashlib.sha256()
    for chunk in stream_zip(members, modified=version.created_at, crcs=crcs):
        digest.update(chunk)
    return {"layout": LAYOUT, "crc32": crcs, "sha256": digest.hexdigest()}


def archive_index(version: DatasetVersion) -> dict:
    """The version's archive index ({"layout", "crc32": [per member], "sha256"}), computed once and kept."""
    index = version.archive_index
    if index.get("layout") != LAYOUT or len(index.get("crc32", [])) != len(_names_and_sizes(version)):
        index = _computed_index(version)
        # Derived from immutable bytes, so any process may store it (archive_index is not a frozen field).
        DatasetVersion.objects.filter(pk=version.pk).update(archive_index=index)
        version.archive_index = index
    return index


def stream_version_zip(version: DatasetVersion, start: int = 0, stop: int | None = None) -> Iterator[bytes]:
    """Bytes ``start`` to ``stop`` (exclusive; None: the end) of the version's files and its manifest
    as a zip (stored, zip64), chunk by chunk."""
    index = archive_index(version)
    names = _names_and_sizes(version)
    members = [Member(name, size, crc) for (name, size), crc in zip(names, index["crc32"], strict=True)]
    manifest = _manifest_bytes(version)

    def read_member(number: int, offset: int, length: int) -> Iterator[bytes]:
        if number == len(members) - 1:  # the manifest, written by us, not stored as a file
            return iter([manifest[offset:offset + length]])
        return _file_chunks(version, members[number].name, offset, length)

    yield from read_parts(zip_parts(members, version.created_at), read_member, start, stop)
