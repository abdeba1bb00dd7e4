"""The end of a job whose record names a reply channel (a synchronous execution awaits it) is
signalled to that channel before its group, whichever way the job ended; its other changes
go to the group only. Every dispatch of such a job tells the worker's socket that the end is
awaited."""

from __future__ import annotations

import pytest
from django.utils import timezone

from jobs import services as job_services
from jobs.models import Job, JobStatus
from jobs.notifications import Outbox, job_group
from jobs.scheduler import job_requeue, jobs_dispatch
from tests.scheduler_records import echo_process, session_create

pytestmark = pytest.mark.django_db

REPLY = "ums.listener.an-instance.a-watch"


def _signals(outbox: Outbox) -> list[tuple[str, str]]:
    """Where each change signal goes, and its status."""
    return [
        (to, message["status"])
        for to, message in [*outbox.to_channels, *outbox.to_groups]
        if message["type"] == "job.changed"
    ]


def test_the_end_goes_to_the_reply_channel_first():
    job = Job(
        process=echo_process(), status=JobStatus.SUCCESSFUL, reply_channel=REPLY, finished=timezone.now()
    )
    outbox = Outbox()
    outbox.job_changed(job)
    assert _signals(outbox) == [(REPLY, "successful"), (job_group(job.pk), "successful")]
    assert outbox.to_channels[0][1] is outbox.to_groups[0][1]


def test_a_change_that_is_not_the_end_goes_to_the_group_only():
    job = Job(process=echo_process(), status=JobStatus.RUNNING, reply_channel=REPLY)
    outbox = Outbox()
    outbox.job_changed(job)
    assert _signals(outbox) == [(job_group(job.pk), "running")]


def test_a_job_without_a_reply_channel_signals_its_group_only():
    job = Job(process=echo_process(), status=JobStatus.FAILED)
    outbox = Outbox()
    outbox.job_changed(job)
    assert _signals(outbox) == [(job_group(job.pk), "failed")]


def test_a_dismissal_goes_to_the_reply_channel():
    job = Job.objects.create(process=echo_process(), reply_channel=REPLY)
    outbox = Outbox()
    job_services.job_dismiss(job_id=job.pk, outbox=outbox)
    assert _signals(outbox) == [(REPLY, "dismissed"), (job_group(job.pk), "dismissed")]


def _execute_events(outbox: Outbox) -> list[dict]:
    return [message for _, message in outbox.to_channels if message["type"] == "job.execute"]


@pytest.mark.parametrize(("reply_channel", "awaited"), [(REPLY, True), ("", False)])
def test_each_dispatch_tells_the_socket_whether_the_end_is_awaited(reply_channel, awaited):
    session_create()
    outbox = Outbox()
    job = job_services.job_create(
        process=echo_process(), inputs={}, reply_channel=reply_channel, outbox=outbox
    )
    [first] = _execute_events(outbox)
    job.refresh_from_db()
    job_requeue(job, reason="the worker left", outbox=Outbox())
    Job.objects.filter(pk=job.pk).update(requeued=None, previous_session_id=None)  # no retry delay
    outbox = Outbox()
    jobs_dispatch(outbox=outbox)
    [again] = _execute_events(outbox)
    assert (first["frame"]["job"], again["frame"]["job"]) == (str(job.pk), str(job.pk))
    assert (first["awaited"], again["awaited"]) == (awaited, awaited)
