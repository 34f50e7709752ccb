"""The datasets' FilterSet: the API's list and the portal's catalog facets read this one declaration."""

from __future__ import annotations

import json

import django_filters
from django.db.models import Q
from drf_spectacular.utils import extend_schema_field

from catalog.models import Dataset, Modality


@extend_schema_field({"type": "string", "minLength": 1, "maxLength": 200})
class TextFilter(django_filters.CharFilter):
    """Free text; never empty (StrictFilterSet refuses `?q=`), so the schema says minLength 1."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, max_length=200, **kwargs)


# Sort keys and the fields they order by; `-` first for descending.
SORTS = {"slug": "slug", "title": "title", "created": "created_at", "updated": "updated_at"}


class StrictFilterSet(django_filters.FilterSet):
    """A filter named in the query needs a value: `?state=` is a 400, not a silently ignored filter."""

    def is_valid(self) -> bool:
        valid = super().is_valid()
        for name in self.filters:
            if self.data.get(name, None) == "":
                self.form.add_error(name, "must not be empty; leave the parameter out not to filter")
                valid = False
        return valid


class DatasetFilter(StrictFilterSet):
    """Serves the API's dataset list and the portal's catalog facets alike."""

    q = TextFilter(method="search", help_text="Words in the slug, title or card.")
    kind = django_filters.ChoiceFilter(choices=Dataset.Kind.choices)
    modality = django_filters.ChoiceFilter(choices=Modality.choices)
    access = django_filters.ChoiceFilter(choices=Dataset.Access.choices)
    tag = TextFilter(method="with_tag", help_text="One of the dataset's tags.")
    generator = TextFilter(field_name="versions__generator__slug", distinct=True,
                           help_text="Slug of a generator that made one of its versions.")
    reference = TextFilter(field_name="reference__slug",
                           help_text="Slug of the reference dataset it is evaluated against.")
    sort = django_filters.ChoiceFilter(method="sort_by", help_text="A sort key; `-` first for descending.",
                                       choices=[(f"{sign}{key}",) * 2 for key in SORTS for sign in ("", "-")])

    class Meta:
        model = Dataset
        fields = ["q", "kind", "modality", "access", "tag", "generator", "reference"]

    def sort_by(self, queryset, name, value):
        descending = value.startswith("-")
        return queryset.order_by(("-" if descending else "") + SORTS[value.lstrip("-")], "slug")

    def search(self, queryset, name, value):
        for word in value.split():
            queryset = queryset.filter(Q(slug__icontains=word) | Q(title__icontains=word) | Q(card__icontains=word))
        return queryset

    def with_tag(self, queryset, name, value):
        # A JSON list's text holds each element quoted (SQLite has no JSON `contains` lookup);
        # SQLite keeps non-ASCII escaped, PostgreSQL's jsonb prints it as it is.
        return queryset.filter(Q(tags__icontains=json.dumps(value)) | Q(tags__icontains=json.dumps(value, ensure_ascii=False)))
