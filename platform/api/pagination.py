"""Limit/offset pagination with bounds: out-of-range or non-integer values are a 400 naming the field."""

from __future__ import annotations

from django.conf import settings
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination

MAX_OFFSET = 10**9


def _bounded_int(request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    value = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 10 else -1
    if not low <= value <= high:
        raise ValidationError({name: [f"must be an integer from {low} to {high}"]})
    return value


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    @property
    def max_limit(self) -> int:
        return settings.SYNTHREG_MAX_PAGE_SIZE

    def get_limit(self, request) -> int:
        return _bounded_int(request, self.limit_query_param, self.default_limit, 1, self.max_limit)

    def get_offset(self, request) -> int:
        return _bounded_int(request, self.offset_query_param, 0, 0, MAX_OFFSET)

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        bounds = {self.limit_query_param: (1, self.max_limit), self.offset_query_param: (0, MAX_OFFSET)}
        for parameter in parameters:
            low, high = bounds[parameter["name"]]
            parameter["schema"].update(minimum=low, maximum=high)
            parameter["description"] += f" From {low} to {high}."
        return parameters
