"""Chunked, resumable uploads: a session per file, its bytes appended in order by Content-Range.

A chunk is written only once its whole body has arrived, at the session's current offset, so an
interrupted request leaves the offset where it was and the client resumes from it (``offset``).
The partial bytes live in ``SYNTHREG_UPLOAD_DIR`` and are removed when the session is finished,
refused (by a problem of the bytes themselves), abandoned or expired. The row stays, its state and
error saying what happened, until the session expires; then the next sweep drops it.
"""

from __future__ import annotations

import contextlib
import re
import time
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from catalog.models import DatasetVersion, UploadSession
from catalog.uploads.errors import UploadRefused
from catalog.uploads.inspection import Inspection
from catalog.uploads.register import Registration, check_quota, check_upload, register
from catalog.uploads.sniff import FORMAT_KINDS, extension_kind

_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")


class Conflict(UploadRefused):
    """The chunk does not start at the session's offset (409): the client asks for it and resumes."""

    def __init__(self, session: UploadSession, start: int) -> None:
        super().__init__("Content-Range", f"this chunk starts at byte {start:,}; the upload has "
                                          f"{session.received:,} bytes: send from there", status=409)


def path_of(session: UploadSession) -> Path:
    return Path(settings.SYNTHREG_UPLOAD_DIR) / f"{session.pk}.part"


def create(owner, filename: str, size: object, format: str) -> UploadSession:
    if format not in FORMAT_KINDS:
        raise UploadRefused("format", f"must be one of {', '.join(FORMAT_KINDS)}")
    if not filename or len(filename) > 255 or "/" in filename or "\\" in filename or "\x00" in filename:
        raise UploadRefused("filename", "must be a file name (no folders), at most 255 characters")
    extension_kind(filename, field="filename")
    if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
        raise UploadRefused("size", "must be the file's size in bytes, a whole number above 0")
    if size > settings.SYNTHREG_UPLOAD_MAX_BYTES:
        raise UploadRefused("size", f"{size:,} bytes is more than {settings.SYNTHREG_UPLOAD_MAX_BYTES:,} "
                                    "(SYNTHREG_UPLOAD_MAX_BYTES)", status=413)
    remove_expired()
    open_sessions = UploadSession.objects.filter(owner=owner, state=UploadSession.State.OPEN)
    check_quota(owner, size, pending=sum(open_sessions.values_list("size", flat=True)))
    session = UploadSession.objects.create(
        owner=owner, filename=filename, format=format, size=size,
        expires_at=timezone.now() + timedelta(seconds=settings.SYNTHREG_UPLOAD_SESSION_SECONDS))
    path_of(session).parent.mkdir(parents=True, exist_ok=True)
    path_of(session).touch()
    return session


def parse_range(header: str | None, session: UploadSession, body_length: int) -> int:
    """The chunk's first byte, from ``Content-Range: bytes a-b/total``, checked against the body."""
    match = _RANGE.match(header or "")
    if not match:
        raise UploadRefused("Content-Range", "send each chunk with Content-Range: bytes FIRST-LAST/TOTAL")
    start, end, total = map(int, match.groups())
    if total != session.size:
        raise UploadRefused("Content-Range", f"the total is {session.size:,} bytes (as declared), not {total:,}")
    if end < start or end >= total:
        raise UploadRefused("Content-Range", f"bytes {start}-{end} is no range within {total:,} bytes")
    if end - start + 1 != body_length:
        raise UploadRefused("Content-Range", f"says {end - start + 1:,} bytes but the body has {body_length:,}")
    if body_length > settings.SYNTHREG_UPLOAD_CHUNK_BYTES:
        raise UploadRefused("Content-Range", f"chunks are at most {settings.SYNTHREG_UPLOAD_CHUNK_BYTES:,} bytes "
                                             "(SYNTHREG_UPLOAD_CHUNK_BYTES)", status=413)
    return start


def check_open(session: UploadSession) -> None:
    if session.expires_at <= timezone.now():
        discard(session, "expired")
        raise UploadRefused("upload", "this upload session has expired; start a new one", status=410)
    if session.state != UploadSession.State.OPEN:
        raise UploadRefused("upload", f"this upload session is {session.state}; start a new one", status=410)


def append(session: UploadSession, header: str | None, body: bytes) -> UploadSession:
    """Write one chunk at the session's offset; returns the session with its new offset."""
    with transaction.atomic():
        session = UploadSession.objects.select_for_update().get(pk=session.pk)
        check_open(session)
        start = parse_range(header, session, len(body))
        if start != session.received:
            raise Conflict(session, start)
        with open(path_of(session), "r+b") as fh:
            fh.seek(start)
            fh.write(body)
            fh.truncate()
        session.received = start + len(body)
        session.save(update_fields=["received"])
    return session


def discard(session: UploadSession, reason: str, state: str = UploadSession.State.FAILED) -> None:
    """Remove the partial bytes; the row stays (its state says why) so the client learns what happened."""
    path_of(session).unlink(missing_ok=True)
    UploadSession.objects.filter(pk=session.pk).update(state=state, error=reason[:2000])
    session.state, session.error = state, reason


def remove_expired() -> int:
    """Drop expired sessions (open, finished or refused alike) and their bytes, and any partial file
    older than a session lives (its row went on another host, or it was never recorded); run
    whenever a session is created and by every worker's sweep (jobs.sweep). Returns the rows dropped."""
    expired = list(UploadSession.objects.filter(expires_at__lte=timezone.now()))
    for session in expired:
        path_of(session).unlink(missing_ok=True)
    # A session's file is made when the session is, so one untouched for longer than a session
    # lives belongs to no session that may still take a chunk.
    stale = time.time() - settings.SYNTHREG_UPLOAD_SESSION_SECONDS
    root = Path(settings.SYNTHREG_UPLOAD_DIR)
    for path in root.glob("*.part") if root.is_dir() else ():
        with contextlib.suppress(FileNotFoundError):
            if path.stat().st_mtime < stale:
                path.unlink()
    return UploadSession.objects.filter(pk__in=[s.pk for s in expired]).delete()[0]


# Problems of the bytes themselves: the upload cannot succeed, so its bytes go. Others (a taken
# slug, a column override that does not fit) keep them, for the owner to try again.
_FATAL_FIELDS = ("file", "format")


def _complete(session: UploadSession) -> None:
    check_open(session)
    if session.received != session.size:
        raise UploadRefused("upload", f"has {session.received:,} of {session.size:,} bytes; send the rest first",
                            status=409)


def inspect_session(session: UploadSession) -> Inspection:
    """The complete upload checked and described (its schema, for the owner to confirm)."""
    _complete(session)
    try:
        with open(path_of(session), "rb") as fh:
            return check_upload(fh, session.filename, session.format)
    except UploadRefused as exc:
        if exc.field in _FATAL_FIELDS:
            discard(session, str(exc))
        raise


def finish(session: UploadSession, reg: Registration) -> DatasetVersion:
    """Publish the complete upload as a new reference dataset; the partial bytes are removed."""
    _complete(session)
    try:
        with open(path_of(session), "rb") as fh:
            version = register(session.owner, reg, fh, session.filename, session.format)
    except UploadRefused as exc:
        if exc.field in _FATAL_FIELDS:
            discard(session, str(exc))
        raise
    UploadSession.objects.filter(pk=session.pk).update(version=version)
    discard(session, "", state=UploadSession.State.DONE)
    return version
