from django import forms
from django.contrib import admin

from access import gate
from access.models import AccessRequest, AuditEvent, Grant, PrivacySpend


class GrantForm(forms.ModelForm):
    class Meta:
        model = Grant
        fields = ["dataset", "user"]

    def clean(self):
        cleaned = super().clean()
        if dataset := cleaned.get("dataset"):
            try:  # sharing is publishing: not while the release gate holds a version
                gate.check_publishable(dataset, "dataset")
            except gate.GateRefused as exc:
                raise forms.ValidationError({"dataset": exc.message}) from None
        return cleaned


@admin.register(Grant)
class GrantAdmin(admin.ModelAdmin):
    form = GrantForm
    list_display = ["dataset", "user", "granted_by", "created_at"]
    raw_id_fields = ["dataset", "user"]
    exclude = ["granted_by"]

    def save_model(self, request, obj, form, change) -> None:
        obj.granted_by = request.user
        super().save_model(request, obj, form, change)
        _audit(request, "grant", obj)

    def delete_model(self, request, obj) -> None:
        _audit(request, "revoke", obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset) -> None:
        for grant in queryset.select_related("dataset", "user"):
            _audit(request, "revoke", grant)
        super().delete_queryset(request, queryset)


def _audit(request, action: str, grant: Grant) -> None:
    AuditEvent.objects.create(user=request.user, action=action, target=grant.dataset.slug,
                              details={"user": grant.user.username, "via": "admin"})


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["at", "user", "action", "target"]
    list_filter = ["action"]


@admin.register(PrivacySpend)
class PrivacySpendAdmin(admin.ModelAdmin):
    list_display = ["created_at", "dataset", "job", "epsilon"]
    raw_id_fields = ["dataset", "job"]


@admin.register(AccessRequest)
class AccessRequestAdmin(admin.ModelAdmin):
    """Read-only here: requests are decided in the portal, where each decision is audited."""

    list_display = ["dataset", "user", "state", "decided_by", "created_at", "decided_at"]
    list_filter = ["state"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
