"""A process's Redis channel layer keeps a subscription of its own on every shard (the pattern
of its listener channels), so that its receiver reads Redis also while no channel or group of
it listens: channels-redis's receiver, without any subscription, checks back only every 0.1 s,
and the first message to a group subscribed after a quiet spell (a synchronous execution's
job end, from the instance whose worker ran it) came that much later."""

from __future__ import annotations

import asyncio

import pytest
from django.conf import settings

from tests.redis_layers import layer_new, prefix_new

pytestmark = pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL")


async def test_it_stays_subscribed_once_its_last_group_is_left(redis):
    prefix = prefix_new()
    layer = layer_new(prefix)
    patterns = await redis.pubsub_numpat()
    channel = await layer.new_listener_channel()
    await layer.group_add("job-7", channel)
    await layer.group_discard("job-7", channel)
    assert await redis.pubsub_channels(f"{prefix}*") == []
    assert await redis.pubsub_numpat() == patterns + 1
    await layer.flush()
    assert await redis.pubsub_numpat() == patterns


async def test_it_stays_subscribed_once_its_consumers_channels_end(redis):
    prefix = prefix_new()
    layer = layer_new(prefix)
    patterns = await redis.pubsub_numpat()
    channel = await layer.new_channel()
    assert await redis.pubsub_channels(f"{prefix}*") == [channel.encode()]
    receiving = asyncio.create_task(layer.receive(channel))
    await asyncio.sleep(0)
    receiving.cancel()  # how Channels ends a consumer's channel
    with pytest.raises(asyncio.CancelledError):
        await receiving
    assert await redis.pubsub_channels(f"{prefix}*") == []
    assert await redis.pubsub_numpat() == patterns + 1
    await layer.flush()


async def test_two_processes_subscribe_a_pattern_each_once(redis):
    prefix = prefix_new()
    first, second = layer_new(prefix), layer_new(prefix)
    patterns = await redis.pubsub_numpat()
    for _ in range(2):
        await first.group_add("job-8", await first.new_listener_channel())
        await second.group_add("job-8", await second.new_listener_channel())
    assert await redis.pubsub_numpat() == patterns + 2
    await first.flush()
    await second.flush()
