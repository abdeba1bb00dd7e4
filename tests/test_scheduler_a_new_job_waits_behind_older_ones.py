"""A job is dispatched as it is created when a provider has a free slot, and saved assigned at
once; jobs of its process that wait already go first."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from jobs.models import Job
from jobs.notifications import Outbox
from jobs.services import job_create
from tests.scheduler_records import echo_process, session_create

pytestmark = pytest.mark.django_db


def _create() -> tuple[Job, Outbox]:
    outbox = Outbox()
    return job_create(process=echo_process(), inputs={}, outbox=outbox), outbox


def _sent(outbox: Outbox) -> list[str]:
    return [message["frame"]["job"] for _, message in outbox.to_channels]


def test_a_new_job_into_an_empty_queue_is_saved_assigned():
    session = session_create()
    with CaptureQueriesContext(connection) as queries:
        job, outbox = _create()
    job = Job.objects.get(pk=job.pk)
    assert (job.status, job.session, job.attempts) == ("accepted", session, 1)
    assert job.dispatched is not None and _sent(outbox) == [str(job.pk)]
    assert [q["sql"] for q in queries if q["sql"].startswith("UPDATE")] == []


def test_a_new_job_waits_behind_an_older_one_of_its_process():
    session = session_create()  # one slot
    older = Job.objects.create(process=echo_process())  # queued without a dispatch
    job, outbox = _create()
    assert Job.objects.get(pk=older.pk).session == session
    assert Job.objects.get(pk=job.pk).session is None
    assert _sent(outbox) == [str(older.pk)]


def test_a_new_job_without_a_free_provider_is_saved_waiting():
    job, outbox = _create()
    assert Job.objects.get(pk=job.pk).session is None and _sent(outbox) == []
