"""One FilterSet per listed model: typed query parameters, so a bad value is a 400 naming it.

The datasets' FilterSet lives in the catalog, where the portal's catalog page reads it too."""

from __future__ import annotations

import django_filters
from django import forms
from drf_spectacular.utils import extend_schema_field

from catalog.filters import DatasetFilter, StrictFilterSet
from catalog.models import Evaluation
from jobs.models import Job

__all__ = ["DatasetFilter", "EvaluationFilter", "JobFilter"]

MAX_ID = 2**63 - 1  # the largest primary key the databases hold


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class IdFilter(django_filters.NumberFilter):
    """A whole-number id, within what the database can store."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, min_value=1, max_value=MAX_ID, **kwargs)


class JobFilter(StrictFilterSet):
    state = django_filters.ChoiceFilter(choices=Job.State.choices)
    parent = django_filters.UUIDFilter(help_text="Id of a sharded job: lists its shards.")

    class Meta:
        model = Job
        fields = ["state", "parent"]


class EvaluationFilter(StrictFilterSet):
    version = IdFilter(field_name="version_id", help_text="Id of the evaluated dataset version.")

    class Meta:
        model = Evaluation
        fields = ["version"]
