"""On PostgreSQL a plain success (values its process declares, no uploads, no callback owed) is
written in one statement, with the handover of its slot to a waiting job of its process; any
other report is checked first, as on SQLite, with the same outcome."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from jobs import services
from jobs.models import CallbackDelivery, Job, JobOutput, JobStatus
from jobs.notifications import Outbox
from registry.protocol import ProtocolError
from tests.scheduler_records import echo_process, running_job_create, session_create

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite's statements are not round trips"),
]

ECHOED = {"echo": {"value": "hi", "mediaType": "text/plain"}}


def _succeeded(session, job: Job, outputs: dict = ECHOED) -> tuple[services.JobEnd | None, Outbox, int]:
    outbox = Outbox()
    with CaptureQueriesContext(connection) as queries:
        end = services.job_succeeded(
            session=session, job_id=str(job.pk), outputs=outputs, outbox=outbox, signal_results=True
        )
    return end, outbox, len(queries)


def test_a_plain_success_is_one_statement_and_reads_as_stored():
    session = session_create()
    job = running_job_create(session)
    end, outbox, statements = _succeeded(session, job)
    assert statements == 1
    stored = Job.objects.get(pk=job.pk)
    assert stored.status == JobStatus.SUCCESSFUL and stored.progress == 100
    assert stored.started == job.started  # kept: it was set
    written = {f.attname: getattr(end.job, f.attname) for f in Job._meta.concrete_fields}
    assert written == {f.attname: getattr(stored, f.attname) for f in Job._meta.concrete_fields}
    assert list(stored.results.values_list("output_id", "value", "media_type")) == [
        ("echo", "hi", "text/plain")
    ]
    assert not end.slot_handed_over
    ((_, signal),) = outbox.to_groups
    assert signal["status"] == JobStatus.SUCCESSFUL and signal["results"] == [["echo", "text/plain", "hi"]]


def test_a_success_of_a_job_never_reported_started_starts_it_at_its_end():
    session = session_create()
    job = running_job_create(session)
    Job.objects.filter(pk=job.pk).update(status=JobStatus.ACCEPTED, started=None)
    end, _, statements = _succeeded(session, job)
    assert statements == 1
    assert end.job.started == end.job.finished == Job.objects.get(pk=job.pk).started


def test_a_success_with_jobs_of_its_process_waiting_hands_the_slot_to_the_oldest_in_its_statement():
    session = session_create()
    job = running_job_create(session)
    oldest, younger = (
        Job.objects.create(process=echo_process(), reply_channel=channel) for channel in ("listener.x", "")
    )
    end, outbox, statements = _succeeded(session, job)
    assert end.slot_handed_over and statements == 1
    assert Job.objects.get(pk=job.pk).status == JobStatus.SUCCESSFUL
    handed = Job.objects.get(pk=oldest.pk)
    assert (handed.session_id, handed.last_credential_id, handed.attempts) == (
        session.pk,
        session.credential_id,
        1,
    )
    assert handed.status == JobStatus.ACCEPTED and handed.dispatched == handed.updated == end.job.finished
    assert Job.objects.get(pk=younger.pk).session_id is None
    ((channel, message),) = outbox.to_channels
    assert (channel, message["type"], message["frame"]["job"]) == (
        session.channel_name,
        "job.execute",
        str(oldest.pk),
    )
    assert message["awaited"] and message["frame"]["attempt"] == 1 and message["frame"]["inputs"] == {}


def test_a_success_whose_slot_no_waiting_job_may_take_is_still_one_statement(settings):
    settings.UMS_RETRY_DELAY = 60
    session = session_create()
    job = running_job_create(session)
    given_back = Job.objects.create(
        process=echo_process(), previous_session_id=session.pk, requeued=timezone.now()
    )
    end, outbox, statements = _succeeded(session, job)
    assert not end.slot_handed_over and statements == 1
    assert Job.objects.get(pk=given_back.pk).session_id is None and not outbox.to_channels


def test_a_success_owing_a_callback_records_it():
    session = session_create()
    job = running_job_create(session)
    Job.objects.filter(pk=job.pk).update(subscriber={"successUri": "https://example.org/done"})
    end, outbox, _ = _succeeded(session, job)
    assert end.job.status == JobStatus.SUCCESSFUL and outbox.callbacks
    assert CallbackDelivery.objects.filter(job=job, url="https://example.org/done").exists()


def test_outputs_the_process_does_not_declare_are_refused_and_nothing_is_written():
    session = session_create()
    job = running_job_create(session)
    with pytest.raises(ProtocolError, match="not in the process description"):
        _succeeded(session, job, {"echo": {"value": "hi"}, "other": {"value": 1}})
    assert Job.objects.get(pk=job.pk).status == JobStatus.RUNNING
    assert not JobOutput.objects.exists()


def test_a_success_from_another_session_is_refused_and_nothing_is_written():
    job = running_job_create(session_create())
    with pytest.raises(ProtocolError, match="not assigned"):
        _succeeded(session_create(), job)
    assert Job.objects.get(pk=job.pk).status == JobStatus.RUNNING
    assert not JobOutput.objects.exists()


def test_a_late_success_is_dropped():
    session = session_create()
    job = running_job_create(session)
    Job.objects.filter(pk=job.pk).update(status=JobStatus.DISMISSED)
    end, outbox, _ = _succeeded(session, job)
    assert end is None and not outbox
    assert Job.objects.get(pk=job.pk).status == JobStatus.DISMISSED
    assert not JobOutput.objects.exists()
