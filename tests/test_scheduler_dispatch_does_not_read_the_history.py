"""Dispatching a job reads the queue, not every job its process ever had: with a long history
of finished jobs, SQLite's work for it stays the same (counted in virtual machine steps)."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from jobs.models import Job, JobStatus, job_rows
from jobs.notifications import Outbox
from jobs.scheduler import jobs_assign
from tests.scheduler_records import echo_process, history_add, session_create

pytestmark = pytest.mark.django_db


def dispatch_steps(*, as_queued: bool) -> int:
    """SQLite virtual machine steps (in thousands) to queue one job and dispatch it, as the job
    its creator just queued or as any waiting job."""
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 1
        return 0  # go on

    job = Job(process=echo_process())
    if not as_queued:
        job_rows.insert(job)
    raw = connection.connection
    raw.set_progress_handler(count, 1000)
    try:
        with transaction.atomic():
            assert jobs_assign(outbox=Outbox(), queued=job if as_queued else None) == 1
            if as_queued:
                job_rows.insert(job)
    finally:
        raw.set_progress_handler(None, 0)
    Job.objects.filter(status=JobStatus.ACCEPTED).update(status=JobStatus.SUCCESSFUL)
    return steps


@pytest.mark.parametrize("as_queued", [False, True])
def test_dispatch_work_does_not_grow_with_finished_jobs(as_queued: bool):
    if connection.vendor != "sqlite":
        pytest.skip("counts SQLite's steps; PostgreSQL plans from its statistics")
    session = session_create()
    history_add(100, session)
    short_history = dispatch_steps(as_queued=as_queued)
    history_add(20_000, session)
    long_history = dispatch_steps(as_queued=as_queued)
    assert long_history <= short_history + 2, (short_history, long_history)
