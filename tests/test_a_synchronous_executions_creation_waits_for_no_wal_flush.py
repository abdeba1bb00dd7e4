"""On PostgreSQL, the creation of a job whose client awaits its end in its response (a
synchronous execution) commits without waiting for the WAL to reach the disk: its client is
answered nothing before the job's end, whose commit flushes the WAL up to itself. A job
answered with before its end, in a 201, is made durable first (`job_durable`)."""

from __future__ import annotations

import pytest
from django.db import connection

from jobs import services
from jobs.models import Job
from jobs.notifications import Outbox
from jobs.scheduler import UNFLUSHED_COMMIT
from tests.scheduler_records import echo_process, pipelined_statements, running_job_create, session_create

pytestmark = pytest.mark.django_db(transaction=True)


def _creation_statements(reply_channel: str) -> list[tuple[str, bool]]:
    process = echo_process()
    return pipelined_statements(
        lambda: services.job_create(
            process=process, inputs={}, outbox=Outbox(), optimistic=True, reply_channel=reply_channel
        )
    )


def _round_trips_writing(statements: list[tuple[str, bool]]) -> list[list[str]]:
    """The pipelined statements up to each INSERT: the round trips that may write the job."""
    trips, trip = [], []
    for sql, pipelined in statements:
        trip = [*trip, sql] if pipelined else []
        if sql.startswith("INSERT"):
            trips.append(trip)
            trip = []
    return trips


@pytest.mark.usefixtures("on_postgresql")
@pytest.mark.parametrize("busy", [False, True], ids=["assigned", "waiting"])
def test_a_synchronous_executions_job_is_written_without_waiting_for_the_flush(busy):
    session = session_create()
    if busy:
        running_job_create(session)
    trips = _round_trips_writing(_creation_statements("specific.test!reply"))
    assert trips and all(trip[0] == UNFLUSHED_COMMIT[0] for trip in trips)
    assert Job.objects.filter(reply_channel="specific.test!reply").count() == 1
    with connection.cursor() as cursor:  # the setting was the transaction's only
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone() == ("on",)


@pytest.mark.usefixtures("on_postgresql")
def test_an_asynchronous_executions_job_waits_for_the_flush():
    session_create()
    statements = _creation_statements("")
    assert _round_trips_writing(statements)
    assert not [sql for sql, _ in statements if "synchronous_commit" in sql]


def test_a_stored_job_is_durable_and_a_deleted_one_is_not():
    job = running_job_create(session_create())
    updated = job.updated
    assert services.job_durable(job)
    assert Job.objects.get(pk=job.pk).updated == updated  # the write changed nothing
    Job.objects.filter(pk=job.pk).delete()
    assert not services.job_durable(job)
