"""The release gate: a version learnt from restricted data stays private to its owner until it passes.

A version fitted on, tuned on or refined from a restricted version (at any depth of its lineage:
catalog.lineage.born_held) is published ``held``: access.policy then shows it to its dataset's
owner and staff only, on every route. It is released (``passed``) when an evaluation against the
restricted data it learnt from says ``pass`` under that reference's thresholds; ``fail`` and
``inconclusive`` keep it held (and a later failing evaluation holds a passed version again).
While a dataset has held versions it cannot be published (made public, or shared by a grant):
the refusal names the failing metrics. An administrator may override a held version; the
override is an AuditEvent (who, why, the verdict overridden), listed with the version.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from access.models import AuditEvent, Grant
from catalog.lineage import gating_references
from catalog.models import Dataset, DatasetVersion, Evaluation

Gate = DatasetVersion.Gate
OVERRIDE = "gate-override"


class GateRefused(ValueError):
    """Publishing was refused by the gate, or the override is not allowed: HTTP 400 naming ``field``."""

    def __init__(self, field: str, message: str, failing: list[str] | None = None) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message, self.failing = field, message, failing or []


class NotAdministrator(PermissionError):
    """Only staff may override the gate (HTTP 403)."""


def deciding_evaluation(version: DatasetVersion) -> Evaluation | None:
    """The newest evaluation of ``version`` against restricted data it learnt from (others do not count:
    a copy of one table passes against another)."""
    return (version.evaluations.filter(reference__dataset__in=gating_references(version))
            .select_related("reference__dataset").order_by("-created_at", "-pk").first())


def _verdict(evaluation: Evaluation | None) -> dict[str, Any]:
    return (evaluation.results.get("verdict") or {}) if evaluation else {}


def evaluated(evaluation: Evaluation) -> None:
    """Follow a new evaluation (call in the transaction that creates it): pass releases, else held."""
    version = evaluation.version
    if version.gate == Gate.NONE or evaluation.reference.dataset_id not in gating_references(version):
        return
    if _verdict(evaluation).get("privacy_gate") == "pass":
        state = Gate.PASSED
    else:  # an administrator's override stands until an evaluation says pass
        state = Gate.OVERRIDDEN if version.gate == Gate.OVERRIDDEN else Gate.HELD
    DatasetVersion.objects.filter(pk=version.pk).update(gate=state)
    version.gate = state


def overrides(version: DatasetVersion) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=OVERRIDE, details__version=version.pk).select_related("user"))


def standing(version: DatasetVersion) -> dict[str, Any]:
    """The version's gate state, the verdict that decided it, what failed, and its overrides (API, portal)."""
    evaluation = deciding_evaluation(version) if version.gate != Gate.NONE else None
    verdict = _verdict(evaluation)
    return {
        "state": version.gate or "not-gated",
        "verdict": verdict.get("privacy_gate"),
        "failed": list(verdict.get("failed") or []),
        "inconclusive": [why.get("check") for why in verdict.get("inconclusive") or []],
        "evaluation": evaluation.pk if evaluation else None,
        "overrides": [{"by": e.user.username if e.user else None, "at": e.at.isoformat(),
                       "reason": e.details.get("reason", ""), "verdict": e.details.get("verdict"),
                       "failed": e.details.get("failed", [])}
                      for e in (overrides(version) if version.gate != Gate.NONE else [])],
    }


def why_held(version: DatasetVersion) -> tuple[str, list[str]]:
    """A sentence saying why ``version`` is held, and the failing metrics it names."""
    evaluation = deciding_evaluation(version)
    verdict = _verdict(evaluation)
    state = verdict.get("privacy_gate")
    if evaluation is None:
        return f"{version} has no evaluation against the restricted data it learnt from yet", []
    if state == "fail":
        failed = list(verdict.get("failed") or [])
        return (f"{version} failed the privacy gate of {evaluation.reference.dataset.slug} on "
                f"{', '.join(failed)} (evaluation {evaluation.pk})"), failed
    unsure = [why.get("check") for why in verdict.get("inconclusive") or []]
    return (f"{version}'s evaluation against {evaluation.reference.dataset.slug} is {state or 'without a verdict'}"
            f"{' on ' + ', '.join(unsure) if unsure else ''} (evaluation {evaluation.pk}); an inconclusive "
            "verdict needs an administrator's override"), unsure


def check_publishable(dataset: Dataset, field: str) -> None:
    """Refuse to show ``dataset`` to anyone new while the gate holds one of its versions."""
    held = list(dataset.versions.filter(gate=Gate.HELD, status=DatasetVersion.Status.READY).order_by("number"))
    if not held:
        return
    reasons, failing = [], []
    for version in held:
        reason, failed = why_held(version)
        reasons.append(reason)
        failing += [name for name in failed if name not in failing]
    raise GateRefused(field, f"{dataset.slug} cannot be published while the release gate holds it: "
                             f"{'; '.join(reasons)}. Publish once its evaluation passes, or ask an "
                             "administrator to override.", failing)


@transaction.atomic
def publish(dataset: Dataset, user, *, access: str | None = None, grantee=None) -> None:
    """Make ``dataset`` public, or share it with ``grantee``: refused while the gate holds a version.
    The caller checks that ``user`` manages the dataset; the change is audited."""
    locked = Dataset.objects.select_for_update().get(pk=dataset.pk)
    if access is not None:
        check_publishable(locked, "access")
        if locked.access != access:
            locked.access = access
            locked.save(update_fields=["access", "updated_at"])
            AuditEvent.objects.create(user=user, action="publish", target=locked.slug, details={"access": access})
    if grantee is not None:
        check_publishable(locked, "grant")
        if Grant.objects.get_or_create(dataset=locked, user=grantee, defaults={"granted_by": user})[1]:
            AuditEvent.objects.create(user=user, action="grant", target=locked.slug,
                                      details={"user": grantee.username})
    dataset.access = locked.access


@transaction.atomic
def override(version: DatasetVersion, admin, reason: str) -> AuditEvent:
    """An administrator releases a held version; the audit record keeps who, why and what was overridden."""
    if not (admin.is_authenticated and admin.is_staff):
        raise NotAdministrator("only an administrator may override the release gate")
    version = DatasetVersion.objects.select_for_update().select_related("dataset").get(pk=version.pk)
    if version.gate != Gate.HELD:
        raise GateRefused("version", f"{version} is not held by the release gate ({version.gate or 'not gated'})")
    if not reason.strip():
        raise GateRefused("reason", "say why the gate is overridden: it is kept in the audit trail")
    evaluation = deciding_evaluation(version)
    verdict = _verdict(evaluation)
    event = AuditEvent.objects.create(user=admin, action=OVERRIDE, target=str(version), details={
        "version": version.pk, "evaluation": evaluation.pk if evaluation else None,
        "verdict": verdict.get("privacy_gate"), "failed": list(verdict.get("failed") or []),
        "reason": reason.strip()[:2000]})
    DatasetVersion.objects.filter(pk=version.pk).update(gate=Gate.OVERRIDDEN)
    return event
