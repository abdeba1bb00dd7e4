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
