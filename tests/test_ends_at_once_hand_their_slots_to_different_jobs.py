"""Jobs of one session ending at once on PostgreSQL (each a one-statement success with its
slot's handover, on connections of their own) hand their slots to different waiting jobs, the
oldest first, and the session never holds more jobs than its capacity."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from jobs import services
from jobs.models import ACTIVE_STATUSES, Job
from jobs.notifications import Outbox
from registry.models import WorkerSession
from tests.scheduler_records import echo_process, running_job_create, session_create

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the one-statement success is PostgreSQL's"),
]

ENDING = 4


def _succeed_at_once(session: WorkerSession, jobs: list[Job]) -> list[services.JobEnd]:
    start = threading.Barrier(len(jobs))
    ends: list[services.JobEnd] = []

    def succeed(job: Job) -> None:
        try:
            start.wait(timeout=10)
            end = services.job_succeeded(
                session=session, job_id=str(job.pk), outputs={"echo": {"value": "hi"}}, outbox=Outbox()
            )
            ends.append(end)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=succeed, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return ends


def test_each_end_takes_a_job_of_its_own_the_oldest_first():
    session = session_create()
    WorkerSession.objects.filter(pk=session.pk).update(capacity=ENDING)
    running = [running_job_create(session) for _ in range(ENDING)]
    waiting = [Job.objects.create(process=echo_process()) for _ in range(ENDING + 2)]
    ends = _succeed_at_once(session, running)
    assert len(ends) == ENDING and all(end.slot_handed_over for end in ends)
    taken = set(Job.objects.filter(session=session, status__in=ACTIVE_STATUSES).values_list("pk", flat=True))
    assert taken == {job.pk for job in waiting[:ENDING]}
    assert all(job.attempts == 1 for job in Job.objects.filter(pk__in=taken))
