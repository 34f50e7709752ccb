"""Grants on private and restricted datasets, and the audit trail of who read what."""

from django.conf import settings
from django.db import models


class Grant(models.Model):
    dataset = models.ForeignKey("catalog.Dataset", on_delete=models.CASCADE, related_name="grants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="grants")
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["dataset", "user"], name="unique_grant")]


class AuditEvent(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=32)  # download, submit, cancel, denied
    target = models.CharField(max_length=200)
    details = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at"]


class PrivacySpend(models.Model):
    """One entry of a restricted dataset's privacy ledger: a job that read it, and its epsilon."""

    dataset = models.ForeignKey("catalog.Dataset", on_delete=models.PROTECT, related_name="privacy_spends")
    job = models.ForeignKey("jobs.Job", on_delete=models.CASCADE, related_name="privacy_spends")
    epsilon = models.FloatField(default=0.0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["dataset", "job"], name="one_spend_per_job_and_dataset")]


class AccessRequest(models.Model):
    """A user asking the owner of a dataset for a grant; owners and staff decide, and each decision is audited."""

    class State(models.TextChoices):
        PENDING = "pending"
        GRANTED = "granted"
        REFUSED = "refused"

    dataset = models.ForeignKey("catalog.Dataset", on_delete=models.CASCADE, related_name="access_requests")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_requests")
    reason = models.TextField(max_length=2000, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["dataset", "user"], condition=models.Q(state="pending"),
                                               name="one_pending_access_request")]
