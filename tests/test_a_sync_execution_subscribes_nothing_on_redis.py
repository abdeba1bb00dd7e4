"""A synchronous execution listens for its job's end on a channel the job's record names
(`Job.reply_channel`), which needs no subscription of its own on Redis: the instance that
ends the job, whichever it is, sends the end there. Joining the job's group cost a SUBSCRIBE
before the job could leave, when the worker's socket was held by another instance."""

from __future__ import annotations

import asyncio
import time

import pytest
from django.conf import settings
from django.test import AsyncClient

import jobs.waiting
from jobs import services as job_services
from jobs.notifications import Outbox, job_group
from jobs.waiting import reply_watch
from registry.models import WorkerSession
from tests.ogc_factories import provide
from ums_site.channel_layer import LocalFirstPubSubChannelLayer
from ums_site.db import db_sync_to_async

pytestmark = [
    pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL"),
    pytest.mark.django_db(transaction=True),
]


async def subscribers(redis, name: str) -> int:
    [(_, count)] = await redis.pubsub_numsub(name)
    return count


async def test_a_reply_watch_gets_a_message_another_instance_sends_to_it(redis, other_instance):
    async with reply_watch() as watch:
        assert await subscribers(redis, watch.channel) == 0
        await other_instance.send(watch.channel, {"type": "job.changed", "status": "successful"})
        signal = await watch.signal(time.monotonic() + 5)
    assert signal == {"type": "job.changed", "status": "successful"}


async def _delivered(outbox: Outbox, layer: LocalFirstPubSubChannelLayer) -> None:
    """Delivers the outbox as the instance with `layer` does."""
    for channel, message in outbox.to_channels:
        await layer.send(channel, message)
    for group, message in outbox.to_groups:
        await layer.group_send(group, message)


async def test_it_answers_the_end_the_workers_instance_sends(redis, other_instance, monkeypatch):
    monkeypatch.setattr(jobs.waiting, "POLL_SECONDS", 60)  # no look at the record meanwhile
    socket = await other_instance.new_channel()  # the worker's socket, held by the other instance
    session = await db_sync_to_async(provide)()
    await WorkerSession.objects.filter(pk=session.pk).aupdate(channel_name=socket)
    request = asyncio.create_task(
        AsyncClient().post(
            "/processes/echo/execution", {"inputs": {"message": "hi"}}, content_type="application/json"
        )
    )
    execute = await asyncio.wait_for(other_instance.receive(socket), 5)
    assert execute["awaited"] is True
    job_id = execute["frame"]["job"]
    group = other_instance._get_layer()._get_group_channel_name(job_group(job_id))
    assert await subscribers(redis, group) == 0

    outbox = Outbox()
    report = {"session": session, "job_id": job_id, "outputs": {"echo": {"value": "hi"}}, "outbox": outbox}
    await db_sync_to_async(job_services.job_succeeded)(**report, signal_results=True)
    await _delivered(outbox, other_instance)

    response = await asyncio.wait_for(request, 5)
    assert (response.status_code, response.json()) == (200, "hi")
