"""Zip and tar archives read without trusting them.

Everything an archive declares is checked before any member is read: member names (no absolute
paths, no ``..``), types (no links, devices or pipes), the number of members and the uncompressed
sizes they declare. Reading is then capped twice: no member yields more bytes than it declared
(a lying zip bomb), and no archive more than ``Limits.max_uncompressed`` in all. Nothing is
extracted to disk: members are read into memory by the caller, one at a time.
"""

from __future__ import annotations

import re
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from catalog.uploads.errors import Limits, UploadRefused
from catalog.uploads.sniff import never_loaded

_CHUNK = 1 << 20
# A zip's end-of-central-directory record, its zip64 locator and record.
_EOCD, _EOCD_SIZE = b"PK\x05\x06", 22
_ZIP64_LOCATOR, _ZIP64_EOCD = b"PK\x06\x07", b"PK\x06\x06"
# Central directory entries are 46 bytes plus a name, extra field and comment: allow 1 kB each.
_CENTRAL_ENTRY_BYTES = 1024
_S_IFMT, _S_IFLNK, _S_IFREG, _S_IFDIR = 0o170000, 0o120000, 0o100000, 0o040000
_DRIVE = re.compile(r"^[A-Za-z]:")
# Left by archivers, never data: skipped (but counted toward the limits).
_JUNK = re.compile(r"(^|/)(__MACOSX/|\._|\.DS_Store$|Thumbs\.db$)")


@dataclass(frozen=True)
class Member:
    name: str  # a relative path with / separators
    size: int  # uncompressed bytes, as declared


