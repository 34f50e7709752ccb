from django.contrib import admin

from catalog.models import (
    FROZEN_VERSION_FIELDS,
    Dataset,
    DatasetVersion,
    Evaluation,
    Generator,
    VersionParent,
)


class VersionParentInline(admin.TabularInline):
    model = VersionParent
    fk_name = "child"
    extra = 0
    raw_id_fields = ["parent"]


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    list_display = ["slug", "title", "kind", "modality", "access", "owner"]
    list_filter = ["kind", "modality", "access"]
    search_fields = ["slug", "title"]

    def get_readonly_fields(self, request, obj=None):
        # Restricted stays restricted (the model refuses it too); `manage.py declassify` is the one way.
        if obj is not None and obj.access == Dataset.Access.RESTRICTED:
            return ["access"]
        return []


@admin.register(DatasetVersion)
class DatasetVersionAdmin(admin.ModelAdmin):
    list_display = ["__str__", "status", "samples", "total_size", "generator", "created_at"]
    list_filter = ["status"]
    raw_id_fields = ["dataset", "job"]
    inlines = [VersionParentInline]

    def has_add_permission(self, request) -> bool:
        return False  # versions are published by jobs, files and manifest together

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status == DatasetVersion.Status.READY:
            return [name.removesuffix("_id") for name in FROZEN_VERSION_FIELDS]
        return []


@admin.register(Generator)
class GeneratorAdmin(admin.ModelAdmin):
    list_display = ["slug", "kind", "modality", "code_version", "source"]


@admin.register(Evaluation)
class EvaluationAdmin(admin.ModelAdmin):
    list_display = ["version", "reference", "evaluation_version", "created_at"]
    raw_id_fields = ["version", "reference", "job"]
