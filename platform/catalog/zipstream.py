"""A zip written as it streams (stored, zip64 always), whose length is known from the sizes alone.

Every member has the same fixed-size records around its bytes (a zip64 local header, a data
descriptor carrying the CRC computed on the way, a zip64 central-directory entry), so the
archive's length is a sum over names and sizes: a download can announce ``Content-Length``
before a byte is read. Python's ``zipfile``, ``unzip`` and 7-Zip read it.
"""

from __future__ import annotations

import struct
import tempfile
import zlib
from collections.abc import Iterable, Iterator
from datetime import datetime

_VERSION = 45  # zip64
_FLAGS = 0x0808  # bit 3: sizes and CRC in a data descriptor; bit 11: UTF-8 names
_FULL32, _FULL16 = 0xFFFFFFFF, 0xFFFF
_LOCAL = struct.Struct("<IHHHHHIIIHH")
_LOCAL_ZIP64 = struct.Struct("<HHQQ")
_DESCRIPTOR = struct.Struct("<IIQQ")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_CENTRAL_ZIP64 = struct.Struct("<HHQQQ")
_END64 = struct.Struct("<IQHHIIQQQQ")
_LOCATOR = struct.Struct("<IIQI")
_END = struct.Struct("<IHHHHIIH")
_PER_MEMBER = (_LOCAL.size + _LOCAL_ZIP64.size + _DESCRIPTOR.size + _CENTRAL.size + _CENTRAL_ZIP64.size)
_SPOOL = 4 << 20
_TRAILER = _END64.size + _LOCATOR.size + _END.size


def zip_length(members: Iterable[tuple[str, int]]) -> int:
    """The bytes :func:`stream_zip` writes for members of these (name, size)."""
    return sum(_PER_MEMBER + 2 * len(name.encode()) + size for name, size in members) + _TRAILER


def _dos_time(when: datetime) -> tuple[int, int]:
    time = (when.hour << 11) | (when.minute << 5) | (when.second // 2)
    date = ((max(when.year, 1980) - 1980) << 9) | (when.month << 5) | when.day
    return time, date


def stream_zip(members: Iterable[tuple[str, Iterable[bytes]]], modified: datetime) -> Iterator[bytes]:
    """The zip of ``(name, chunks)`` members, yielded record by record and chunk by chunk."""
    time, date = _dos_time(modified)
    offset = count = 0
    # The directory repeats every name: kept on disk past a few MB, so many members stay flat in memory.
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL) as central:
        for name, chunks in members:
            encoded = name.encode()
            header = _LOCAL.pack(0x04034B50, _VERSION, _FLAGS, 0, time, date, 0, _FULL32, _FULL32, len(encoded),
                                 _LOCAL_ZIP64.size) + encoded + _LOCAL_ZIP64.pack(1, 16, 0, 0)
            yield header
            crc = size = 0
            for chunk in chunks:
                crc, size = zlib.crc32(chunk, crc), size + len(chunk)
                yield chunk
            yield _DESCRIPTOR.pack(0x08074B50, crc, size, size)
            central.write(_CENTRAL.pack(0x02014B50, _VERSION, _VERSION, _FLAGS, 0, time, date, crc, _FULL32,
                                        _FULL32, len(encoded), _CENTRAL_ZIP64.size, 0, 0, 0, 0, _FULL32)
                          + encoded + _CENTRAL_ZIP64.pack(1, 24, size, size, offset))
            offset += len(header) + size + _DESCRIPTOR.size
            count += 1
        directory_size = central.tell()
        central.seek(0)
        while chunk := central.read(_SPOOL):
            yield chunk
    end64_at = offset + directory_size
    yield (_END64.pack(0x06064B50, _END64.size - 12, _VERSION, _VERSION, 0, 0, count, count,
                       directory_size, offset)
           + _LOCATOR.pack(0x07064B50, 0, end64_at, 1)
           + _END.pack(0x06054B50, 0, 0, _FULL16, _FULL16, _FULL32, _FULL32, 0))
