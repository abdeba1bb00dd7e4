"""Reads of the registry."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from jobs.models import ACTIVE_STATUSES
from registry.models import Process, ProcessGrant, WorkerSession, patterns_match, process_rows


def process_list() -> QuerySet[Process]:
    return Process.objects.listed().order_by("id")


def process_get(process_id: str) -> Process | None:
    """A listed process. Read on every execute request: the row by key and whether a live
    session provides it, in one statement built once (the ORM took five times as long to
    build `process_list()`'s subquery as to run it)."""
    process = process_rows.get(process_id)
    return process if process is not None and process.has_live_provider else None


def process_executable_by(*, process_id: str, user) -> bool:
    """Whether `user` may execute the process (under authenticated access): with the
    `registry.execute_process` permission, or through a process grant of one of its groups."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.has_perm("registry.execute_process"):
        return True
    grants = ProcessGrant.objects.filter(group__user=user).values_list("process_patterns", flat=True)
    return any(patterns_match(patterns, process_id) for patterns in grants)


def processes_with_provider_count() -> QuerySet[Process]:
    """Every process, listed or not, with how many live sessions provide it."""
    return Process.objects.annotate(
        provider_count=Count("providers", filter=Q(providers__disconnected_at__isnull=True))
    )


def sessions_with_jobs_held() -> QuerySet[WorkerSession]:
    """Live and past sessions, with how many active jobs each holds (past ones: none)."""
    return WorkerSession.objects.select_related("credential").annotate(
        jobs_held=Count("jobs", filter=Q(jobs__status__in=ACTIVE_STATUSES))
    )
