"""What a client locked out by django-axes (too many failed logins) is told, and for how long."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render


def retry_after_seconds() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds())


def lockout_message() -> str:
    minutes = max(1, round(retry_after_seconds() / 60))
    return (f"Too many failed logins for this username from your address: try again in {minutes} "
            f"minute{'s' if minutes != 1 else ''} (an attempt before then starts the wait again), "
            "or ask an administrator to unlock it (`manage.py axes_reset_username USERNAME`).")


def lockout_response(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """Axes' lockout answer: 429 with Retry-After; JSON for the API, a page for the portal and admin."""
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": lockout_message()}, status=429)
    else:
        response = render(request, "registration/locked_out.html", {"message": lockout_message()}, status=429)
    response["Retry-After"] = str(retry_after_seconds())
    return response
