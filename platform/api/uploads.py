"""Uploads of real data: one multipart request, or a resumable session of Content-Range chunks.

Both end in ``catalog.uploads``: the file is checked whole (format sniffed, archive members,
sizes, schema) before a reference dataset and its version are published; a refusal is a 4xx
naming the field, and leaves nothing behind.
"""

from __future__ import annotations

import json
from typing import Any

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.decorators import api_view, parser_classes, permission_classes
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from access import policy
from api.parsers import GuardedJSONParser
from catalog.models import DatasetVersion, UploadSession
from catalog.uploads import sessions
from catalog.uploads.errors import UploadRefused
from catalog.uploads.register import Registration, check_registration, check_upload, register
from catalog.uploads.sniff import UPLOAD_FORMATS, default_format

REGISTRATION_FIELDS = {
    "slug": serializers.SlugField(help_text="The new reference dataset's slug."),
    "title": serializers.CharField(required=False),
    "card": serializers.CharField(required=False, help_text="Dataset card, Markdown."),
    # Text, not an enum: an enum named "access" would collide with the datasets' own in the schema.
    "access": serializers.CharField(default="restricted", help_text=(
        "`restricted` (the default: real data never leaves) or `private`.")),
    "epsilon_budget": serializers.FloatField(required=False, help_text="Differential-privacy budget."),
    "privacy_thresholds": serializers.JSONField(required=False, help_text="Metric name to gate threshold."),
    "columns": serializers.JSONField(required=False, help_text=(
        "Column name to type (numeric, categorical, boolean, datetime) or `drop`: overrides the inferred schema.")),
}
MULTIPART_REQUEST = inline_serializer("UploadRequest", {
    "file": serializers.FileField(), "format": serializers.ChoiceField(UPLOAD_FORMATS, required=False),
    "check": serializers.BooleanField(required=False, help_text="Only check: answer the inferred schema."),
    **REGISTRATION_FIELDS})
SESSION_REQUEST = inline_serializer("UploadSessionRequest", {
    "filename": serializers.CharField(), "size": serializers.IntegerField(),
    "format": serializers.ChoiceField(UPLOAD_FORMATS, required=False)})
FINISH_REQUEST = inline_serializer("UploadFinishRequest", REGISTRATION_FIELDS)
REFUSED = OpenApiResponse(description="Refused: the field named says why; nothing was written.")
# What every upload operation may answer besides success (the refusal names the field).
REFUSALS = {400: REFUSED, 403: OpenApiResponse(description="Past the owner's storage quota (`quota`)."), 404: OpenApiResponse(description="No such upload session of yours."),
            409: OpenApiResponse(description="Not at the session's offset, or bytes still missing: "
                                             "`Upload-Offset` says where it stands."),
            410: OpenApiResponse(description="The session expired, was finished, abandoned or refused."),
            413: REFUSED}


def refused(exc: UploadRefused) -> Response:
    return Response({exc.field: [exc.message], "detail": str(exc)}, status=exc.status)


def _json_field(data: Any, name: str) -> Any:
    """A JSON object sent as a form field's text (multipart) or as JSON (session finish)."""
    value = data.get(name)
    if isinstance(value, str) and value.strip():
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise UploadRefused(name, "is not valid JSON") from None
    return value or None


def registration_from(data: Any) -> Registration:
    return Registration(
        slug=str(data.get("slug") or ""), title=str(data.get("title") or ""), card=str(data.get("card") or ""),
        access=str(data.get("access") or "restricted"), epsilon_budget=data.get("epsilon_budget"),
        privacy_thresholds=_json_field(data, "privacy_thresholds") or {}, columns=_json_field(data, "columns"))


def published(request, version: DatasetVersion) -> Response:
    dataset = version.dataset
    policy.audit(request.user, "upload", dataset.slug, access=dataset.access,
                 sha256=version.summary.get("upload", {}).get("sha256"))
    return Response({
        "dataset": dataset.slug, "access": dataset.access, "format": dataset.format, "version": version.pk,
        "number": version.number, "samples": version.samples, "summary": version.summary,
        "url": request.build_absolute_uri(reverse("api:dataset-detail", args=[dataset.slug])),
    }, status=status.HTTP_201_CREATED)


@extend_schema(request={"multipart/form-data": MULTIPART_REQUEST},
               responses={201: OpenApiTypes.OBJECT, 200: OpenApiTypes.OBJECT, **REFUSALS})
