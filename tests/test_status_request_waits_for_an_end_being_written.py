"""A status request for a job whose end its instance holds, and is still writing, answers that
end rather than "running": the client learns of it at this poll, not the next one."""

from __future__ import annotations

import asyncio
import threading
import uuid

import pytest
from django.test import AsyncClient

import jobs.waiting
from jobs import selectors as job_selectors
from jobs.models import Job, JobStatus
from jobs.waiting import job_watch
from registry import consumers
from tests.factories import ECHO, receive, send, submitted, token_create
from tests.status_waits import SETTLE_SECONDS, running_job, status_of
from ums_site.db import db_sync_to_async

pytestmark = pytest.mark.django_db(transaction=True)


async def _submitted(ws) -> str:
    """An asynchronous execution of the echo, sent to the worker on `ws`; the job's id."""
    job_id = await submitted()
    assert (await receive(ws))["job"] == job_id
    return job_id


async def test_it_answers_the_end_being_written():
    job = await db_sync_to_async(running_job)()
    with jobs.waiting.end_writing(str(job.pk)):
        request = asyncio.create_task(status_of(job.pk))
        await asyncio.sleep(SETTLE_SECONDS)
        assert not request.done()
        await Job.objects.filter(pk=job.pk).aupdate(status=JobStatus.SUCCESSFUL)
    assert await asyncio.wait_for(request, 5) == JobStatus.SUCCESSFUL


async def test_it_answers_the_end_as_written_without_reading_it_back():
    job = await db_sync_to_async(running_job)()
    with jobs.waiting.end_writing(str(job.pk)) as written:
        request = asyncio.create_task(status_of(job.pk))
        await asyncio.sleep(SETTLE_SECONDS)
        job.status = JobStatus.SUCCESSFUL  # as the write left it; the record is left running
        written(job)
    assert await asyncio.wait_for(request, 5) == JobStatus.SUCCESSFUL


async def test_an_end_written_of_someone_elses_job_is_not_shown(django_user_model):
    job = await db_sync_to_async(running_job)()
    owner = await django_user_model.objects.acreate(username="owner")
    await Job.objects.filter(pk=job.pk).aupdate(owner=owner)
    with jobs.waiting.end_writing(str(job.pk)) as written:
        request = asyncio.create_task(AsyncClient().get(f"/jobs/{job.pk}"))
        await asyncio.sleep(SETTLE_SECONDS)
        job.owner, job.status = owner, JobStatus.SUCCESSFUL
        written(job)
    assert (await asyncio.wait_for(request, 5)).status_code == 404


async def test_it_answers_an_end_that_came_in_during_its_read(monkeypatch):
    job = await db_sync_to_async(running_job)()
    loop = asyncio.get_running_loop()
    writing = jobs.waiting.end_writing(str(job.pk))
    read = job_selectors.job_get_visible

    def read_as_the_end_comes_in(*args):
        found = read(*args)
        # Scheduled before the read's result reaches the request, as a worker's report would be.
        loop.call_soon_threadsafe(writing.__enter__)
        monkeypatch.setattr(job_selectors, "job_get_visible", read)
        return found

    monkeypatch.setattr(job_selectors, "job_get_visible", read_as_the_end_comes_in)
    request = asyncio.create_task(status_of(job.pk))
    await asyncio.sleep(SETTLE_SECONDS)
    assert not request.done()
    await Job.objects.filter(pk=job.pk).aupdate(status=JobStatus.SUCCESSFUL)
    writing.__exit__(None, None, None)
    assert await asyncio.wait_for(request, 5) == JobStatus.SUCCESSFUL


async def test_any_spelling_of_the_job_id_waits():
    job_id = uuid.uuid4()
    with jobs.waiting.end_writing(str(job_id).upper()):
        waiting = asyncio.create_task(jobs.waiting.end_written(job_id.hex))
        await asyncio.sleep(SETTLE_SECONDS)
        assert not waiting.done()
    await asyncio.wait_for(waiting, 5)


async def test_it_waits_no_longer_than_its_bound(monkeypatch):
    monkeypatch.setattr(jobs.waiting, "END_WRITE_WAIT_SECONDS", 0.05)
    job = await db_sync_to_async(running_job)()
    with jobs.waiting.end_writing(str(job.pk)):  # a write that never ends
        assert await asyncio.wait_for(status_of(job.pk), 5) == JobStatus.RUNNING


async def test_other_jobs_and_malformed_ids_do_not_wait():
    with jobs.waiting.end_writing(str(uuid.uuid4())):
        await asyncio.wait_for(jobs.waiting.end_written(str(uuid.uuid4())), 1)
        await asyncio.wait_for(jobs.waiting.end_written("not-a-job"), 1)
    with jobs.waiting.end_writing("not-a-job"):
        await asyncio.wait_for(jobs.waiting.end_written("not-a-job"), 1)


async def test_the_end_is_writing_until_the_report_is_written(connect_worker, monkeypatch):
    """The worker socket marks a job's end from its report until the write is done."""
    writing, release = threading.Event(), threading.Event()
    succeeded = consumers.JOB_REPORTS["job.succeeded"]

    def held(**kwargs):
        writing.set()
        assert release.wait(10)
        return succeeded(**kwargs)

    monkeypatch.setitem(consumers.JOB_REPORTS, "job.succeeded", held)
    ws, _ = await connect_worker(await token_create(), processes=[ECHO])
    job_id = await _submitted(ws)
    await send(ws, {"type": "job.succeeded", "job": job_id, "outputs": {"echo": {"value": "hi"}}})
    assert await asyncio.to_thread(writing.wait, 10)
    waiting = asyncio.create_task(jobs.waiting.end_written(job_id))
    await asyncio.sleep(SETTLE_SECONDS)
    assert not waiting.done()
    release.set()
    await asyncio.wait_for(waiting, 5)
    assert await status_of(job_id) == JobStatus.SUCCESSFUL


async def test_the_end_goes_on_while_the_dispatch_looks_at_the_queue(connect_worker, monkeypatch):
    """Once the end is committed, status requests answer and the job's watchers hear of it,
    while the same thread still dispatches to the slot the end freed."""
    dispatching, release = threading.Event(), threading.Event()
    dispatch = consumers.slot_freed_dispatch

    def held(**kwargs):
        dispatching.set()
        assert release.wait(10)
        return dispatch(**kwargs)

    ws, _ = await connect_worker(await token_create(), processes=[ECHO])
    job_id = await _submitted(ws)
    monkeypatch.setattr(consumers, "slot_freed_dispatch", held)
    async with job_watch(job_id) as watch:
        await send(ws, {"type": "job.succeeded", "job": job_id, "outputs": {"echo": {"value": "hi"}}})
        assert await asyncio.to_thread(dispatching.wait, 10)
        try:
            signal = await asyncio.wait_for(watch.until_final(lambda: None, 5, lambda signal: signal), 6)
            await asyncio.wait_for(jobs.waiting.end_written(job_id), 5)
        finally:
            release.set()
    assert signal is not None and signal["status"] == JobStatus.SUCCESSFUL
