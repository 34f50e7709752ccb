"""A JSON parser that refuses what would crash or poison the layers below, naming the field.

Before parsing: bodies over ``SYNTHREG_MAX_REQUEST_BYTES`` (413) and nesting deeper than
``SYNTHREG_MAX_JSON_DEPTH`` (400, before the decoder can recurse). After: NUL characters
(PostgreSQL cannot store them) and numbers too large for a float (``1e400``), each a 400
with the dotted path of the value.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from django.conf import settings
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser

from synthreg.middleware import too_large_message

# A JSON string (escapes included) or one bracket: strings are skipped whole, so brackets
# inside them are not counted.
_STRING_OR_BRACKET = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')
# What PostgreSQL cannot store in text or jsonb: NUL, and halves of surrogate pairs.
_UNSTORABLE_CHARACTER = re.compile("[\x00\ud800-\udfff]")


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"


def nesting_depth_exceeds(text: str, limit: int) -> bool:
    depth = 0
    for match in _STRING_OR_BRACKET.finditer(text):
        token = match.group()
        if token in ("[", "{"):
            depth += 1
            if depth > limit:
                return True
        elif token in ("]", "}"):
            depth -= 1
    return False


_CHARACTERS = "NUL (\\u0000) or unpaired surrogate (\\ud800-\\udfff) characters"


def first_unstorable_value(data: Any) -> tuple[str, str] | None:
    """(dotted path, reason) of a string PostgreSQL cannot store or a non-finite number, else None."""
    stack: list[tuple[tuple[str, ...], Any]] = [((), data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str) and _UNSTORABLE_CHARACTER.search(value):
            return ".".join(path) or "body", f"must not contain {_CHARACTERS}"
        if isinstance(value, float) and not math.isfinite(value):
            return ".".join(path) or "body", "is a number too large to store"
        if isinstance(value, dict):
            for key, item in value.items():
                if _UNSTORABLE_CHARACTER.search(key):
                    return ".".join(path) or "body", f"has a key containing {_CHARACTERS}"
                stack.append(((*path, key), item))
        elif isinstance(value, list):
            stack.extend(((*path, str(index)), item) for index, item in enumerate(value))
    return None


class GuardedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.SYNTHREG_MAX_REQUEST_BYTES
        raw = stream.read(limit + 1)
        if len(raw) > limit:
            raise RequestTooLarge(too_large_message(limit))
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = raw.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise exceptions.ParseError(f"JSON parse error - the body is not valid {encoding}: {exc.reason}") from None
        depth = settings.SYNTHREG_MAX_JSON_DEPTH
        if nesting_depth_exceeds(text, depth):
            raise exceptions.ParseError(f"JSON parse error - nested deeper than {depth} levels (SYNTHREG_MAX_JSON_DEPTH)")
        try:
            data = json.loads(text, parse_constant=_refuse_constant)
        except (ValueError, RecursionError) as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from None
        if problem := first_unstorable_value(data):
            field, reason = problem
            raise exceptions.ValidationError({field: [reason]})
        return data


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")
