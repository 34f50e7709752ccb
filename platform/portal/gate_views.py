"""The release gate and the privacy ledger in the portal: what a version and a dataset page show, an
administrator's override, and publishing a dataset (refused while the gate holds a version)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from access import gate, ledger, policy
from access.models import AuditEvent
from catalog.models import Dataset, DatasetVersion


def dataset_context(dataset: Dataset, user) -> dict[str, Any]:
    """The ledger (for whoever sees the dataset) and, for its owner and staff, the audit trail."""
    spends = list(dataset.privacy_spends.select_related("job")[:200])
    context: dict[str, Any] = {}
    if spends or dataset.epsilon_budget is not None:
        spent = ledger.spent(dataset)
        context["ledger"] = {"budget": dataset.epsilon_budget, "spent": spent, "spends": spends,
                             "remaining": None if dataset.epsilon_budget is None else
                             max(dataset.epsilon_budget - spent, 0.0)}
    if policy.can_manage(user, dataset):
        context["audit_trail"] = AuditEvent.objects.filter(
            Q(target=dataset.slug) | Q(target__startswith=f"{dataset.slug}@v")).select_related("user")[:50]
        context["publishable"] = dataset.access != Dataset.Access.RESTRICTED
    return context


@login_required
@require_POST
def dataset_publish(request, slug: str):
    dataset = Dataset.objects.filter(slug=slug).first()
    if dataset is None or not policy.can_view(request.user, dataset):
        raise Http404("No such dataset.")
    if not policy.can_manage(request.user, dataset) or dataset.access == Dataset.Access.RESTRICTED:
        raise PermissionDenied("only the owner or an administrator publishes a dataset, and never a restricted one")
    grantee = None
    if name := request.POST.get("grant", "").strip():
        grantee = get_user_model().objects.filter(username=name).first()
        if grantee is None:
            messages.error(request, f"grant: no user {name[:150]!r}")
            return redirect(dataset)
    access = "public" if request.POST.get("access") == "public" else None
    if access is None and grantee is None:
        messages.error(request, "access: choose Make public, or name a user to share with")
        return redirect(dataset)
    try:
        gate.publish(dataset, request.user, access=access, grantee=grantee)
    except gate.GateRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.info(request, f"{dataset.slug} is public" if access else f"{dataset.slug} is shared with {name}")
    return redirect(dataset)


@login_required
@require_POST
def version_override(request, pk: int):
    version = DatasetVersion.objects.select_related("dataset").filter(pk=pk).first()
    if version is None or not policy.can_view_version(request.user, version):
        raise Http404("No such version.")
    try:
        gate.override(version, request.user, request.POST.get("reason", ""))
    except gate.NotAdministrator as exc:
        raise PermissionDenied(str(exc)) from None
    except gate.GateRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.info(request, f"{version} is released by your override (audited)")
    return redirect("portal:version", pk=version.pk)
