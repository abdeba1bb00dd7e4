"""The queue timeout counts from the job's creation or the last provider's departure, whichever
is later: a job that waited long behind busy workers does not fail the moment they leave."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from jobs.models import Job
from jobs.notifications import Outbox
from jobs.scheduler import session_end, sweep
from tests.scheduler_records import session_create

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_long_waiting_job_gets_the_full_timeout_after_the_last_provider_leaves(settings):
    settings.UMS_QUEUE_TIMEOUT = 60
    session = session_create()
    job = Job.objects.create(process_id="echo")
    Job.objects.filter(pk=job.pk).update(created=timezone.now() - timedelta(hours=2))
    session_end(session_id=session.pk, reason="gone", outbox=Outbox())

    sweep(outbox=Outbox())
    job.refresh_from_db()
    assert job.status == "accepted"

    settings.UMS_QUEUE_TIMEOUT = 0.001
    sweep(outbox=Outbox())
    job.refresh_from_db()
    assert job.status == "failed"
    assert job.error["title"] == "No worker available"
