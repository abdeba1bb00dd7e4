"""With several instances on Redis, a status request reaching an instance other than the one
writing its job's end (marked there as the worker's report came in) waits for that write and
answers the end, not "running"; an end refused after all releases it at once."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from django.conf import settings
from django.test import AsyncClient
from django.utils import timezone

import jobs.waiting
from jobs.models import Job, JobStatus
from jobs.notifications import Outbox, job_group
from tests.status_waits import SETTLE_SECONDS, running_job, status_of
from ums_site.channel_layer import LocalFirstPubSubChannelLayer
from ums_site.db import db_sync_to_async

pytestmark = [
    pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(autouse=True)
def long_bound(monkeypatch):
    """A waiting request that is not released would answer only after a minute: the tests'
    five-second bounds then fail."""
    monkeypatch.setattr(jobs.waiting, "END_WRITE_WAIT_SECONDS", 60)


async def _waiting_status(job: Job, other_instance: LocalFirstPubSubChannelLayer) -> asyncio.Task:
    """A status request of `job`, waiting for the end the other instance marked."""
    await other_instance.mark_set(f"ending.{job.pk}", 60)
    request = asyncio.create_task(status_of(job.pk))
    await asyncio.sleep(SETTLE_SECONDS)
    assert not request.done()
    return request


async def test_it_answers_the_end_another_instance_writes(other_instance):
    job = await db_sync_to_async(running_job)()
    request = await _waiting_status(job, other_instance)
    await Job.objects.filter(pk=job.pk).aupdate(status=JobStatus.SUCCESSFUL)
    changed = {"type": "job.changed", "job": str(job.pk), "status": "successful", "progress": 100}
    await other_instance.group_send(job_group(job.pk), changed)
    assert await asyncio.wait_for(request, 5) == JobStatus.SUCCESSFUL


async def test_it_answers_the_end_from_its_signal_without_reading_it_back(other_instance):
    job = await db_sync_to_async(running_job)()
    request = await _waiting_status(job, other_instance)
    job.status, job.finished = JobStatus.SUCCESSFUL, timezone.now()  # the record is left running
    outbox = Outbox()
    outbox.job_changed(job)
    await other_instance.group_send(*outbox.to_groups[0])
    assert await asyncio.wait_for(request, 5) == JobStatus.SUCCESSFUL


async def test_an_end_signalled_of_someone_elses_job_is_not_shown(other_instance, django_user_model):
    job = await db_sync_to_async(running_job)()
    owner = await django_user_model.objects.acreate(username="owner")
    await other_instance.mark_set(f"ending.{job.pk}", 60)
    request = asyncio.create_task(AsyncClient().get(f"/jobs/{job.pk}"))
    await asyncio.sleep(SETTLE_SECONDS)
    job.status, job.owner = JobStatus.FAILED, owner
    outbox = Outbox()
    outbox.job_changed(job)
    await other_instance.group_send(*outbox.to_groups[0])
    assert (await asyncio.wait_for(request, 5)).status_code == 404


async def test_a_refused_end_answers_the_record_at_once(other_instance):
    job = await db_sync_to_async(running_job)()
    request = await _waiting_status(job, other_instance)
    await other_instance.mark_clear(f"ending.{job.pk}")
    await other_instance.group_send(job_group(job.pk), {"type": "job.changed", "job": str(job.pk)})
    assert await asyncio.wait_for(request, 5) == JobStatus.RUNNING


async def test_it_does_not_wait_for_an_end_unmarked_before_it_listened(other_instance, monkeypatch):
    job = await db_sync_to_async(running_job)()
    look = jobs.waiting._is_marked
    looks = 0

    async def unmarked_after_the_first_look(layer, key):
        nonlocal looks
        looks += 1
        found = await look(layer, key)
        await other_instance.mark_clear(f"ending.{key}")  # refused, its signal sent to no one
        return found

    await other_instance.mark_set(f"ending.{job.pk}", 60)
    monkeypatch.setattr(jobs.waiting, "_is_marked", unmarked_after_the_first_look)
    assert await asyncio.wait_for(status_of(job.pk), 5) == JobStatus.RUNNING
    assert looks == 2


async def test_an_unmarked_job_does_not_wait(other_instance):
    job = await db_sync_to_async(running_job)()
    await other_instance.mark_set(f"ending.{uuid.uuid4()}", 60)
    assert await asyncio.wait_for(status_of(job.pk), 5) == JobStatus.RUNNING


async def test_writing_an_end_marks_it_for_the_other_instances(other_instance):
    job_id = str(uuid.uuid4())
    with jobs.waiting.end_writing(job_id.upper()) as written:
        await _until(lambda: other_instance.is_marked(f"ending.{job_id}"))
        written(None)
    await asyncio.sleep(SETTLE_SECONDS)  # a written end stays marked: its signal is on its way
    assert await other_instance.is_marked(f"ending.{job_id}")


async def test_an_end_not_written_is_unmarked_and_its_waiters_prompted(other_instance):
    job_id = str(uuid.uuid4())
    channel = await other_instance.new_channel()
    await other_instance.group_add(job_group(job_id), channel)
    with jobs.waiting.end_writing(job_id):
        await _until(lambda: other_instance.is_marked(f"ending.{job_id}"))
    prompt = await asyncio.wait_for(other_instance.receive(channel), 5)
    assert prompt == {"type": "job.changed", "job": job_id}
    assert not await other_instance.is_marked(f"ending.{job_id}")


async def _until(condition) -> None:
    """Until `condition()` holds (the mark is set in a task of its own), for five seconds."""
    for _ in range(500):
        if await condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("not marked in five seconds")
