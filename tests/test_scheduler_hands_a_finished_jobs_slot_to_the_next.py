"""The slot a job's end frees goes, in the end's transaction, to the oldest waiting job of its
process that the session may take; otherwise the end leaves it to the dispatch."""

from __future__ import annotations

import asyncio

import pytest
from django.utils import timezone

from jobs import services
from jobs.models import Job, JobStatus
from jobs.notifications import Outbox
from registry import consumers
from registry.models import Process
from tests.factories import ECHO, description, receive, send, submitted, token_create
from tests.scheduler_records import echo_process, running_job_create, session_create

OUTPUTS = {"echo": {"value": "hi"}}


def _session_with_backlog() -> tuple:
    """A one-slot session running a job, and two jobs of its process waiting, oldest first."""
    session = session_create()
    running = running_job_create(session)
    waiting = [Job.objects.create(process=echo_process()) for _ in range(2)]
    return session, running, waiting


def _execute_frames(outbox: Outbox) -> list[str]:
    return [message["frame"]["job"] for _, message in outbox.to_channels if message["type"] == "job.execute"]


@pytest.mark.django_db
def test_a_success_hands_its_slot_to_the_oldest_waiting_job():
    session, running, (oldest, younger) = _session_with_backlog()
    outbox = Outbox()
    assert services.job_succeeded(
        session=session, job_id=str(running.pk), outputs=OUTPUTS, outbox=outbox
    ).slot_handed_over
    oldest.refresh_from_db()
    assert (oldest.session_id, oldest.attempts, oldest.status) == (session.pk, 1, JobStatus.ACCEPTED)
    assert oldest.dispatched is not None and oldest.last_credential_id == session.credential_id
    assert Job.objects.get(pk=younger.pk).session_id is None
    assert _execute_frames(outbox) == [str(oldest.pk)]


@pytest.mark.django_db
def test_a_failure_hands_its_slot_over_too():
    session, running, (oldest, _) = _session_with_backlog()
    outbox = Outbox()
    error = {"title": "Model diverged"}
    end = services.job_failed(session=session, job_id=str(running.pk), error=error, outbox=outbox)
    assert end is not None and end.slot_handed_over
    assert Job.objects.get(pk=oldest.pk).session_id == session.pk
    assert Job.objects.get(pk=running.pk).status == JobStatus.FAILED


@pytest.mark.django_db
def test_a_job_the_session_gave_back_moments_ago_is_not_handed_its_slot(settings):
    settings.UMS_RETRY_DELAY = 60
    session, running, (oldest, _) = _session_with_backlog()
    Job.objects.filter(pk=oldest.pk).update(previous_session_id=session.pk, requeued=timezone.now())
    outbox = Outbox()
    assert not services.job_succeeded(
        session=session, job_id=str(running.pk), outputs=OUTPUTS, outbox=outbox
    ).slot_handed_over
    assert not Job.objects.filter(session=session, status=JobStatus.ACCEPTED).exists()
    assert _execute_frames(outbox) == []


@pytest.mark.django_db
def test_a_session_no_longer_providing_the_process_is_not_handed_its_jobs():
    session, running, _ = _session_with_backlog()
    echo_process().providers.remove(session)
    outbox = Outbox()
    assert not services.job_succeeded(
        session=session, job_id=str(running.pk), outputs=OUTPUTS, outbox=outbox
    ).slot_handed_over
    assert _execute_frames(outbox) == []


@pytest.mark.django_db
def test_a_session_providing_only_other_processes_now_is_not_handed_its_jobs():
    session, running, _ = _session_with_backlog()
    echo_process().providers.remove(session)
    flood = Process.objects.create(id="flood", version="1", description=description(id="flood"))
    flood.providers.add(session)
    outbox = Outbox()
    assert not services.job_succeeded(
        session=session, job_id=str(running.pk), outputs=OUTPUTS, outbox=outbox
    ).slot_handed_over
    assert _execute_frames(outbox) == []


@pytest.mark.django_db
def test_without_waiting_jobs_nothing_is_handed_over():
    session = session_create()
    running = running_job_create(session)
    outbox = Outbox()
    assert not services.job_succeeded(
        session=session, job_id=str(running.pk), outputs=OUTPUTS, outbox=outbox
    ).slot_handed_over
    assert _execute_frames(outbox) == []


@pytest.mark.django_db(transaction=True)
async def test_the_worker_gets_the_next_job_without_a_dispatch(connect_worker, monkeypatch):
    dispatches = 0
    dispatch = consumers.slot_freed_dispatch

    def counted(**kwargs):
        nonlocal dispatches
        dispatches += 1
        return dispatch(**kwargs)

    ws, _ = await connect_worker(await token_create(), processes=[ECHO])  # one slot
    created = [await submitted() for _ in range(2)]
    first = await receive(ws)
    assert first["job"] == created[0]
    monkeypatch.setattr(consumers, "slot_freed_dispatch", counted)
    await send(ws, {"type": "job.succeeded", "job": first["job"], "outputs": OUTPUTS})
    second = await asyncio.wait_for(receive(ws), 5)
    assert (second["type"], second["job"]) == ("job.execute", created[1])
    assert dispatches == 0
    statuses = [job.status async for job in Job.objects.filter(pk__in=created).order_by("created")]
    assert statuses == [JobStatus.SUCCESSFUL, JobStatus.ACCEPTED]
