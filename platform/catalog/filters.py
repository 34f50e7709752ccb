"""Typed filters, search and ordering of the catalog's lists: the API's query parameters and the
portal's facets are these FilterSets (so a bad value is a 400 naming it, in both)."""

from __future__ import annotations

import json

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from drf_spectacular.utils import extend_schema_field

from catalog.models import Dataset, DatasetVersion, Evaluation, Modality

MAX_ID = 2**63 - 1  # the largest primary key the databases hold
MAX_SEARCH = 200  # characters of a search: enough for any title, bounded for the database


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class IdFilter(django_filters.NumberFilter):
    """A whole-number id, within what the database can store."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, min_value=1, max_value=MAX_ID, **kwargs)


class StrictFilterSet(django_filters.FilterSet):
    """A filter named in the query needs a value: `?state=` is a 400, not a silently ignored filter.

    A search box sends `?q=` when left empty, so the filters named in ``blank_means_all`` may be empty."""

    blank_means_all: tuple[str, ...] = ("q",)

    def is_valid(self) -> bool:
        valid = super().is_valid()
        for name in self.filters:
            if name not in self.blank_means_all and self.data.get(name, None) == "":
                self.form.add_error(name, "must not be empty; leave the parameter out not to filter")
                valid = False
        return valid


def search_filter(*fields: str) -> django_filters.CharFilter:
    """``q``: every word must appear (case-insensitively) in one of ``fields``."""
    def search(queryset: QuerySet, name: str, value: str) -> QuerySet:
        for word in value.split():
            queryset = queryset.filter(Q(*(Q(**{f"{field}__icontains": word}) for field in fields), _connector=Q.OR))
        return queryset
    return django_filters.CharFilter(method=search, max_length=MAX_SEARCH,
                                     help_text=f"Words to find in {', '.join(fields)} (all of them).")


class DatasetFilter(StrictFilterSet):
    q = search_filter("slug", "title", "card")
    kind = django_filters.ChoiceFilter(choices=Dataset.Kind.choices)
    modality = django_filters.ChoiceFilter(choices=Modality.choices)
    access = django_filters.ChoiceFilter(choices=Dataset.Access.choices)
    tag = django_filters.CharFilter(method="has_tag", max_length=100, help_text="Datasets carrying this tag.")
    generator = django_filters.CharFilter(field_name="versions__generator__slug", distinct=True, max_length=100,
                                          help_text="Slug of a generator that made one of its versions.")
    reference = django_filters.CharFilter(field_name="reference__slug", max_length=100,
                                          help_text="Slug of the reference dataset it is evaluated against.")
    ordering = django_filters.OrderingFilter(fields=["slug", "title", "created_at", "updated_at"])

    class Meta:
        model = Dataset
        fields = ["q", "kind", "modality", "access", "tag", "generator", "reference"]

    def has_tag(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # The tag as it is written inside the stored JSON list: a whole tag, never part of one
        # (the JSON `contains` lookup would be exact, but SQLite has none).
        return queryset.filter(tags__icontains=json.dumps(value))


class VersionFilter(StrictFilterSet):
    dataset = django_filters.CharFilter(field_name="dataset__slug", max_length=100, help_text="The dataset's slug.")
    status = django_filters.ChoiceFilter(choices=DatasetVersion.Status.choices)
    generator = django_filters.CharFilter(field_name="generator__slug", max_length=100,
                                          help_text="Slug of the generator that made it.")
    modality = django_filters.ChoiceFilter(field_name="dataset__modality", choices=Modality.choices)
    ordering = django_filters.OrderingFilter(fields=["number", "created_at", "total_size", "samples"])

    class Meta:
        model = DatasetVersion
        fields = ["dataset", "status", "generator", "modality"]


class EvaluationFilter(StrictFilterSet):
    version = IdFilter(field_name="version_id", help_text="Id of the evaluated dataset version.")

    class Meta:
        model = Evaluation
        fields = ["version"]
