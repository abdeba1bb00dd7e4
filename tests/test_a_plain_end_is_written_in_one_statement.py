"""On PostgreSQL a plain success (values its process declares, no uploads, no callback owed) or
a failure that owes no callback is written in one statement, with the handover of its slot to
a waiting job of its process; any other report is checked first, as on SQLite, with the same
outcome."""

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
    return _ended(services.job_succeeded, session, job, outputs=outputs, signal_results=True)


def _failed(session, job: Job) -> tuple[services.JobEnd | None, Outbox, int]:
    return _ended(services.job_failed, session, job, error={"title": "Diverged", "detail": "at step 3"})


def _ended(report, session, job: Job, **fields) -> tuple[services.JobEnd | None, Outbox, int]:
    outbox = Outbox()
    with CaptureQueriesContext(connection) as queries:
        end = report(session=session, job_id=str(job.pk), outbox=outbox, **fields)
    return end, outbox, len(queries)


def _as_stored(job: Job) -> dict:
    return {f.attname: getattr(job, f.attname) for f in Job._meta.concrete_fields}


def test_a_plain_success_is_one_statement_and_reads_as_stored():
    session = session_create()
    job = running_job_create(session)
    end, outbox, statements = _succeeded(session, job)
    assert statements == 1
    stored = Job.objects.get(pk=job.pk)
    assert stored.status == JobStatus.SUCCESSFUL and stored.progress == 100
    assert stored.started == job.started  # kept: it was set
    assert _as_stored(end.job) == _as_stored(stored)
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


def test_outputs_the_process_does_not_declare_are_refused_and_nothing_is_written():
    session = session_create()
    job = running_job_create(session)
    with pytest.raises(ProtocolError, match="not in the process description"):
        _succeeded(session, job, {"echo": {"value": "hi"}, "other": {"value": 1}})
    assert Job.objects.get(pk=job.pk).status == JobStatus.RUNNING
    assert not JobOutput.objects.exists()


def test_a_failure_is_one_statement_and_reads_as_stored():
    session = session_create()
    job = running_job_create(session)
    end, outbox, statements = _failed(session, job)
    assert statements == 1 and not end.slot_handed_over
    stored = Job.objects.get(pk=job.pk)
    assert _as_stored(end.job) == _as_stored(stored)
    assert (stored.status, stored.message) == (JobStatus.FAILED, "at step 3")
    assert stored.error == {"title": "Diverged", "detail": "at step 3"}
    assert stored.started == job.started and stored.finished is not None and stored.progress == job.progress
    ((_, signal),) = outbox.to_groups
    assert signal["status"] == JobStatus.FAILED


def test_a_failure_with_a_job_of_its_process_waiting_hands_the_slot_over_in_its_statement():
    session = session_create()
    job = running_job_create(session)
    waiting = Job.objects.create(process=echo_process())
    end, outbox, statements = _failed(session, job)
    assert end.slot_handed_over and statements == 1
    assert Job.objects.get(pk=waiting.pk).session_id == session.pk
    assert [message["frame"]["job"] for _, message in outbox.to_channels] == [str(waiting.pk)]


@pytest.mark.parametrize(
    ("ended", "uri", "status"),
    [(_succeeded, "successUri", JobStatus.SUCCESSFUL), (_failed, "failedUri", JobStatus.FAILED)],
)
def test_an_end_owing_a_callback_records_it(ended, uri, status):
    session = session_create()
    job = running_job_create(session)
    Job.objects.filter(pk=job.pk).update(subscriber={uri: "https://example.org/ended"})
    end, outbox, _ = ended(session, job)
    assert end.job.status == status and outbox.callbacks
    assert CallbackDelivery.objects.filter(job=job, url="https://example.org/ended").exists()


ENDS = pytest.mark.parametrize("ended", [_succeeded, _failed])


@ENDS
def test_an_end_from_another_session_is_refused_and_nothing_is_written(ended):
    job = running_job_create(session_create())
    with pytest.raises(ProtocolError, match="not assigned"):
        ended(session_create(), job)
    assert Job.objects.get(pk=job.pk).status == JobStatus.RUNNING
    assert not JobOutput.objects.exists()


@ENDS
def test_a_late_end_is_dropped(ended):
    session = session_create()
    job = running_job_create(session)
    Job.objects.filter(pk=job.pk).update(status=JobStatus.DISMISSED)
    end, outbox, _ = ended(session, job)
    assert end is None and not outbox
    assert Job.objects.get(pk=job.pk).status == JobStatus.DISMISSED
    assert not JobOutput.objects.exists()
