import markdown as markdown_lib
from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

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
