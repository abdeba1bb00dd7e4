"""Rows for scheduler tests that need sessions and jobs in a given state without sockets."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone
from psycopg import pq

from jobs import services
from jobs.models import Job, JobStatus
from jobs.notifications import Outbox
from registry.models import Process, WorkerSession
from registry.services import credential_create
from tests.factories import ECHO


def session_create(*, instance: str | None = None, connected_at: datetime | None = None) -> WorkerSession:
    credential, _ = credential_create(name=f"worker-{WorkerSession.objects.count()}")
    session = WorkerSession.objects.create(
        credential=credential,
        name=credential.name,
        channel_name=f"specific.test!{credential.pk}",
        instance=instance or settings.UMS_INSTANCE_ID,
        last_seen_at=timezone.now(),
    )
    if connected_at is not None:  # auto_now_add: set after creation
        WorkerSession.objects.filter(pk=session.pk).update(connected_at=connected_at)
    echo_process().providers.add(session)
    return session


def echo_process() -> Process:
    return Process.objects.get_or_create(pk="echo", defaults={"version": "1.0.0", "description": ECHO})[0]


def running_job_create(session: WorkerSession) -> Job:
    return Job.objects.create(
        process_id="echo",
        session=session,
        last_credential=session.credential,
        status="running",
        attempts=1,
        dispatched=timezone.now(),
        started=timezone.now(),
    )


def history_add(count: int, session: WorkerSession | None = None) -> list[Job]:
    """`count` successful jobs of the echo process (of `session`, if given), created now."""
    now, process = timezone.now(), echo_process()
    jobs = [
        Job(process=process, status=JobStatus.SUCCESSFUL, session=session, created=now) for _ in range(count)
    ]
    return Job.objects.bulk_create(jobs)


def optimistic_job_create(outbox: Outbox | None = None, process: Process | None = None) -> Job:
    """A job of the echo process, created as an execute request does."""
    outbox = Outbox() if outbox is None else outbox  # an empty one is false
    return services.job_create(process=process or echo_process(), inputs={}, outbox=outbox, optimistic=True)


def pipelined_statements(work: Callable[[], Any]) -> list[tuple[str, bool]]:
    """The statements `work()` ran on PostgreSQL, each with whether it went in a pipeline."""
    ran = []

    def record(execute, sql, params, many, context):
        ran.append((sql, connection.connection.pgconn.pipeline_status == pq.PipelineStatus.ON))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        work()
    return ran
