"""On PostgreSQL, a job created optimistically whose guessed session could not take it (or
that had no guess) is written without the dispatch that locks every provider with a free
slot: waiting, in one round trip, when every provider of its process is busy; otherwise to
the session a fresh count of the providers' free slots guesses, in one round trip more."""

from __future__ import annotations

import pytest
from django.utils import timezone

from jobs import services
from jobs.models import Job, JobStatus
from jobs.notifications import Outbox
from registry.models import Process, WorkerSession
from tests.lock_waits import while_a_dispatcher_takes_the_slot
from tests.scheduler_records import (
    echo_process,
    optimistic_job_create,
    pipelined_statements,
    running_job_create,
    session_create,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("on_postgresql")]


def busy_session_create() -> WorkerSession:
    session = session_create()  # capacity 1
    running_job_create(session)
    return session


def test_a_job_submitted_while_every_provider_is_busy_waits_after_one_round_trip():
    busy_session_create()
    busy_session_create()
    process = echo_process()
    statements = pipelined_statements(lambda: optimistic_job_create(process=process))
    job = Job.objects.get(session__isnull=True)
    assert job.status == JobStatus.ACCEPTED and job.attempts == 0
    # The queue's lock, shared (tests/test_the_look_after_an_end_finds_a_job_written_waiting_meanwhile.py),
    # then the INSERT.
    assert [(sql.split(" ", 2)[:2], pipelined) for sql, pipelined in statements] == [
        (["SELECT", "pg_advisory_xact_lock_shared(%s)"], True),
        (["INSERT", "INTO"], True),
    ]


def test_a_free_slot_nobody_guessed_is_found_by_counting_without_a_lock():
    busy_session_create()
    free = session_create()
    outbox = Outbox()
    process = echo_process()
    statements = pipelined_statements(lambda: optimistic_job_create(outbox, process))
    job = Job.objects.get(session__isnull=False, status=JobStatus.ACCEPTED)
    assert job.session_id == free.pk and job.attempts == 1
    assert [channel for channel, _ in outbox.to_channels] == [free.channel_name]
    sql = [sql for sql, _ in statements]
    assert sql[1].startswith("INSERT") and sql[2].startswith("SELECT") and "FOR UPDATE" not in sql[2]
    assert [pipelined for _, pipelined in statements] == [True, True, False, True, True]  # then the guess


def test_a_job_waits_when_the_slot_it_counted_was_taken_while_it_awaited_the_lock():
    session = session_create()
    job = while_a_dispatcher_takes_the_slot(session, optimistic_job_create).result()
    assert job.session_id is None and job.status == JobStatus.ACCEPTED
    assert Job.objects.filter(session=session).count() == 1


def test_a_session_that_left_is_no_busy_provider():
    left = busy_session_create()
    WorkerSession.objects.filter(pk=left.pk).update(disconnected_at=timezone.now())
    process = echo_process()
    with pytest.raises(services.JobCreateConflict):  # nothing provides it now
        optimistic_job_create(process=process)
    assert Job.objects.filter(session__isnull=True).count() == 0


def test_a_changed_process_is_not_queued_behind_busy_providers():
    busy_session_create()
    read = echo_process()
    Process.objects.filter(pk="echo").update(updated_at=timezone.now())
    with pytest.raises(services.JobCreateConflict):
        optimistic_job_create(process=read)
    assert Job.objects.filter(session__isnull=True).count() == 0