@api_view(["POST"])
@permission_classes([IsAuthenticated])
@parser_classes([MultiPartParser])
def upload(request) -> Response:
    """Register real data from one file (up to the request limit; larger ones: `upload-sessions`).

    A table (CSV or Parquet) becomes `table/1`, an archive of PNGs with `labels.csv` or an NPZ of
    `images` and `labels` becomes `images/1`, in a new reference dataset (restricted by default).
    With `check=true` nothing is registered: the answer is the inferred schema to confirm."""
    upload_file = request.FILES.get("file")
    try:
        if upload_file is None:
            raise UploadRefused("file", "attach the file as the multipart field `file`")
        filename = upload_file.name
        format = str(request.data.get("format") or default_format(filename))
        if str(request.data.get("check", "")).lower() in ("1", "true", "yes", "on"):
            return Response(check_upload(upload_file, filename, format).as_dict())
        reg = registration_from(request.data)
        version = register(request.user, reg, upload_file, filename, format)
    except UploadRefused as exc:
        return refused(exc)
    return published(request, version)


def _session_body(request, session: UploadSession) -> Response:
    body = {"id": str(session.pk), "filename": session.filename, "format": session.format, "size": session.size,
            "offset": session.received, "state": session.state, "error": session.error,
            "expires_at": session.expires_at, "version": session.version_id,
            "url": request.build_absolute_uri(reverse("api:upload-session", args=[session.pk]))}
    response = Response(body)
    response["Upload-Offset"] = str(session.received)
    response["Upload-Length"] = str(session.size)
    return response


def _own_session(request, pk) -> UploadSession:
    session = UploadSession.objects.filter(pk=pk, owner=request.user).first()
    if session is None:
        raise UploadRefused("upload", "no such upload session", status=404)
    return session


@extend_schema(request=SESSION_REQUEST, responses={201: OpenApiTypes.OBJECT, **REFUSALS})
@api_view(["POST"])
@permission_classes([IsAuthenticated])
@parser_classes([GuardedJSONParser])
def upload_sessions(request) -> Response:
    """Start a resumable upload of `size` bytes; then `PUT` its chunks to the session's `url`."""
    data = request.data if isinstance(request.data, dict) else {}
    try:
        filename = str(data.get("filename") or "")
        format = str(data.get("format") or (default_format(filename, "filename") if filename else ""))
        session = sessions.create(request.user, filename, data.get("size"), format)
    except UploadRefused as exc:
        return refused(exc)
    response = _session_body(request, session)
    response.status_code = status.HTTP_201_CREATED
    response["Location"] = response.data["url"]
    return response


@extend_schema(
    methods=["PUT"], request={"application/octet-stream": bytes},
    parameters=[OpenApiParameter("Content-Range", str, OpenApiParameter.HEADER, required=True,
                                 description="`bytes FIRST-LAST/TOTAL`; FIRST must be the session's offset.")],
    responses={200: OpenApiTypes.OBJECT, **REFUSALS})
@extend_schema(methods=["GET", "HEAD"], responses={200: OpenApiTypes.OBJECT, **REFUSALS})
@extend_schema(methods=["DELETE"], responses={204: None, **REFUSALS})
@api_view(["GET", "HEAD", "PUT", "DELETE"])
@permission_classes([IsAuthenticated])
@parser_classes([])
def upload_session(request, pk) -> Response:
    """The session's offset (`GET`/`HEAD`, also in `Upload-Offset`), one more chunk (`PUT` with
    `Content-Range`), or the upload abandoned and its bytes removed (`DELETE`)."""
    try:
        session = _own_session(request, pk)
        if request.method == "PUT":
            session = sessions.append(session, request.headers.get("Content-Range"), request.body)
        elif request.method == "DELETE":
            sessions.discard(session, "abandoned by its owner")
            return Response(status=status.HTTP_204_NO_CONTENT)
    except UploadRefused as exc:
        response = refused(exc)
        if isinstance(exc, sessions.Conflict):
            response["Upload-Offset"] = str(UploadSession.objects.get(pk=pk).received)
        return response
    return _session_body(request, session)


@extend_schema(request=None, responses={200: OpenApiTypes.OBJECT, **REFUSALS})
@api_view(["POST"])
@permission_classes([IsAuthenticated])
def upload_session_check(request, pk) -> Response:
    """Check the complete upload: its kind, size, sha256, samples and inferred column schema."""
    try:
        return Response(sessions.inspect_session(_own_session(request, pk)).as_dict())
    except UploadRefused as exc:
        return refused(exc)


@extend_schema(request=FINISH_REQUEST, responses={201: OpenApiTypes.OBJECT, **REFUSALS})
@api_view(["POST"])
@permission_classes([IsAuthenticated])
@parser_classes([GuardedJSONParser])
def upload_session_finish(request, pk) -> Response:
    """Check the complete upload and publish it as a new reference dataset; its bytes are removed."""
    data = request.data if isinstance(request.data, dict) else {}
    try:
        session = _own_session(request, pk)
        reg = registration_from(data)
        check_registration(request.user, reg)
        version = sessions.finish(session, reg)
    except UploadRefused as exc:
        return refused(exc)
    return published(request, version)
