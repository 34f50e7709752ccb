from django.contrib import admin

from access.models import AuditEvent, Grant, PrivacySpend


@admin.register(Grant)
class GrantAdmin(admin.ModelAdmin):
    list_display = ["dataset", "user", "granted_by", "created_at"]
    raw_id_fields = ["dataset", "user"]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["at", "user", "action", "target"]
    list_filter = ["action"]


@admin.register(PrivacySpend)
class PrivacySpendAdmin(admin.ModelAdmin):
    list_display = ["created_at", "dataset", "job", "epsilon"]
    raw_id_fields = ["dataset", "job"]
