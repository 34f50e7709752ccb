from django.contrib import admin

from jobs.models import Job


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["id", "type", "state", "progress", "owner", "attempts", "created_at"]
    list_filter = ["type", "state", "queue"]
    raw_id_fields = ["dataset", "inputs"]
