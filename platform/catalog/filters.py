"""The datasets' FilterSet: the API's list and the portal's catalog facets read this one declaration."""

from __future__ import annotations

import json

import django_filters
from django.db.models import Q

from catalog.models import Dataset, Modality


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

    q = django_filters.CharFilter(method="search", max_length=200, help_text="Words in the slug, title or card.")
    kind = django_filters.ChoiceFilter(choices=Dataset.Kind.choices)
    modality = django_filters.ChoiceFilter(choices=Modality.choices)
    access = django_filters.ChoiceFilter(choices=Dataset.Access.choices)
    tag = django_filters.CharFilter(method="with_tag", max_length=100, help_text="One of the dataset's tags.")
    generator = django_filters.CharFilter(field_name="versions__generator__slug", distinct=True, max_length=100,
                                          help_text="Slug of a generator that made one of its versions.")
    reference = django_filters.CharFilter(field_name="reference__slug", max_length=100,
                                          help_text="Slug of the reference dataset it is evaluated against.")
    sort = django_filters.OrderingFilter(fields=(("slug", "slug"), ("title", "title"), ("created_at", "created"),
                                                 ("updated_at", "updated")))

    class Meta:
        model = Dataset
        fields = ["q", "kind", "modality", "access", "tag", "generator", "reference"]

    def search(self, queryset, name, value):
        for word in value.split():
            queryset = queryset.filter(Q(slug__icontains=word) | Q(title__icontains=word) | Q(card__icontains=word))
        return queryset

    def with_tag(self, queryset, name, value):
        # A JSON list's text holds each element quoted; SQLite has no JSON `contains` lookup.
        return queryset.filter(tags__icontains=json.dumps(value))
