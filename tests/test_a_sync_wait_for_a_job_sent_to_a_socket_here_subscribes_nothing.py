"""A synchronous execution whose job goes to a worker socket of its own instance listens for
the job's signals in-process: on Redis it joins the job's group without subscribing it (the
worker's reports, and so the job's signals, come to this instance)."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from channels.layers import get_channel_layer
from django.conf import settings

from jobs.notifications import Outbox, background_settled, job_group
from jobs.waiting import job_watch
from tests.redis_layers import layer_new, prefix_new

pytestmark = [
    pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL"),
    pytest.mark.django_db(transaction=True),
]


async def subscribers(redis, layer, group: str) -> int:
    [(_, count)] = await redis.pubsub_numsub(layer._get_layer()._get_group_channel_name(group))
    return count


async def test_a_channel_joined_here_gets_the_groups_messages_from_this_process_only(redis):
    prefix = prefix_new()
    here, elsewhere = layer_new(prefix), layer_new(prefix)
    channel = await here.new_group_channel()
    await here.group_add_here("job-1", channel)
    assert await subscribers(redis, here, "job-1") == 0
    await elsewhere.group_send("job-1", {"type": "job.changed", "status": "running"})
    await asyncio.sleep(0.2)  # time for Redis to bring it, were the group subscribed here
    await here.group_send("job-1", {"type": "job.changed", "status": "successful"})
    assert await here.receive(channel) == {"type": "job.changed", "status": "successful"}
    await here.group_discard("job-1", channel)
    await here.flush()
    await elsewhere.flush()


async def test_a_watch_of_a_job_sent_to_a_socket_here_subscribes_nothing(redis):
    layer = get_channel_layer()
    socket = await layer.new_channel()  # a worker consumer's, in this process
    sending, job_id = Outbox(), uuid.uuid4()
    sending.to_session(socket, "job.execute", frame={})
    async with job_watch(job_id, sending) as watch:
        assert await subscribers(redis, layer, job_group(job_id)) == 0
        await layer.group_send(job_group(job_id), {"type": "job.changed", "status": "successful"})
        signal = await watch.signal(time.monotonic() + 5)
        assert signal == {"type": "job.changed", "status": "successful"}
    await background_settled()


async def test_a_watch_of_a_job_sent_elsewhere_subscribes_the_jobs_group(redis):
    layer = get_channel_layer()
    sending, job_id = Outbox(), uuid.uuid4()
    sending.to_session("specific.another-instance!1", "job.execute", frame={})
    async with job_watch(job_id, sending):
        assert await subscribers(redis, layer, job_group(job_id)) == 1
    await background_settled()
