"""Typed filters and ordering of the job list, for the API and the portal alike."""

from __future__ import annotations

import django_filters

from catalog.filters import NameFilter, StrictFilterSet
from jobs.models import Job


class JobFilter(StrictFilterSet):
    state = django_filters.ChoiceFilter(choices=Job.State.choices)
    parent = django_filters.UUIDFilter(help_text="Id of a sharded job: lists its shards.")
    type = NameFilter(help_text="The job type's name.")
    dataset = NameFilter(field_name="dataset__slug", help_text="Slug of the dataset it writes to.")
    ordering = django_filters.OrderingFilter(fields=["created_at", "started_at", "finished_at", "state", "type"])

    class Meta:
        model = Job
        fields = ["state", "parent", "type", "dataset"]
