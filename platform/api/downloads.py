"""Streaming version files out, checked against the manifest and the access policy.

Versions are immutable, so a file's manifest sha256 is its strong ETag and its digest, and a
download can be resumed with ``Range`` (one range per request) and checked with ``If-Range``.
"""

import base64
import hashlib
import io
import json
import re
from collections.abc import Iterator

from django.http import FileResponse, Http404, HttpResponse, JsonResponse, StreamingHttpResponse
from django.utils.http import content_disposition_header
from rest_framework.exceptions import PermissionDenied, ValidationError

from access import policy
from catalog import storage
from catalog.archives import archive_index, stream_version_zip, version_zip_length
from catalog.exports import images
from catalog.exports.registry import FORMATS, formats_for
from catalog.models import DatasetVersion


def _check_download(request, version: DatasetVersion, path: str) -> None:
    if not policy.can_view_version(request.user, version):
        raise Http404("No such version.")
    if not policy.can_download_version(request.user, version):
        policy.audit(request.user, "denied", str(version), path=path)
        raise PermissionDenied(
            f"{version.dataset.slug} is restricted real data: it can be used by jobs on the platform "
            "but never downloaded.")
    if version.status != DatasetVersion.Status.READY:
        raise Http404(f"Version {version} is {version.status}, not ready.")


_CHUNK = 1 << 20
_SINGLE_RANGE = re.compile(r"bytes=(\d{0,18})-(\d{0,18})")  # longer numbers: ignored


def _matches_any(header: str, etag: str) -> bool:
    """If-None-Match's weak comparison: ``*`` or any listed tag, W/ or not."""
    tags = [tag.strip().removeprefix("W/") for tag in header.split(",")]
    return "*" in tags or etag in tags


def _not_modified(etag: str) -> HttpResponse:
    response = HttpResponse(status=304)
    response["ETag"] = etag
    return response


def _requested_range(request, size: int, etag: str) -> tuple[int, int] | None:
    """The one byte range asked for as (first, last), or None for the whole file.

    A Range that is not one well-formed ``bytes=`` range is ignored (RFC 9110 allows it): multiple
    ranges are answered with the whole file rather than a multipart body. ``If-Range`` must be this
    file's ETag (strong comparison; we send no Last-Modified, so a date never matches).
    Raises ValueError when the range lies outside the file (416).
    """
    match = _SINGLE_RANGE.fullmatch(request.headers.get("Range", "").strip())
    if not match or match.groups() == ("", ""):
        return None
    if "If-Range" in request.headers and request.headers["If-Range"].strip() != etag:
        return None
    first, last = match.groups()
    if not first:  # a suffix: the last n bytes
        length = min(int(last), size)
        if length == 0:
            raise ValueError("a suffix range of 0 bytes")
        return size - length, size - 1
    start, end = int(first), (int(last) if last else size - 1)
    if last and start > end:
        return None  # not a valid range-spec: ignored
    if start >= size:
        raise ValueError(f"starts at byte {start}")
    return start, min(end, size - 1)


def _read_range(source, start: int, length: int) -> Iterator[bytes]:
    """``length`` bytes from ``start``, in chunks: a seek, never the whole file in memory."""
    with source:
        source.seek(start)
        while length > 0 and (chunk := source.read(min(_CHUNK, length))):
            length -= len(chunk)
            yield chunk


def _derived_etag(version: DatasetVersion, writer: str) -> str:
    """Built from the manifest alone (and the immutable creation date it stamps) by one writer's code."""
    key = json.dumps({"manifest": version.manifest, "created": version.created_at.isoformat(), "writer": writer},
                     sort_keys=True)
    return f'"{hashlib.sha256(key.encode()).hexdigest()}"'


def archive_etag(version: DatasetVersion) -> str:
    return _derived_etag(version, "archive-zip64-stored-1")


