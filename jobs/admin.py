from __future__ import annotations

from django.contrib import admin

from jobs.models import Job, JobOutput
from registry.admin_display import pretty_json


class JobOutputInline(admin.TabularInline):
    model = JobOutput
    extra = 0
    can_delete = False
    fields = ["output_id", "media_type", "readable_value", "file", "size"]
    readonly_fields = fields

    @admin.display(description="value")
    def readable_value(self, obj: JobOutput) -> str:
        return pretty_json(obj.value)

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["id", "process", "status", "progress", "owner", "attempts", "created", "finished"]
    list_filter = ["status", "process"]
    search_fields = ["id", "process__id"]
    date_hierarchy = "created"
    inlines = [JobOutputInline]
    # Jobs change only through the scheduler's state machine, never by hand.
    readonly_fields = [
        "id",
        "process",
        "status",
        "progress",
        "message",
        "owner",
        "session",
        "attempts",
        "readable_inputs",
        "readable_outputs",
        "readable_error",
        "created",
        "dispatched",
        "started",
        "finished",
        "updated",
    ]
    exclude = ["inputs", "outputs", "error", "subscriber", "last_credential", "response"]

    @admin.display(description="inputs")
    def readable_inputs(self, obj: Job) -> str:
        return pretty_json(obj.inputs)

    @admin.display(description="requested outputs")
    def readable_outputs(self, obj: Job) -> str:
        return pretty_json(obj.outputs)

    @admin.display(description="error")
    def readable_error(self, obj: Job) -> str:
        return pretty_json(obj.error)

    def has_add_permission(self, request) -> bool:
        return False
