"""On PostgreSQL the look at the queue after a job's end waits for the commit of a creation
that is writing its job waiting (the queue's advisory lock, held shared by such writes and
taken exclusively by the look), so it finds the job and gives it the slot the end freed.
Without it, an end that committed after the creation had found every provider busy, and
looked before the creation's commit, missed the job: it waited for the sweep while the slot
stayed free."""

from __future__ import annotations

import pytest
from django.db import connection

from jobs.models import Job, JobStatus
from jobs.notifications import Outbox
from jobs.scheduler import queue_write_lock, slot_freed_dispatch
from tests.lock_waits import while_held
from tests.scheduler_records import session_create

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("on_postgresql")]


def write_waiting() -> None:
    with connection.cursor() as cursor:
        cursor.execute(*queue_write_lock())
    Job.objects.create(process_id="echo")


def test_the_look_waits_for_the_write_and_gives_the_job_the_freed_slot():
    session = session_create()  # its slot just freed
    dispatched = while_held(write_waiting, lambda: slot_freed_dispatch(session=session, outbox=Outbox()))
    assert dispatched.result() == 1
    job = Job.objects.get()
    assert job.session_id == session.pk and job.status == JobStatus.ACCEPTED
