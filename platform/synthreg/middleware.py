"""Refuse requests the layers below cannot take, before any view runs.

Bodies over ``SYNTHREG_MAX_REQUEST_BYTES`` answer 413; a NUL character in the URL path, a
query parameter or a form field answers 400 naming it (PostgreSQL cannot store NUL, and no
name or value here ever needs one). JSON bodies are checked by ``api.parsers``.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError

from generators.params import shorten

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def too_large_message(limit: int) -> str:
    return f"the request body is larger than {limit:,} bytes (SYNTHREG_MAX_REQUEST_BYTES)"


def refusal(request: HttpRequest, status: int, field: str, message: str) -> HttpResponse:
    """The API's error shape ({field: [message], detail}) under /api/, plain text elsewhere."""
    if request.path_info.startswith("/api/"):
        return JsonResponse({field: [message], "detail": f"{field}: {message}"}, status=status)
    return HttpResponse(f"{field}: {message}\n", status=status, content_type="text/plain; charset=utf-8")


def _field_with_nul(request: HttpRequest) -> str | None:
    if "\x00" in request.path_info:
        return "path"
    sources = [request.GET]
    if request.method == "POST" and request.content_type in FORM_TYPES:
        sources.append(request.POST)
    for source in sources:
        for name, values in source.lists():
            if "\x00" in name or any("\x00" in value for value in values):
                return shorten(name.replace("\x00", "\\u0000"), 100)
    return None


class RequestLimitsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.SYNTHREG_MAX_REQUEST_BYTES
        length = request.META.get("CONTENT_LENGTH") or "0"
        if length.isdigit() and int(length) > limit:
            return refusal(request, 413, "body", too_large_message(limit))
        try:
            field = _field_with_nul(request)
        except RequestDataTooBig:
            return refusal(request, 413, "body", too_large_message(limit))
        except (TooManyFieldsSent, TooManyFilesSent, MultiPartParserError) as exc:
            return refusal(request, 400, "body", shorten(str(exc), 200))
        if field is not None:
            return refusal(request, 400, field, "must not contain NUL characters (\\u0000)")
        return self.get_response(request)
