"""Jobs in the admin: read-only records; every change goes through the services.

Nothing here writes a job's fields: the detail page is view-only and the actions call the
same services as the API and the scheduler, so staff cannot put a job in a state the state
machine does not know (or race a worker's report with a stale form).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import partial

from asgiref.sync import async_to_sync
from django.contrib import admin, messages
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from jobs.models import Job, JobOutput, JobStatus
from jobs.notifications import Outbox, outbox_deliver
from jobs.services import job_dismiss, job_retry, job_take_back, jobs_delete_final
from registry.admin_display import pretty_json

TAKEN_BACK = "taken back by staff"


class JobOutputInline(admin.TabularInline):
    model = JobOutput
    extra = 0
    can_delete = False
    fields = ["output_id", "media_type", "readable_value", "download", "size"]
    readonly_fields = fields

    @admin.display(description="value")
    def readable_value(self, obj: JobOutput) -> str:
        return pretty_json(obj.value) if not obj.file else ""

    @admin.display(description="file")
    def download(self, obj: JobOutput) -> str:
        if not obj.file:
            return ""
        url = reverse("job-output", args=[obj.job_id, obj.output_id])
        return format_html('<a href="{}" download>download</a>', url)

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "process",
        "status",
        "progress",
        "owner",
        "session",
        "attempts",
        "created",
        "started",
        "finished",
        "duration",
    ]
    list_filter = ["status", "process", ("owner", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["id", "process__id", "owner__username", "message"]
    date_hierarchy = "created"
    list_select_related = ["process", "owner", "session"]
    inlines = [JobOutputInline]
    actions = ["dismiss", "requeue", "retry", "purge"]
    fields = [
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
        "duration",
        "updated",
    ]
    readonly_fields = fields

    @admin.display(description="inputs")
    def readable_inputs(self, obj: Job) -> str:
        return pretty_json(obj.inputs)

    @admin.display(description="requested outputs")
    def readable_outputs(self, obj: Job) -> str:
        return pretty_json(obj.outputs)

    @admin.display(description="error")
    def readable_error(self, obj: Job) -> str:
        return pretty_json(obj.error) if obj.error else ""

    @admin.display(description="run time")
    def duration(self, obj: Job) -> str:
        if obj.started is None:
            return ""
        elapsed = (obj.finished or timezone.now()) - obj.started
        return str(timedelta(seconds=round(elapsed.total_seconds())))

    def view_on_site(self, obj: Job) -> str:
        return f"{reverse('job', args=[obj.id])}?f=html"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        # Actions need the permission; the detail page is view-only (a saved form would write
        # back fields a worker may have changed since it was loaded).
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        # Deleting is the purge action: final jobs only, with their files.
        return False

    def has_purge_permission(self, request) -> bool:
        return request.user.has_perm("jobs.delete_job")

    @admin.action(permissions=["change"], description="Dismiss the selected jobs (their workers stop)")
    def dismiss(self, request, queryset) -> None:
        dismissed = _each(queryset.exclude(status="dismissed"), job_dismiss)
        messages.info(request, f"Dismissed {len(dismissed)} job(s).")

    @admin.action(
        permissions=["change"], description="Requeue the selected jobs (taken back from their workers)"
    )
    def requeue(self, request, queryset) -> None:
        taken = _each(queryset, partial(job_take_back, reason=TAKEN_BACK))
        # A job that had used up its attempts fails instead, as after any fault.
        failed = sum(job.status == JobStatus.FAILED for job in taken)
        skipped = queryset.count() - len(taken)
        messages.info(
            request,
            f"Requeued {len(taken) - failed} job(s); {failed} failed, out of attempts; {skipped} skipped "
            "(only jobs a worker holds can be taken back; retry failed ones instead).",
        )

    @admin.action(permissions=["change"], description="Retry the selected failed jobs as new jobs")
    def retry(self, request, queryset) -> None:
        retried = _each(queryset, job_retry)
        skipped = queryset.count() - len(retried)
        messages.info(
            request, f"Created {len(retried)} new job(s); {skipped} skipped (only failed jobs are retried)."
        )

    @admin.action(permissions=["purge"], description="Purge the selected final jobs and their files")
    def purge(self, request, queryset) -> None:
        purged = jobs_delete_final(job_ids=list(queryset.values_list("pk", flat=True)))
        kept = queryset.count()  # what is left of the selection
        messages.info(request, f"Purged {purged} job(s); {kept} active job(s) kept (dismiss them first).")


def _each(queryset, change: Callable[..., Job | None]) -> list[Job]:
    """Applies a job service to each selected job, then sends the signals; the jobs it changed."""
    outbox = Outbox()
    changed = [
        job
        for job_id in queryset.values_list("pk", flat=True)
        if (job := change(job_id=job_id, outbox=outbox))
    ]
    async_to_sync(outbox_deliver)(outbox)
    return changed
