"""The Job row: what to run, who asked, and where it stands."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse


class Job(models.Model):
    class State(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELLED = "cancelled"

    FINISHED_STATES = (State.SUCCEEDED, State.FAILED, State.CANCELLED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=32)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="jobs")
    parameters = models.JSONField(default=dict)
    queue = models.CharField(max_length=16, default="cpu")
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED, db_index=True)
    progress = models.FloatField(default=0.0)
    progress_message = models.CharField(max_length=200, blank=True)
    # The last progress messages, oldest first ({"at", "progress", "message"}): the job page's live
    # log tail. Only messages our code writes (JobRun.progress), never a data value.
    progress_log = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # "hostname:pid" of the process holding the job while it runs.
    worker = models.CharField(max_length=200, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    # What a finished job reports beside its outputs (e.g. a shard's sample count).
    result = models.JSONField(default=dict, blank=True)
    celery_task_id = models.CharField(max_length=64, blank=True)
    # The dataset a generating job publishes into, and the versions a job reads.
    dataset = models.ForeignKey("catalog.Dataset", null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs")
    inputs = models.ManyToManyField("catalog.DatasetVersion", blank=True, related_name="consumer_jobs")
    # Shards of a large job are child jobs: claimed, retried and capped like any other.
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="shards")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.type} {self.id} ({self.state})"

    def get_absolute_url(self) -> str:
        return reverse("portal:job", kwargs={"pk": self.pk})

    @property
    def finished(self) -> bool:
        return self.state in self.FINISHED_STATES
