"""Asking for access to a dataset, and its owner granting or refusing it."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from access import gate, policy, requests
from access.models import AccessRequest
from catalog.models import Dataset


def access_needed(request, dataset: Dataset):
    """The 403 page of a dataset the user knows of but may not see: its slug, and a way to ask."""
    pending = request.user.is_authenticated and AccessRequest.objects.filter(
        dataset=dataset, user=request.user, state=AccessRequest.State.PENDING).exists()
    return render(request, "portal/access_needed.html", {"dataset": dataset, "pending": pending,
                                                         "can_request": policy.can_request_access(request.user, dataset)},
                  status=403)


@login_required
@require_POST
def access_request(request, slug: str):
    dataset = get_object_or_404(Dataset, slug=slug)
    if not policy.can_request_access(request.user, dataset):
        if policy.can_view(request.user, dataset):
            return redirect(dataset)
        raise Http404("No such dataset.")
    requests.request_access(request.user, dataset, request.POST.get("reason", "").strip())
    messages.info(request, f"Access to {dataset.slug} requested; its owner will decide.")
    return redirect("portal:access-request", slug=dataset.slug)


@login_required
@require_POST
def access_decide(request, pk: int):
    made = AccessRequest.objects.select_related("dataset").filter(pk=pk).first()
    decision = request.POST.get("decision")
    if made is None or not policy.can_manage(request.user, made.dataset):
        raise Http404("No such request.")
    if decision not in ("grant", "refuse"):
        messages.error(request, "decision: choose grant or refuse.")
        return redirect(made.dataset)
    try:
        made = requests.decide(made, request.user, grant=decision == "grant")
    except gate.GateRefused as exc:
        messages.error(request, str(exc))
        return redirect(made.dataset)
    messages.info(request, f"{made.user.username}'s request for {made.dataset.slug}: {made.state}.")
    return redirect(made.dataset)


def access_request_page(request, slug: str):
    """The request form (GET) for a dataset the user knows of but may not see."""
    dataset = get_object_or_404(Dataset, slug=slug)
    if policy.can_view(request.user, dataset):
        return redirect(dataset)
    if not policy.is_known_to(request.user, dataset):
        raise Http404("No such dataset.")
    return access_needed(request, dataset)
