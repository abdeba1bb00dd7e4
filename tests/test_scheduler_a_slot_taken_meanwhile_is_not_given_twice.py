"""A job created optimistically takes a slot as the look that locked the sessions saw it; its
INSERT writes it only if the slot is still free. On PostgreSQL that look may predate the
commit of a dispatcher whose lock it waited for."""

from __future__ import annotations

import pytest
from django.db import connection

from jobs import services
from jobs.models import Job, job_rows
from jobs.notifications import Outbox
from jobs.scheduler import slot_free_condition
from registry.models import WorkerSession
from tests.lock_waits import while_a_dispatcher_takes_the_slot
from tests.scheduler_records import echo_process, optimistic_job_create, running_job_create, session_create


def _assigned_to(session: WorkerSession) -> Job:
    return Job(process=echo_process(), session=session, last_credential=session.credential, attempts=1)


@pytest.mark.django_db
def test_a_job_is_written_to_a_free_slot():
    session = session_create()
    assert job_rows.insert(_assigned_to(session), condition=slot_free_condition(session))
    assert Job.objects.filter(session=session).count() == 1


@pytest.mark.django_db
def test_a_job_is_not_written_to_a_slot_another_job_holds():
    session = session_create()
    running_job_create(session)
    assert not job_rows.insert(_assigned_to(session), condition=slot_free_condition(session))
    assert Job.objects.filter(session=session).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_creation_whose_look_predates_the_slots_taking_writes_nothing(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer at a time: a look never predates a commit")
    # The dispatch a creation falls back on when its placements without the providers' locks
    # wrote nothing (`job_place`, tests/test_a_new_job_is_placed_without_locking_every_provider.py).
    monkeypatch.setattr(services, "job_place", lambda job, **kwargs: None)
    session = session_create()
    creation = while_a_dispatcher_takes_the_slot(session, optimistic_job_create)
    with pytest.raises(services.JobCreateConflict):
        creation.result()
    assert list(Job.objects.values_list("session", flat=True)) == [session.pk]

    services.job_create(process=echo_process(), inputs={}, outbox=Outbox())
    assert Job.objects.filter(session__isnull=True).count() == 1  # counted again: it waits
