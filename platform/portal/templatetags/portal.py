import json
import math
import numbers

import markdown as markdown_lib
from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

from portal.schema_form import mark_error

register = template.Library()


@register.filter
def markdown(text: str) -> str:
    """Render a dataset card; raw HTML in it is escaped, never trusted."""
    return mark_safe(markdown_lib.markdown(escape(text or ""), extensions=["fenced_code", "tables"]))


@register.filter
def filesize(size: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return str(size)


@register.filter
def percent(value: float) -> int:
    return round((value or 0) * 100)


@register.filter
def human(value, digits: int = 3):
    """A number for people: three significant digits, thousands separated; "—" for none; text as it is."""
    if value is None:
        return "—"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return value
    if isinstance(value, numbers.Integral):
        return f"{int(value):,}"
    value = float(value)
    if not math.isfinite(value) or value == 0:
        return f"{value:g}"
    if abs(value) >= 10 ** digits:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}" if abs(value) >= 1e-4 else f"{value:.{digits - 1}e}"


@register.simple_tag(takes_context=True)
def page_url(context, number: int) -> str:
    """The current catalog query with another page number."""
    query = context["request"].GET.copy()
    query["page"] = number
    return "?" + query.urlencode()


@register.filter
def get_item(mapping, key):
    return mapping.get(key)


@register.simple_tag
def field_errors(fields, error: str) -> str:
    """Put a refusal beside the field it names; returns the summary line for the top of the form."""
    return mark_error(fields, error)


@register.filter
def has_error(fields) -> bool:
    """Whether any field in a group (at any depth) was refused: the group opens to show it."""
    return any(f.error or has_error(f.children) for f in fields)


@register.filter
def as_json(value) -> str:
    """A value as compact JSON (what an API request would carry), for people to read or copy."""
    return json.dumps(value, separators=(", ", ": "), sort_keys=True)
