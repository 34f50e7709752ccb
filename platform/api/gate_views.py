"""The release gate and the privacy ledger over REST: publishing a dataset, an administrator's
override of a held version, a restricted dataset's ledger and a dataset's audit trail."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import api_view, parser_classes, permission_classes
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response

from access import gate, ledger, policy
from access.models import AuditEvent
from api.parsers import GuardedJSONParser
from api.serializers import DatasetSerializer, VersionSerializer
from catalog.models import Dataset, DatasetVersion


class PublishSerializer(serializers.Serializer):
    access = serializers.ChoiceField(choices=["public"], required=False,
                                     help_text="`public`: anyone may see and download the dataset.")
    grant = serializers.CharField(required=False, max_length=150,
                                  help_text="Username to share the dataset with.")

    def validate(self, attrs):
        if not attrs:
            raise ValidationError({"access": ["give `access: public` or a `grant` (a username)"]})
        return attrs


class OverrideSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, help_text="Why the gate is overridden (kept in the audit trail).")


class SpendSerializer(serializers.Serializer):
    job = serializers.UUIDField(source="job_id")
    type = serializers.CharField(source="job.type")
    epsilon = serializers.FloatField()
    created_at = serializers.DateTimeField()


class LedgerSerializer(serializers.Serializer):
    dataset = serializers.CharField()
    epsilon_budget = serializers.FloatField(allow_null=True)
    spent = serializers.FloatField()
    remaining = serializers.FloatField(allow_null=True)
    spends = SpendSerializer(many=True)


class AuditEventSerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="user.username", allow_null=True, default=None)

    class Meta:
        model = AuditEvent
        fields = ["at", "user", "action", "target", "details"]


def _dataset(request, slug: str) -> Dataset:
    dataset = Dataset.objects.filter(slug=slug).select_related("owner").first()
    if dataset is None or not policy.can_view(request.user, dataset):
        raise Http404("No such dataset.")
    return dataset


def _refused(exc: gate.GateRefused) -> ValidationError:
    return ValidationError({exc.field: [exc.message], "failing": exc.failing})


@extend_schema(request=PublishSerializer, responses={200: DatasetSerializer, 404: OpenApiResponse(
    description="No such dataset (or one you cannot see)."), 400: OpenApiResponse(
    description="The release gate holds a version: the message and `failing` name the failing metrics.")})
@api_view(["POST"])
@permission_classes([IsAuthenticated])
@parser_classes([GuardedJSONParser])
def dataset_publish(request, slug: str):
    """Make a dataset public, or share it with a user: refused while the release gate holds one of its
    versions (a version made from restricted data whose evaluation has not passed). Owner or staff."""
    dataset = _dataset(request, slug)
    if not policy.can_manage(request.user, dataset):
        raise PermissionDenied(f"only the owner of {dataset.slug} or an administrator may publish it")
    body = PublishSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    if dataset.access == Dataset.Access.RESTRICTED:
        raise ValidationError({"access": [f"{dataset.slug} is restricted real data: it is never published "
                                          "(grants let users run jobs on it: manage.py grant)"]})
    grantee = None
    if name := body.validated_data.get("grant"):
        grantee = get_user_model().objects.filter(username=name).first()
        if grantee is None:
            raise ValidationError({"grant": [f"no user {name!r}"]})
    try:
        gate.publish(dataset, request.user, access=body.validated_data.get("access"), grantee=grantee)
    except gate.GateRefused as exc:
        raise _refused(exc) from None
    return Response(DatasetSerializer(dataset, context={"request": request}).data)


@extend_schema(request=OverrideSerializer, responses={200: VersionSerializer, 404: OpenApiResponse(
    description="No such version (or one you cannot see)."), 400: OpenApiResponse(
    description="The version is not held, or no reason was given.")})
@api_view(["POST"])
@permission_classes([IsAuthenticated])
@parser_classes([GuardedJSONParser])
def version_override(request, pk: int):
    """Release a version the gate holds (administrators only); writes an audit record shown with the version."""
    version = DatasetVersion.objects.select_related("dataset").filter(pk=pk).first()
    if version is None or not policy.can_view_version(request.user, version):
        raise Http404("No such version.")
    body = OverrideSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    try:
        gate.override(version, request.user, body.validated_data["reason"])
    except gate.NotAdministrator as exc:
        raise PermissionDenied(str(exc)) from None
    except gate.GateRefused as exc:
        raise _refused(exc) from None
    version.refresh_from_db()
    return Response(VersionSerializer(version, context={"request": request}).data, status=status.HTTP_200_OK)


@extend_schema(responses={200: LedgerSerializer, 404: OpenApiResponse(description="No such dataset.")})
@api_view(["GET"])
@permission_classes([AllowAny])  # the access policy decides, per dataset
def dataset_ledger(request, slug: str):
    """The privacy ledger of a dataset: each job that read it, the epsilon it spent, and what is left."""
    dataset = _dataset(request, slug)
    spends = list(dataset.privacy_spends.select_related("job"))
    spent = ledger.spent(dataset)
    remaining = None if dataset.epsilon_budget is None else max(dataset.epsilon_budget - spent, 0.0)
    return Response(LedgerSerializer({"dataset": dataset.slug, "epsilon_budget": dataset.epsilon_budget,
                                      "spent": spent, "remaining": remaining, "spends": spends}).data)


@extend_schema(responses={200: AuditEventSerializer(many=True), 404: OpenApiResponse(description="No such dataset.")})
@api_view(["GET"])
@permission_classes([IsAuthenticated])
def dataset_audit(request, slug: str):
    """The audit trail of a dataset and its versions (grants, publishing, gate overrides, downloads,
    refusals): its owner and administrators only."""
    dataset = _dataset(request, slug)
    if not policy.can_manage(request.user, dataset):
        raise PermissionDenied(f"only the owner of {dataset.slug} or an administrator may read its audit trail")
    events = AuditEvent.objects.filter(Q(target=dataset.slug) | Q(target__startswith=f"{dataset.slug}@v")
                                       ).select_related("user")[:500]
    return Response(AuditEventSerializer(events, many=True).data)
