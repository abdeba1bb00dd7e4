"""On PostgreSQL, a job created optimistically goes to the session its process's last dispatch
left with the most free slots, in one round trip: the session locked, then the job's INSERT,
pipelined as one transaction. The INSERT writes it only if the session may take it once
locked; otherwise nothing is written and the job is dispatched as usual."""

from __future__ import annotations

import pytest
from django.utils import timezone

from jobs import services
from jobs.models import Job, JobStatus
from jobs.notifications import Outbox
from jobs.provider_cache import provider_guess
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


def test_the_second_job_goes_to_the_session_the_first_ones_dispatch_left_free():
    session = session_create()  # capacity 1
    WorkerSession.objects.filter(pk=session.pk).update(capacity=2)
    first = optimistic_job_create()
    assert first.session_id == session.pk

    process = echo_process()
    statements = pipelined_statements(lambda: optimistic_job_create(process=process))
    second = Job.objects.exclude(pk=first.pk).get()
    assert second.session_id == session.pk and second.attempts == 1 and second.dispatched is not None
    assert [pipelined for _, pipelined in statements] == [True, True]
    assert "FOR UPDATE" in statements[0][0] and statements[1][0].startswith("INSERT")
    assert provider_guess("echo") is None  # both slots taken, as the lock counted them


def test_its_frame_goes_to_the_guessed_sessions_channel():
    session = session_create()
    WorkerSession.objects.filter(pk=session.pk).update(capacity=2)
    optimistic_job_create()
    outbox = Outbox()
    job = optimistic_job_create(outbox)
    assert job.session_id == session.pk and not job._state.adding
    assert outbox.to_channels == [
        (session.channel_name, {"type": "job.execute", "frame": {
            "type": "job.execute", "job": str(job.pk), "process": "echo", "inputs": {}, "outputs": {},
            "attempt": 1,
        }, "awaited": False})
    ]  # fmt: skip


def test_a_guessed_session_that_left_gets_nothing_and_the_job_waits():
    full = session_create()
    running_job_create(full)
    session = session_create()
    WorkerSession.objects.filter(pk=session.pk).update(capacity=2)
    optimistic_job_create()
    WorkerSession.objects.filter(pk=session.pk).update(disconnected_at=session.last_seen_at)
    job = optimistic_job_create()
    assert job.session_id is None and job.status == JobStatus.ACCEPTED
    assert provider_guess("echo") is None  # the one left is full


def test_a_new_job_does_not_pass_the_jobs_waiting_for_its_process():
    session = session_create()
    WorkerSession.objects.filter(pk=session.pk).update(capacity=2)
    optimistic_job_create()
    waiting = Job.objects.create(process_id="echo")  # queued before the slot freed
    job = optimistic_job_create()
    assert Job.objects.get(pk=waiting.pk).session_id == session.pk  # the oldest first
    assert job.session_id is None


def test_a_changed_process_writes_nothing():
    session = session_create()
    WorkerSession.objects.filter(pk=session.pk).update(capacity=2)
    read = echo_process()
    optimistic_job_create(process=read)
    Process.objects.filter(pk="echo").update(updated_at=timezone.now())
    with pytest.raises(services.JobCreateConflict):
        optimistic_job_create(process=read)
    assert Job.objects.count() == 1


def test_a_slot_taken_while_the_lock_was_awaited_is_not_given_twice():
    session = session_create()
    WorkerSession.objects.filter(pk=session.pk).update(capacity=2)
    optimistic_job_create()  # one slot left, as remembered
    job = while_a_dispatcher_takes_the_slot(session, optimistic_job_create).result()
    assert job.session_id is None  # queued: the guessed slot was gone once the lock was held
    assert Job.objects.filter(session=session).count() == 2
