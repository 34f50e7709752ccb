"""A zip written as it streams (stored, zip64 always), whose length is known from the sizes alone.

Every member has the same fixed-size records around its bytes (a zip64 local header, a data
descriptor carrying the CRC computed on the way, a zip64 central-directory entry), so the
archive's length is a sum over names and sizes: a download can announce ``Content-Length``
before a byte is read. Once the CRCs are known (computed once per version: catalog/archives.py),
:func:`zip_parts` lays out the very same bytes without reading any, so a byte range can be
served and nothing is computed per chunk. Python's ``zipfile``, ``unzip`` and 7-Zip read it.
"""

from __future__ import annotations

import struct
import tempfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
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


def _local_header(encoded: bytes, time: int, date: int) -> bytes:
    return (_LOCAL.pack(0x04034B50, _VERSION, _FLAGS, 0, time, date, 0, _FULL32, _FULL32, len(encoded),
                        _LOCAL_ZIP64.size) + encoded + _LOCAL_ZIP64.pack(1, 16, 0, 0))


def _central_entry(encoded: bytes, time: int, date: int, crc: int, size: int, offset: int) -> bytes:
    return (_CENTRAL.pack(0x02014B50, _VERSION, _VERSION, _FLAGS, 0, time, date, crc, _FULL32, _FULL32,
                          len(encoded), _CENTRAL_ZIP64.size, 0, 0, 0, 0, _FULL32)
            + encoded + _CENTRAL_ZIP64.pack(1, 24, size, size, offset))


def _trailer(count: int, directory_size: int, directory_at: int) -> bytes:
    end64_at = directory_at + directory_size
    return (_END64.pack(0x06064B50, _END64.size - 12, _VERSION, _VERSION, 0, 0, count, count,
                        directory_size, directory_at)
            + _LOCATOR.pack(0x07064B50, 0, end64_at, 1)
            + _END.pack(0x06054B50, 0, 0, _FULL16, _FULL16, _FULL32, _FULL32, 0))


def stream_zip(members: Iterable[tuple[str, Iterable[bytes]]], modified: datetime,
               crcs: list[int] | None = None) -> Iterator[bytes]:
    """The zip of ``(name, chunks)`` members, yielded record by record and chunk by chunk; each
    member's CRC-32, computed on the way, is appended to ``crcs`` when given."""
    time, date = _dos_time(modified)
    offset = count = 0
    # The directory repeats every name: kept on disk past a few MB, so many members stay flat in memory.
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL) as central:
        for name, chunks in members:
            encoded = name.encode()
            header = _local_header(encoded, time, date)
            yield header
            crc = size = 0
            for chunk in chunks:
                crc, size = zlib.crc32(chunk, crc), size + len(chunk)
                yield chunk
            yield _DESCRIPTOR.pack(0x08074B50, crc, size, size)
            central.write(_central_entry(encoded, time, date, crc, size, offset))
            if crcs is not None:
                crcs.append(crc)
            offset += len(header) + size + _DESCRIPTOR.size
            count += 1
        directory_size = central.tell()
        central.seek(0)
        while chunk := central.read(_SPOOL):
            yield chunk
    yield _trailer(count, directory_size, offset)


@dataclass(frozen=True)
class Member:
    """A member whose size and CRC-32 are known: the archive is then fixed before a byte is read."""

    name: str
    size: int
    crc: int


def zip_parts(members: Sequence[Member], modified: datetime) -> Iterator[tuple[int, bytes | int]]:
    """The bytes :func:`stream_zip` writes, as ``(length, part)``: records as bytes, and each
    member's data as its index (the caller reads it). With the CRCs known no byte needs reading
    to know the layout, so any byte range can be served and nothing is computed per chunk."""
    time, date = _dos_time(modified)
    offsets, offset = [], 0
    for index, member in enumerate(members):
        header = _local_header(member.name.encode(), time, date)
        yield len(header), header
        yield member.size, index
        yield _DESCRIPTOR.size, _DESCRIPTOR.pack(0x08074B50, member.crc, member.size, member.size)
        offsets.append(offset)
        offset += len(header) + member.size + _DESCRIPTOR.size
    directory_size = 0
    for member, at in zip(members, offsets, strict=True):
        entry = _central_entry(member.name.encode(), time, date, member.crc, member.size, at)
        directory_size += len(entry)
        yield len(entry), entry
    trailer = _trailer(len(members), directory_size, offset)
    yield len(trailer), trailer


def read_parts(parts: Iterable[tuple[int, bytes | int]], read_member: Callable[[int, int, int], Iterator[bytes]],
               start: int = 0, stop: int | None = None) -> Iterator[bytes]:
    """Bytes ``start`` to ``stop`` (exclusive; None: the end) of the archive laid out by ``parts``;
    ``read_member(index, offset, length)`` yields that slice of a member's data."""
    position = 0
    for length, part in parts:
        if stop is not None and position >= stop:
            return
        end = position + length
        if end > start:
            low, high = max(start - position, 0), length if stop is None else min(stop - position, length)
            if isinstance(part, bytes):
                yield part[low:high]
            elif high > low:
                yield from read_member(part, low, high - low)
        position = end
