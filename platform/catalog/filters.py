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


@extend_schema_field({"type": "string", "minLength": 1, "maxLength": 100})
class NameFilter(django_filters.CharFilter):
    """A slug or a name: never empty (an empty one is a 400, as the schema says)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, max_length=100, **kwargs)


@extend_schema_field({"type": "string", "maxLength": MAX_SEARCH})
class SearchFilter(django_filters.CharFilter):
    """Words that must all appear, case-insensitively, in one of ``fields``; empty finds all."""

    def __init__(self, *fields: str, **kwargs) -> None:
        self.fields = fields
        super().__init__(method=self.search, max_length=MAX_SEARCH,
                         help_text=f"Words to find in {', '.join(fields)} (all of them).", **kwargs)

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        for word in value.split():
            queryset = queryset.filter(Q(*(Q(**{f"{field}__icontains": word}) for field in self.fields),
                                         _connector=Q.OR))
        return queryset


class StrictFilterSet(django_filters.FilterSet):
    """A filter named in the query needs a value: `?state=` is a 400, not a silently ignored filter.

    A search box or a sort menu left alone sends `?q=` or `?ordering=`: those two may be empty."""

    blank_means_all: tuple[str, ...] = ("q", "ordering")

    def is_valid(self) -> bool:
        valid = super().is_valid()
        for name in self.filters:
            if name not in self.blank_means_all and self.data.get(name, None) == "":
                self.form.add_error(name, "must not be empty; leave the parameter out not to filter")
                valid = False
        return valid


class DatasetFilter(StrictFilterSet):
    q = SearchFilter("slug", "title", "card")
    kind = django_filters.ChoiceFilter(choices=Dataset.Kind.choices)
    modality = django_filters.ChoiceFilter(choices=Modality.choices)
    access = django_filters.ChoiceFilter(choices=Dataset.Access.choices)
    tag = NameFilter(method="has_tag", help_text="Datasets carrying this tag.")
    generator = NameFilter(field_name="versions__generator__slug", distinct=True,
                                          help_text="Slug of a generator that made one of its versions.")
    reference = NameFilter(field_name="reference__slug",
                                          help_text="Slug of the reference dataset it is evaluated against.")
    ordering = django_filters.OrderingFilter(fields=["slug", "title", "created_at", "updated_at"])

    class Meta:
        model = Dataset
        fields = ["q", "kind", "modality", "access", "tag", "generator", "reference"]

    def has_tag(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # The tag as it is written inside the stored JSON list: a whole tag, never part of one
        # (the JSON `contains` lookup would be exact, but SQLite has none). SQLite keeps
        # non-ASCII escaped, PostgreSQL's jsonb prints it as it is.
        return queryset.filter(Q(tags__icontains=json.dumps(value))
                               | Q(tags__icontains=json.dumps(value, ensure_ascii=False)))


class VersionFilter(StrictFilterSet):
    dataset = NameFilter(field_name="dataset__slug", help_text="The dataset's slug.")
    status = django_filters.ChoiceFilter(choices=DatasetVersion.Status.choices)
    generator = NameFilter(field_name="generator__slug",
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
