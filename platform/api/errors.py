"""Domain errors to HTTP: a 400 names the field, a 404 says what was not found.

Every error answer is shortened on the way out, so no message echoes a huge value in full.
"""

from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from generators.params import shorten
from jobs.types import JobParameterError, JobTargetNotFound, QuotaExceeded


def exception_handler(exc, context):
    if isinstance(exc, QuotaExceeded):  # before its base class: a full quota is no parameter's fault
        return Response({"detail": exc.message, "quota": exc.quota, "used": exc.used, "limit": exc.limit},
                        status=exc.status)
    if isinstance(exc, JobParameterError):
        response = Response({exc.field: [exc.message]}, status=status.HTTP_400_BAD_REQUEST)
    elif isinstance(exc, JobTargetNotFound):
        response = Response({"detail": str(exc)}, status=status.HTTP_404_NOT_FOUND)
    else:
        response = drf_exception_handler(exc, context)
    if response is not None:
        data = _shortened(response.data)
        data = _flat(data) if isinstance(data, dict) else {"detail": "; ".join(map(str, data))}
        data.setdefault("detail", _summary(data))
        response.data = data
    return response


def _flat(errors: dict, prefix: str = "") -> dict:
    """One shape for every error: each (dotted) field holds a list of messages, `detail` one line."""
    flat = {}
    for field, messages in errors.items():
        name = f"{prefix}{field}"
        if isinstance(messages, dict):
            flat |= _flat(messages, f"{name}.")
        elif name == "detail":
            flat[name] = messages
        else:
            flat[name] = [str(m) for m in messages] if isinstance(messages, list) else [str(messages)]
    return flat


def _summary(errors: dict) -> str:
    """One line over every refused field: `field: first message; ...`."""
    parts = []
    for field, messages in errors.items():
        first = messages[0] if isinstance(messages, list) and messages else messages
        parts.append(f"{field}: {first}")
    return "; ".join(parts)


def _shortened(data):
    if isinstance(data, dict):
        return {shorten(str(key), 100): _shortened(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_shortened(item) for item in data[:20]]
    return shorten(data) if isinstance(data, str) else data