def _streamed(request, version: DatasetVersion, *, etag: str, media_type: str, filename: str, audit_path: str,
              body) -> HttpResponse:
    """A download built as it streams: ETag, HEAD and 304, and the audit line for a GET."""
    if _matches_any(request.headers.get("If-None-Match", ""), etag):
        return _not_modified(etag)
    if request.method == "HEAD":
        response = HttpResponse(content_type=media_type)
    else:
        policy.audit(request.user, "download", str(version), path=audit_path)
        response = StreamingHttpResponse(body(), content_type=media_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["ETag"] = etag
    # Rows or records are converted on the way: no byte offsets to resume from.
    response["Accept-Ranges"] = "none"
    return response


def version_archive_response(request, version: DatasetVersion) -> HttpResponse:
    """The version as one zip: fixed bytes (its index known), so HEAD, ETag, Range and a digest apply."""
    _check_download(request, version, "*")
    etag, size = archive_etag(version), version_zip_length(version)
    if _matches_any(request.headers.get("If-None-Match", ""), etag):
        return _not_modified(etag)
    try:
        byte_range = _requested_range(request, size, etag)
    except ValueError as exc:
        return _unsatisfiable(exc, "the archive", size)
    index = archive_index(version)  # computed on the first request of a version no job warmed
    if request.method == "HEAD":
        response = HttpResponse(content_type="application/zip")
    else:
        policy.audit(request.user, "download", str(version), path="*")
        first, last = byte_range or (0, size - 1)
        response = StreamingHttpResponse(stream_version_zip(version, first, last + 1), content_type="application/zip")
    response["Content-Disposition"] = content_disposition_header(True, f"{version.dataset.slug}-v{version.number}.zip")
    _whole_or_range(response, byte_range, size, etag, index["sha256"])
    return response


def _unsatisfiable(exc: ValueError, what: str, size: int) -> JsonResponse:
    response = JsonResponse({"detail": f"Range not satisfiable: {exc}, but {what} has {size} bytes."}, status=416)
    response["Content-Range"] = f"bytes */{size}"
    return response


def _whole_or_range(response: HttpResponse, byte_range: tuple[int, int] | None, size: int, etag: str,
                    sha256: str) -> None:
    """The headers of a file or archive of fixed bytes: length, range, ETag and digest."""
    first, last = byte_range or (0, size - 1)
    if byte_range:
        response.status_code = 206
        response["Content-Range"] = f"bytes {first}-{last}/{size}"
    response["Content-Length"] = str(last - first + 1)
    response["ETag"] = etag
    response["Accept-Ranges"] = "bytes"
    # The digest of the whole representation, also on a partial response (RFC 9530).
    response["Repr-Digest"] = f"sha-256=:{base64.b64encode(bytes.fromhex(sha256)).decode()}:"
    response["X-Checksum-SHA256"] = sha256


def version_format_response(request, version: DatasetVersion, name: str, versions_url: str) -> HttpResponse:
    """The version converted to one export format, streamed."""
    _check_download(request, version, f"format:{name}")
    available = formats_for(version)
    export = FORMATS.get(name)
    if export not in available:
        raise Http404(f"{version} has no {name!r} export; available: {', '.join(f.name for f in available)}.")
    writer = f"{export.name}-{export.revision} {export.changes_with(version)}"
    return _streamed(request, version, etag=_derived_etag(version, writer),
                     media_type=export.media_type, filename=export.filename(version),
                     audit_path=f"format:{name}", body=lambda: export.write(version, versions_url))


def webdataset_shard_response(request, version: DatasetVersion, name: str) -> HttpResponse:
    """One WebDataset shard (``images.shard_names``), streamed like an export."""
    _check_download(request, version, f"webdataset:{name}")
    if FORMATS["webdataset-shards"] not in formats_for(version):
        raise Http404(f"{version} has no WebDataset shards.")
    try:
        body = images.write_shard(version, name)
    except KeyError:
        names = [shard for shard, _ in images.shard_names(version)]
        raise Http404(f"{name!r} is no shard of {version}: they are {names[0]} to {names[-1]}.") from None
    writer = f"webdataset-shard-{images.SHARD_SAMPLES}-{FORMATS['webdataset-shards'].revision} {name}"
    return _streamed(request, version, etag=_derived_etag(version, writer), media_type="application/x-tar",
                     filename=name, audit_path=f"webdataset:{name}", body=lambda: body)


def version_file_response(request, version: DatasetVersion, path: str) -> HttpResponse:
    _check_download(request, version, path)
    # Only paths listed in the manifest are served: no path tricks reach storage.
    entry = version.manifest_entry(path)
    if entry is None:
        raise Http404(f"{path!r} is not a file of {version}.")
    if "min_visible" in request.GET:
        # A filtered stream, not the stored bytes: no ETag, digest or Range apply to it.
        policy.audit(request.user, "download", str(version), path=path)
        return _filtered_coco_response(version, path, request.GET["min_visible"])
    size, etag = entry["size"], f'"{entry["sha256"]}"'
    if _matches_any(request.headers.get("If-None-Match", ""), etag):
        return _not_modified(etag)
    try:
        byte_range = _requested_range(request, size, etag)
    except ValueError as exc:
        return _unsatisfiable(exc, path, size)
    if request.method == "HEAD":
        response = HttpResponse(content_type=_content_type(path))
        response["Content-Disposition"] = content_disposition_header(True, path.rsplit("/", 1)[-1])
    else:
        policy.audit(request.user, "download", str(version), path=path)
        response = _file_body(version, path, byte_range)
    _whole_or_range(response, byte_range, size, etag, entry["sha256"])
    return response


def _content_type(path: str) -> str:
    """The type a whole-file FileResponse gives (a .gz stays application/gzip), for HEAD and ranges."""
    return FileResponse(io.BytesIO(), filename=path.rsplit("/", 1)[-1])["Content-Type"]


def _file_body(version: DatasetVersion, path: str, byte_range: tuple[int, int] | None) -> HttpResponse:
    try:
        source = storage.open_version_file(version.storage_prefix, path)
    except FileNotFoundError:
        raise Http404(f"{path} of {version} is listed in its manifest but missing from storage; "
                      "`manage.py verify` lists every damaged version for an administrator.") from None
    filename = path.rsplit("/", 1)[-1]
    if byte_range is None:
        return FileResponse(source, as_attachment=True, filename=filename)
    first, last = byte_range
    response = StreamingHttpResponse(_read_range(source, first, last - first + 1), content_type=_content_type(path))
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


REPORT_TYPES = {"html": "text/html; charset=utf-8", "pdf": "application/pdf"}
# The report is our own static HTML with inline SVG: it needs no script and loads nothing.
REPORT_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; frame-ancestors 'self'"


def report_response(request, version: DatasetVersion, report_files: dict[str, str], kind: str) -> FileResponse:
    """One of a version's report files (an evaluation's, or the job report of the job that made it)."""
    if not policy.can_view_version(request.user, version):
        raise Http404("No such report.")
    if kind not in REPORT_TYPES or kind not in report_files:
        raise Http404(f"No {kind} report; available: {', '.join(sorted(report_files))}.")
    prefix, _, name = report_files[kind].rpartition("/")
    response = FileResponse(storage.open_version_file(prefix, name), content_type=REPORT_TYPES[kind],
                            as_attachment=kind == "pdf", filename=f"report-{version}.{kind}".replace("@", "-"))
    response["Content-Security-Policy"] = REPORT_CSP
    response["X-Frame-Options"] = "SAMEORIGIN"
    return response


def _filtered_coco_response(version: DatasetVersion, path: str, raw: str) -> StreamingHttpResponse:
    """A COCO file with objects below a visible fraction left out, filtered as it streams."""
    from generators.render.scenes.coco_filter import filter_coco_lines

    if not path.endswith("coco.json"):
        raise ValidationError({"min_visible": f"filters COCO annotation files only, not {path!r}"})
    try:
        threshold = float(raw)
    except ValueError:
        threshold = -1.0
    if not 0.0 <= threshold <= 1.0:
        raise ValidationError({"min_visible": f"must be a number from 0 to 1, got {raw!r}"})
    text = io.TextIOWrapper(storage.open_version_file(version.storage_prefix, path), encoding="utf-8")
    lines = (chunk.encode() for chunk in filter_coco_lines(text, threshold))
    response = StreamingHttpResponse(lines, content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{path.rsplit("/", 1)[-1]}"'
    return response
