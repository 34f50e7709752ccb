from django.contrib import admin

from catalog.models import Dataset, DatasetVersion, Evaluation, Generator, VersionParent


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


@admin.register(DatasetVersion)
class DatasetVersionAdmin(admin.ModelAdmin):
    list_display = ["__str__", "status", "samples", "total_size", "generator", "created_at"]
    list_filter = ["status"]
    raw_id_fields = ["dataset", "job"]
    inlines = [VersionParentInline]


@admin.register(Generator)
class GeneratorAdmin(admin.ModelAdmin):
    list_display = ["slug", "kind", "modality", "code_version", "source"]


@admin.register(Evaluation)
class EvaluationAdmin(admin.ModelAdmin):
    list_display = ["version", "reference", "evaluation_version", "created_at"]
    raw_id_fields = ["version", "reference", "job"]
