"""Domain errors to HTTP: a 400 names the field, a 404 says what was not found.

Every error answer is shortened on the way out, so no message echoes a huge value in full.
"""

from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from generators.params import shorten
from jobs.types import JobParameterError, JobTargetNotFound


def exception_handler(exc, context):
    if isinstance(exc, JobParameterError):
        field, message = shorten(exc.field, 100), shorten(exc.message)
        response = Response({field: [message], "detail": f"{field}: {message}"}, status=status.HTTP_400_BAD_REQUEST)
    elif isinstance(exc, JobTargetNotFound):
        response = Response({"detail": str(exc)}, status=status.HTTP_404_NOT_FOUND)
    else:
        response = drf_exception_handler(exc, context)
    if response is not None:
        response.data = _shortened(response.data)
        if isinstance(response.data, dict) and "detail" not in response.data:
            response.data["detail"] = _summary(response.data)
    return response


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
