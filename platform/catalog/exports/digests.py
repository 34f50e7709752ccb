"""The SHA-256 and size of an export's bytes, computed once by streaming it and kept on the version.

Croissant requires a digest for every file it names; an export is derived from immutable files,
so its digest only changes with the code and libraries that write its bytes, which the key names.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator

from catalog.models import DatasetVersion


def export_digest(version: DatasetVersion, key: str, write: Callable[[], Iterator[bytes]]) -> dict:
    """``{"sha256", "size"}`` of the bytes ``write()`` streams, kept under ``key`` (the writer and
    the versions of the libraries that shape its bytes)."""
    if key not in version.export_digests:
        digest, size = hashlib.sha256(), 0
        for chunk in write():
            digest.update(chunk)
            size += len(chunk)
        # Derived from immutable bytes, so any process may store it: the same key gives the same value.
        digests = {**version.export_digests, key: {"sha256": digest.hexdigest(), "size": size}}
        DatasetVersion.objects.filter(pk=version.pk).update(export_digests=digests)
        version.export_digests = digests
    return version.export_digests[key]
