"""Asking for access to a dataset, and the owner's (or an administrator's) audited answer."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from access import gate, policy
from access.models import AccessRequest, Grant
from catalog.models import Dataset


class NotAllowed(PermissionError):
    """The user may not make or decide this request."""


def request_access(user, dataset: Dataset, reason: str = "") -> AccessRequest:
    """The user's pending request for ``dataset`` (made now, or the one already waiting)."""
    if not policy.can_request_access(user, dataset):
        raise NotAllowed(f"you cannot request access to {dataset.slug}")
    try:
        with transaction.atomic():
            made = AccessRequest.objects.create(dataset=dataset, user=user, reason=reason[:2000])
    except IntegrityError:  # one pending request per user and dataset: a second click finds the first
        return AccessRequest.objects.get(dataset=dataset, user=user, state=AccessRequest.State.PENDING)
    policy.audit(user, "access-request", dataset.slug, request=made.pk)
    return made


def pending_for(user, dataset: Dataset):
    """The requests waiting on a dataset, for those who may decide them (none for anyone else)."""
    if not policy.can_manage(user, dataset):
        return AccessRequest.objects.none()
    return dataset.access_requests.filter(state=AccessRequest.State.PENDING).select_related("user")


@transaction.atomic
def decide(request: AccessRequest, decider, grant: bool) -> AccessRequest:
    """Grant or refuse a pending request; the decision and who made it go to the audit trail."""
    request = AccessRequest.objects.select_for_update().select_related("dataset", "user").get(pk=request.pk)
    if not policy.can_manage(decider, request.dataset):
        raise NotAllowed(f"only the owner of {request.dataset.slug} or an administrator decides its requests")
    if request.state != AccessRequest.State.PENDING:
        return request  # already decided (a double submit): the first answer stands
    if grant:  # sharing is publishing: not while the release gate holds a version (GateRefused)
        gate.check_publishable(request.dataset, "grant")
    request.state = AccessRequest.State.GRANTED if grant else AccessRequest.State.REFUSED
    request.decided_by, request.decided_at = decider, timezone.now()
    request.save(update_fields=["state", "decided_by", "decided_at"])
    if grant:
        Grant.objects.get_or_create(dataset=request.dataset, user=request.user, defaults={"granted_by": decider})
    policy.audit(decider, "grant" if grant else "refuse", request.dataset.slug,
                 requester=request.user.username, request=request.pk)
    return request
