"""Reads of jobs."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from jobs.models import Job


def job_get(job_id) -> Job | None:
    """The job with this id; None also for ids that are not UUIDs."""
    try:
        uuid.UUID(str(job_id))
    except ValueError:
        return None
    return Job.objects.filter(pk=job_id).first()


def job_list() -> QuerySet[Job]:
    return Job.objects.order_by("-created")


def job_visible_to(job: Job, user) -> bool:
    """Staff see every job; others only their own (anonymous clients: the anonymous ones)."""
    if user is not None and user.is_staff:
        return True
    own_id = user.pk if user is not None and user.is_authenticated else None
    return job.owner_id == own_id
