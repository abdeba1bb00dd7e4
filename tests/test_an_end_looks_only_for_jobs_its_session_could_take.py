"""After a job's end that handed its slot to nobody, the dispatch looks only for waiting jobs
of the processes the ended job's session provides: jobs of other processes (their workers
away) cost the end one statement, not the dispatch's transaction."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from jobs.models import Job, JobStatus
from jobs.notifications import Outbox
from jobs.scheduler import slot_freed_dispatch
from registry.models import Process
from tests.factories import description
from tests.scheduler_records import echo_process, session_create

pytestmark = pytest.mark.django_db


def _dispatched(session) -> tuple[int, Outbox, int]:
    outbox = Outbox()
    with CaptureQueriesContext(connection) as queries:
        dispatched = slot_freed_dispatch(session=session, outbox=outbox)
    return dispatched, outbox, len(queries)


def test_a_job_of_a_process_the_session_does_not_provide_is_left_in_one_statement():
    session = session_create()
    away = Process.objects.create(id="flood", version="1", description=description(id="flood"))
    waiting = Job.objects.create(process=away)
    dispatched, outbox, statements = _dispatched(session)
    assert (dispatched, statements) == (0, 1) and not outbox
    assert Job.objects.get(pk=waiting.pk).session_id is None


def test_a_job_of_a_process_the_session_provides_takes_the_slot():
    session = session_create()
    waiting = Job.objects.create(process=echo_process())
    dispatched, outbox, _ = _dispatched(session)
    assert dispatched == 1
    assert Job.objects.get(pk=waiting.pk).session_id == session.pk
    assert [message["frame"]["job"] for _, message in outbox.to_channels] == [str(waiting.pk)]


def test_no_job_waiting_is_one_statement():
    session = session_create()
    Job.objects.create(process=echo_process(), status=JobStatus.SUCCESSFUL)
    assert _dispatched(session) == (0, Outbox(), 1)
