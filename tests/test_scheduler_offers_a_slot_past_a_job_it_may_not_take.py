"""A free slot goes to the oldest waiting job its session may take: a job the session gave
back moments ago waits out UMS_RETRY_DELAY, and a younger one takes the slot meanwhile."""

from __future__ import annotations

import pytest
from django.utils import timezone

from jobs.models import Job
from jobs.notifications import Outbox
from jobs.scheduler import jobs_dispatch
from tests.scheduler_records import echo_process, session_create

pytestmark = pytest.mark.django_db


def test_a_younger_job_takes_the_slot_of_a_session_an_older_one_left(settings):
    settings.UMS_RETRY_DELAY = 60
    session = session_create()  # one slot
    given_back = Job.objects.create(
        process=echo_process(), previous_session_id=session.pk, requeued=timezone.now(), attempts=1
    )
    younger = Job.objects.create(process=echo_process())
    outbox = Outbox()
    assert jobs_dispatch(outbox=outbox) == 1
    assert Job.objects.get(pk=younger.pk).session == session
    assert Job.objects.get(pk=given_back.pk).session is None
    assert [message["frame"]["job"] for _, message in outbox.to_channels] == [str(younger.pk)]


def test_jobs_are_offered_oldest_first_to_every_free_slot(settings):
    session = session_create()
    session.capacity = 3
    session.save()
    jobs = [Job.objects.create(process=echo_process()) for _ in range(4)]
    assert jobs_dispatch(outbox=Outbox()) == 3
    assert [Job.objects.get(pk=job.pk).session_id for job in jobs] == [session.pk] * 3 + [None]


def test_a_dispatch_takes_no_more_jobs_than_its_limit():
    session = session_create()
    session.capacity = 3
    session.save()
    for _ in range(4):
        Job.objects.create(process=echo_process())
    assert jobs_dispatch(outbox=Outbox(), limit=2) == 2
