"""The Redis channel layer delivers a message to a channel of the same process without Redis,
and everything else through it (ums_site.channel_layer)."""

from __future__ import annotations

import uuid

import pytest
from django.conf import settings
from redis import asyncio as aioredis

from ums_site.channel_layer import LocalFirstPubSubChannelLayer
from ums_site.settings import channel_layers_from_url

pytestmark = pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL")


def _layer(prefix: str) -> LocalFirstPubSubChannelLayer:
    config = channel_layers_from_url(settings.REDIS_URL)["default"]["CONFIG"]
    return LocalFirstPubSubChannelLayer(**{**config, "prefix": prefix})


@pytest.fixture
async def redis():
    client = aioredis.Redis.from_url(settings.REDIS_URL)
    yield client
    await client.aclose()


async def test_a_message_to_a_channel_of_this_process_skips_redis(redis):
    layer = _layer(f"test-{uuid.uuid4().hex}.")
    channel = await layer.new_channel()
    async with redis.pubsub() as listener:
        await listener.subscribe(channel)
        await listener.get_message(timeout=5)  # the subscription's confirmation
        message = {"type": "job.execute", "frame": {"job": "1"}}
        await layer.send(channel, message)
        message["frame"]["job"] = "changed after sending"
        assert await layer.receive(channel) == {"type": "job.execute", "frame": {"job": "1"}}
        await redis.publish(channel, b"marker")
        seen = await listener.get_message(ignore_subscribe_messages=True, timeout=5)
        assert seen is not None and seen["data"] == b"marker"
    await layer.flush()


async def test_a_message_to_another_process_goes_through_redis(redis):
    prefix = f"test-{uuid.uuid4().hex}."
    sender, receiver = _layer(prefix), _layer(prefix)  # two processes' layers
    channel = await receiver.new_channel()
    await sender.send(channel, {"type": "job.cancel", "job": "2"})
    assert await receiver.receive(channel) == {"type": "job.cancel", "job": "2"}
    await sender.flush()
    await receiver.flush()


async def test_a_group_message_reaches_a_listener_of_this_process_too(redis):
    layer = _layer(f"test-{uuid.uuid4().hex}.")
    channel = await layer.new_channel()
    await layer.group_add("job-3", channel)
    await layer.group_send("job-3", {"type": "job.changed", "status": "successful"})
    assert await layer.receive(channel) == {"type": "job.changed", "status": "successful"}
    await layer.flush()
