"""Streaming version files out, checked against the manifest and the access policy."""

import io

from django.http import FileResponse, Http404, StreamingHttpResponse
from rest_framework.exceptions import PermissionDenied, ValidationError

from access import policy
from api.archives import stream_version_zip
from catalog import storage
from catalog.models import DatasetVersion


def _check_download(request, version: DatasetVersion, path: str) -> None:
    if not policy.can_view(request.user, version.dataset):
        raise Http404("No such version.")
    if not policy.can_download(request.user, version.dataset):
        policy.audit(request.user, "denied", str(version), path=path)
        raise PermissionDenied(
            f"{version.dataset.slug} is restricted real data: it can be used by jobs on the platform "
            "but never downloaded.")
    if version.status != DatasetVersion.Status.READY:
        raise Http404(f"Version {version} is {version.status}, not ready.")


def version_archive_response(request, version: DatasetVersion) -> StreamingHttpResponse:
    _check_download(request, version, "*")
    policy.audit(request.user, "download", str(version), path="*")
    response = StreamingHttpResponse(stream_version_zip(version), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{version.dataset.slug}-v{version.number}.zip"'
    return response


def version_file_response(request, version: DatasetVersion, path: str) -> FileResponse:
    _check_download(request, version, path)
    # Only paths listed in the manifest are served: no path tricks reach storage.
    entry = version.manifest_entry(path)
    if entry is None:
        raise Http404(f"{path!r} is not a file of {version}.")
    policy.audit(request.user, "download", str(version), path=path)
    if "min_visible" in request.GET:
        return _filtered_coco_response(version, path, request.GET["min_visible"])
    try:
        source = storage.open_version_file(version.storage_prefix, path)
    except FileNotFoundError:
        raise Http404(f"{path} of {version} is listed in its manifest but missing from storage; "
                      "`manage.py verify` lists every damaged version for an administrator.") from None
    response = FileResponse(source, as_attachment=True, filename=path.rsplit("/", 1)[-1])
    response["Content-Length"] = str(entry["size"])
    response["X-Checksum-SHA256"] = entry["sha256"]
    return response


REPORT_TYPES = {"html": "text/html; charset=utf-8", "pdf": "application/pdf"}
# The report is our own static HTML with inline SVG: it needs no script and loads nothing.
REPORT_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; frame-ancestors 'self'"


def report_response(request, evaluation, kind: str) -> FileResponse:
    if not policy.can_view(request.user, evaluation.version.dataset):
        raise Http404("No such evaluation.")
    if kind not in REPORT_TYPES or kind not in evaluation.report_files:
        raise Http404(f"No {kind} report; available: {', '.join(sorted(evaluation.report_files))}.")
    prefix, _, name = evaluation.report_files[kind].rpartition("/")
    response = FileResponse(storage.open_version_file(prefix, name), content_type=REPORT_TYPES[kind],
                            as_attachment=kind == "pdf", filename=f"report-{evaluation.version}.{kind}".replace("@", "-"))
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
