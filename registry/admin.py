from __future__ import annotations

from asgiref.sync import async_to_sync
from django.contrib import admin, messages

from jobs.notifications import Outbox, outbox_deliver
from jobs.selectors import jobs_held_by
from registry.admin_display import admin_links, pretty_json
from registry.models import Process, ProcessGrant, WorkerCredential, WorkerSession
from registry.selectors import processes_with_provider_count, sessions_with_jobs_held
from registry.services import credential_revoke, credential_token_issue


@admin.register(WorkerCredential)
class WorkerCredentialAdmin(admin.ModelAdmin):
    list_display = ["name", "token_prefix", "is_active", "owner", "created_at", "last_used_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "token_prefix"]
    readonly_fields = ["token_prefix", "created_at", "last_used_at"]
    fields = ["name", "process_patterns", "is_active", "owner", "token_prefix", "created_at", "last_used_at"]

    actions = ["revoke"]

    def save_model(self, request, obj: WorkerCredential, form, change: bool) -> None:
        if change:
            revoking = "is_active" in form.changed_data and not obj.is_active
            super().save_model(request, obj, form, change)
            if revoking:
                _revoke(request, obj)
            return
        # The token exists only in this response: it is stored hashed.
        token = credential_token_issue(obj)
        messages.warning(request, f"The token of {obj.name} is {token} — copy it now, it is not shown again.")

    @admin.action(description="Revoke the selected tokens (their workers are disconnected)")
    def revoke(self, request, queryset) -> None:
        for credential in queryset.filter(is_active=True):
            _revoke(request, credential)


@admin.register(WorkerSession)
class WorkerSessionAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "credential",
        "live",
        "capacity",
        "jobs_held",
        "instance",
        "connected_at",
        "last_seen_at",
        "disconnected_at",
        "close_reason",
    ]
    list_filter = [("disconnected_at", admin.EmptyFieldListFilter), "credential"]
    search_fields = ["id", "name", "credential__name"]
    date_hierarchy = "connected_at"
    readonly_fields = ["held_jobs", "provided_processes"]

    def get_queryset(self, request):
        return sessions_with_jobs_held()

    @admin.display(boolean=True, description="live")
    def live(self, obj: WorkerSession) -> bool:
        return obj.is_live

    @admin.display(description="jobs held", ordering="jobs_held")
    def jobs_held(self, obj: WorkerSession) -> int:
        return obj.jobs_held

    @admin.display(description="jobs held")
    def held_jobs(self, obj: WorkerSession) -> str:
        return admin_links("jobs_job", jobs_held_by(obj))

    @admin.display(description="processes")
    def provided_processes(self, obj: WorkerSession) -> str:
        return admin_links("registry_process", obj.processes.all())

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Process)
class ProcessAdmin(admin.ModelAdmin):
    list_display = ["id", "version", "title", "provider_count", "updated_at"]
    search_fields = ["id"]
    readonly_fields = ["id", "version", "readable_description", "provider_links", "created_at", "updated_at"]
    exclude = ["description", "providers"]

    def get_queryset(self, request):
        return processes_with_provider_count()

    @admin.display(description="live providers", ordering="provider_count")
    def provider_count(self, obj: Process) -> int:
        return obj.provider_count

    @admin.display(description="description")
    def readable_description(self, obj: Process) -> str:
        return pretty_json(obj.description)

    @admin.display(description="providers")
    def provider_links(self, obj: Process) -> str:
        return admin_links("registry_workersession", obj.providers.select_related("credential"))

    def has_add_permission(self, request) -> bool:
        return False


def _revoke(request, credential: WorkerCredential) -> None:
    outbox = Outbox()
    closed = credential_revoke(credential=credential, outbox=outbox)
    async_to_sync(outbox_deliver)(outbox)
    messages.info(request, f"{credential.name} is revoked; {closed} connected worker session(s) closed.")


@admin.register(ProcessGrant)
class ProcessGrantAdmin(admin.ModelAdmin):
    """Which groups may execute which processes (with UMS_API_AUTH=authenticated)."""

    list_display = ["group", "process_patterns"]
    list_filter = ["group"]
