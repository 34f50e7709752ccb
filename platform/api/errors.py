"""Domain errors to HTTP: a 400 names the field, a 404 says what was not found."""

from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from jobs.types import JobParameterError, JobTargetNotFound, QuotaExceeded


def exception_handler(exc, context):
    if isinstance(exc, QuotaExceeded):  # before its base class: a full quota is no parameter's fault
        return Response({"detail": exc.message, "quota": exc.quota, "used": exc.used, "limit": exc.limit},
                        status=exc.status)
    if isinstance(exc, JobParameterError):
        return Response(
            {exc.field: [exc.message], "detail": f"{exc.field}: {exc.message}"},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, JobTargetNotFound):
        return Response({"detail": str(exc)}, status=status.HTTP_404_NOT_FOUND)
    return drf_exception_handler(exc, context)