def _check_name(raw: str) -> str:
    shown = raw.replace("\x00", "\\0")
    if "\x00" in raw or "\\" in raw:
        raise UploadRefused("file", f"archive member {shown!r} has a NUL or a backslash in its name")
    if raw.startswith("/") or _DRIVE.match(raw):
        raise UploadRefused("file", f"archive member {shown!r} has an absolute path")
    parts = [p for p in raw.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise UploadRefused("file", f"archive member {shown!r} leaves the archive ('..' in its path)")
    name = "/".join(parts)
    if never_loaded(name):
        raise UploadRefused("file", f"archive member {shown!r} is a pickle or torch file: those are never loaded")
    return name


class _Tally:
    """Counts members and declared bytes as they are listed; refuses past the limits."""

    def __init__(self, limits: Limits) -> None:
        self.limits, self.count, self.declared, self.names = limits, 0, 0, set()

    def add(self, name: str, size: int) -> bool:
        """Count one member; False for one to skip (archivers' junk)."""
        self.count += 1
        if self.count > self.limits.max_members:
            raise UploadRefused("file", f"the archive has more than {self.limits.max_members:,} members "
                                        "(SYNTHREG_UPLOAD_MAX_MEMBERS)", status=413)
        self.declared += size
        if self.declared > self.limits.max_uncompressed:
            raise UploadRefused("file", f"the archive declares more than {self.limits.max_uncompressed:,} bytes "
                                        "uncompressed (SYNTHREG_UPLOAD_MAX_UNCOMPRESSED)", status=413)
        if name in self.names:
            raise UploadRefused("file", f"archive member {name!r} appears twice")
        self.names.add(name)
        return not _JUNK.search(name)


class Archive:
    """The checked members of a zip or tar, and capped reads of them."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.members: list[Member] = []
        self._read_total = 0

    def read(self, member: Member, limit: int | None = None) -> bytes:
        """The member's bytes (its first ``limit`` only, when given), never more than it declared."""
        want = member.size if limit is None else min(limit, member.size)
        out = bytearray()
        try:
            with self._open(member) as fh:
                while len(out) < want + 1:
                    chunk = fh.read(min(_CHUNK, want + 1 - len(out)))
                    if not chunk:
                        break
                    out += chunk
                    self._count(len(chunk))
        except (zipfile.BadZipFile, tarfile.TarError, zlib.error, EOFError, OSError, ValueError) as exc:
            raise UploadRefused("file", f"archive member {member.name!r} is damaged ({type(exc).__name__})") from None
        if len(out) > member.size:
            raise UploadRefused("file", f"archive member {member.name!r} expands past the {member.size:,} bytes "
                                        "it declares (a zip bomb)", status=413)
        if limit is None and len(out) < member.size:
            raise UploadRefused("file", f"archive member {member.name!r} is truncated")
        return bytes(out[:want])

    def _count(self, n: int) -> None:
        self._read_total += n
        if self._read_total > self.limits.max_uncompressed:
            raise UploadRefused("file", f"the archive expands past {self.limits.max_uncompressed:,} bytes "
                                        "(SYNTHREG_UPLOAD_MAX_UNCOMPRESSED)", status=413)

    def _open(self, member: Member):  # a context manager with read(n)
        raise NotImplementedError


def _zip_entries(fh: BinaryIO) -> tuple[int, int]:
    """(entries, central directory bytes) from the end record, before zipfile parses anything."""
    fh.seek(0, 2)
    size = fh.tell()
    tail_start = max(0, size - (_EOCD_SIZE + 65535))
    fh.seek(tail_start)
    tail = fh.read()
    at = tail.rfind(_EOCD)
    if at < 0 or len(tail) - at < _EOCD_SIZE:
        raise UploadRefused("file", "is not a readable zip archive (no end record)")
    entries, cd_size = struct.unpack("<10xHL6x", tail[at:at + _EOCD_SIZE])
    locator = tail[at - 20:at] if at >= 20 else b""
    if locator.startswith(_ZIP64_LOCATOR):
        (record_at,) = struct.unpack("<8xQ4x", locator[4:])
        fh.seek(record_at)
        record = fh.read(56)
        if not record.startswith(_ZIP64_EOCD) or len(record) < 56:
            raise UploadRefused("file", "is not a readable zip archive (bad zip64 end record)")
        entries, cd_size = struct.unpack("<32xQQ", record[:48])
    fh.seek(0)
    return entries, cd_size


class ZipArchive(Archive):
    def __init__(self, fh: BinaryIO, limits: Limits, on_member: Callable[[Archive, Member], None] | None = None):
        super().__init__(limits)
        entries, cd_size = _zip_entries(fh)
        if entries > limits.max_members:
            raise UploadRefused("file", f"the archive has {entries:,} members, more than {limits.max_members:,} "
                                        "(SYNTHREG_UPLOAD_MAX_MEMBERS)", status=413)
        if cd_size > (limits.max_members + 1) * _CENTRAL_ENTRY_BYTES:
            raise UploadRefused("file", f"the archive's directory is {cd_size:,} bytes: too large for "
                                        f"{limits.max_members:,} members", status=413)
        try:
            self._zip = zipfile.ZipFile(fh)
        except (zipfile.BadZipFile, OSError, ValueError, struct.error) as exc:
            raise UploadRefused("file", f"is not a readable zip archive ({exc})") from None
        self._infos: dict[str, zipfile.ZipInfo] = {}
        tally, offsets = _Tally(limits), set()
        for info in self._zip.infolist():
            name = _check_name(info.filename)
            mode = info.external_attr >> 16
            if mode & _S_IFMT == _S_IFLNK:
                raise UploadRefused("file", f"archive member {name!r} is a link: links are refused")
            if info.flag_bits & 0x1:
                raise UploadRefused("file", f"archive member {name!r} is encrypted")
            if info.header_offset in offsets:  # entries sharing one compressed stream: an overlap bomb
                raise UploadRefused("file", f"archive member {name!r} overlaps another (a zip bomb)", status=413)
            offsets.add(info.header_offset)
            if info.is_dir() or (mode & _S_IFMT) == _S_IFDIR:
                continue
            if mode & _S_IFMT not in (0, _S_IFREG):
                raise UploadRefused("file", f"archive member {name!r} is not a regular file")
            if tally.add(name, info.file_size):
                self._infos[name] = info
                self.members.append(Member(name, info.file_size))
        if on_member:
            for member in self.members:
                on_member(self, member)

    def _open(self, member: Member) -> BinaryIO:
        return self._zip.open(self._infos[member.name])


class TarArchive(Archive):
    """A tar, plain or gzip/bzip2/xz-compressed; its headers are checked one by one as they are
    read, with ``on_member`` called on each member in turn, so a bad one stops the reading early."""

    def __init__(self, fh: BinaryIO, limits: Limits, on_member: Callable[[Archive, Member], None] | None = None):
        super().__init__(limits)
        try:
            self._tar = tarfile.open(fileobj=fh, mode="r:*")  # noqa: SIM115 - read for the archive's life
        except (tarfile.TarError, zlib.error, EOFError, OSError) as exc:
            raise UploadRefused("file", f"is not a readable tar archive ({type(exc).__name__})") from None
        self._infos: dict[str, tarfile.TarInfo] = {}
        tally = _Tally(limits)
        for info in self._iterate():
            name = _check_name(info.name)
            if info.issym() or info.islnk():
                raise UploadRefused("file", f"archive member {name!r} is a link: links are refused")
            if info.isdir():
                continue
            if not info.isreg() or info.issparse():
                raise UploadRefused("file", f"archive member {name!r} is not a regular file")
            if tally.add(name, info.size):
                member = Member(name, info.size)
                self._infos[name] = info
                self.members.append(member)
                if on_member:
                    on_member(self, member)

    def _iterate(self) -> Iterator[tarfile.TarInfo]:
        while True:
            try:
                info = self._tar.next()
            except (tarfile.TarError, zlib.error, EOFError, OSError) as exc:
                raise UploadRefused("file", f"is a damaged tar archive ({type(exc).__name__})") from None
            if info is None:
                return
            yield info

    def _open(self, member: Member) -> _TarMember:
        # Read straight from the (decompressed) tar stream: tarfile's own file objects cost more
        # than the read itself, and are made 10,000 times for a large archive.
        info = self._infos[member.name]
        return _TarMember(self._tar.fileobj, info.offset_data, info.size)


class _TarMember:
    def __init__(self, fileobj: BinaryIO, offset: int, size: int) -> None:
        self._fh, self._left = fileobj, size
        fileobj.seek(offset)

    def read(self, n: int) -> bytes:
        data = self._fh.read(min(n, self._left))
        self._left -= len(data)
        return data

    def __enter__(self) -> _TarMember:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def open_archive(fh: BinaryIO, kind: str, limits: Limits,
                 on_member: Callable[[Archive, Member], None] | None = None) -> Archive:
    """The checked archive (``kind`` ``zip``, ``npz`` or ``tar``); ``on_member`` may refuse members."""
    return (TarArchive if kind == "tar" else ZipArchive)(fh, limits, on_member)
