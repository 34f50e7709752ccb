"""A whole version as one zip, streamed: files are read and sent in chunks, never held in memory."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator

from catalog import storage
from catalog.models import DatasetVersion

_CHUNK = 1 << 20


class _Outbox(io.RawIOBase):
    """A write-only, unseekable sink whose bytes are taken out as they arrive."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data, self._parts = b"".join(self._parts), []
        return data


def stream_version_zip(version: DatasetVersion) -> Iterator[bytes]:
    """The version's files and its manifest as a zip (stored, zip64), chunk by chunk."""
    outbox = _Outbox()
    with zipfile.ZipFile(outbox, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for entry in version.manifest.get("files", []):
            info = zipfile.ZipInfo(entry["path"], date_time=version.created_at.timetuple()[:6])
            with storage.open_version_file(version.storage_prefix, entry["path"]) as source, \
                    archive.open(info, "w", force_zip64=True) as target:
                while chunk := source.read(_CHUNK):
                    target.write(chunk)
                    yield outbox.take()
        archive.writestr(storage.MANIFEST_NAME, json.dumps(version.manifest, indent=1))
        yield outbox.take()
    yield outbox.take()
