"""What a client locked out by django-axes (too many failed logins) is told, and for how long."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render


def client_address(request: HttpRequest) -> str:
    """The address a lockout counts: behind N proxies, the one the outermost proxy saw.

    Each proxy appends the address it was called from to X-Forwarded-For, so the N-th entry
    from the right is the client's; entries further left are whatever the client sent.
    """
    proxies = settings.SYNTHREG_PROXY_COUNT
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    if proxies and len(forwarded) >= proxies:
        try:
            return str(ipaddress.ip_address(forwarded[-proxies]))
        except ValueError:
            pass  # not written by a proxy of ours: the socket's address is all we know
    return request.META.get("REMOTE_ADDR", "")


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
