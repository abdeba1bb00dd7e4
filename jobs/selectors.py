"""Reads of jobs."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from jobs.models import ACTIVE_STATUSES, Job, JobOutput, job_rows


def job_get(job_id) -> Job | None:
    """The job with this id; None also for ids that are not UUIDs."""
    try:
        uuid.UUID(str(job_id))
    except ValueError:
        return None
    return job_rows.get(job_id)


def job_list() -> QuerySet[Job]:
    return Job.objects.order_by("-created")


def job_visible_to(job: Job, user) -> bool:
    """Staff see every job; others only their own (anonymous clients: the anonymous ones)."""
    if user is not None and user.is_staff:
        return True
    own_id = user.pk if user is not None and user.is_authenticated else None
    return job.owner_id == own_id


def job_get_visible(job_id, user) -> Job | None:
    """The job if `user` may see it; an invisible job looks like an unknown one."""
    job = job_get(job_id)
    return job if job is not None and job_visible_to(job, user) else None


def jobs_visible_to(user) -> QuerySet[Job]:
    """The jobs `user` may see, newest first: the rule of `job_visible_to`, in the database."""
    if user is not None and user.is_staff:
        return job_list()
    return job_list().filter(owner_id=user.pk if user is not None and user.is_authenticated else None)


def job_output_get(*, job: Job, output_id: str) -> JobOutput | None:
    return job.results.filter(output_id=output_id).first()


def jobs_held_by(session) -> QuerySet[Job]:
    """The active jobs assigned to a worker session."""
    return Job.objects.filter(session=session, status__in=ACTIVE_STATUSES)
