"""A running job whose session row is gone (deleted by staff) goes back to the queue."""

from __future__ import annotations

import pytest

from jobs.notifications import Outbox
from jobs.scheduler import sweep
from tests.scheduler_records import running_job_create, session_create

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_sweep_requeues_a_running_job_without_a_session():
    session = session_create()
    job = running_job_create(session)
    session.delete()

    sweep(outbox=Outbox())

    job.refresh_from_db()
    assert (job.status, job.session, job.message) == (
        "accepted",
        None,
        "Requeued: its worker session is gone",
    )
