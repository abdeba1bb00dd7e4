"""The Redis channel layer delivers a message to a channel or a group listener of the same
process without Redis, once, and to other processes through it; a listener channel gets
messages from other processes without a subscription of its own (ums_site.channel_layer)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from django.conf import settings

from tests.redis_layers import layer_new, prefix_new
from ums_site.channel_layer import LocalFirstPubSubChannelLayer

pytestmark = pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL")


async def test_a_message_to_a_channel_of_this_process_skips_redis(redis):
    layer = layer_new(prefix_new())
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


@pytest.mark.parametrize(
    ("new_channel", "subscriptions"),
    [("new_channel", 1), ("new_listener_channel", 0)],  # a consumer's; a watch's, under the pattern
)
async def test_a_message_to_another_process_goes_through_redis(redis, new_channel, subscriptions):
    prefix = prefix_new()
    sender, receiver = layer_new(prefix), layer_new(prefix)  # two processes' layers
    channel = await getattr(receiver, new_channel)()
    assert await redis.pubsub_numsub(channel) == [(channel.encode(), subscriptions)]
    await sender.send(channel, {"type": "job.cancel", "job": "2"})
    assert await asyncio.wait_for(receiver.receive(channel), 5) == {"type": "job.cancel", "job": "2"}
    await sender.flush()
    await receiver.flush()


async def group_listener(group: str, new_channel: str) -> tuple[LocalFirstPubSubChannelLayer, str, Any]:
    """A process's layer with a channel (`new_channel` makes it) in `group`, and the group's
    Redis shard."""
    layer = layer_new(prefix_new())
    channel = await getattr(layer, new_channel)()
    await layer.group_add(group, channel)
    return layer, channel, layer._get_layer()._get_shard(layer._get_layer()._get_group_channel_name(group))


async def test_a_group_message_reaches_a_listener_of_this_process_without_redis(redis, monkeypatch):
    layer, channel, shard = await group_listener("job-3", "new_channel")
    redis_reached = asyncio.Event()

    async def stuck(*args) -> None:  # Redis, as slow as can be
        redis_reached.set()
        await asyncio.Event().wait()

    monkeypatch.setattr(shard, "publish", stuck)
    sending = asyncio.create_task(layer.group_send("job-3", {"type": "job.changed", "status": "successful"}))
    assert await asyncio.wait_for(layer.receive(channel), 5) == {
        "type": "job.changed",
        "status": "successful",
    }
    await asyncio.wait_for(redis_reached.wait(), 5)  # the other processes' copy is on its way
    sending.cancel()
    await layer.flush()


async def test_a_listener_of_this_process_gets_a_group_message_once(redis):
    prefix = prefix_new()
    layer = layer_new(prefix)
    channel = await layer.new_channel()
    await layer.group_add("job-4", channel)
    async with redis.pubsub() as listener:
        await listener.subscribe(f"{prefix}__group__job-4")
        await listener.get_message(timeout=5)  # the subscription's confirmation
        await layer.group_send("job-4", {"type": "job.changed", "status": "running"})
        assert await listener.get_message(ignore_subscribe_messages=True, timeout=5) is not None
    await asyncio.sleep(0.2)  # Redis's copy has come back to this process meanwhile
    await layer.send(channel, {"type": "marker"})
    assert await layer.receive(channel) == {"type": "job.changed", "status": "running"}
    assert await asyncio.wait_for(layer.receive(channel), 5) == {"type": "marker"}
    await layer.flush()


async def test_a_group_message_reaches_listeners_of_other_processes_through_redis(redis):
    prefix = prefix_new()
    sender, other = layer_new(prefix), layer_new(prefix)  # two processes' layers
    here, there = await sender.new_channel(), await other.new_channel()
    await sender.group_add("job-5", here)
    await other.group_add("job-5", there)
    await asyncio.sleep(0.2)  # the other process's subscription has reached Redis
    await sender.group_send("job-5", {"type": "job.changed", "status": "failed"})
    assert await asyncio.wait_for(other.receive(there), 5) == {"type": "job.changed", "status": "failed"}
    assert await asyncio.wait_for(sender.receive(here), 5) == {"type": "job.changed", "status": "failed"}
    await sender.flush()
    await other.flush()


async def test_a_listener_channel_gets_other_processes_group_messages_without_a_subscription(redis):
    prefix = prefix_new()
    sender, waiter = layer_new(prefix), layer_new(prefix)  # two processes' layers
    channel = await waiter.new_listener_channel()
    await waiter.group_add("job-6", channel)
    await asyncio.sleep(0.2)  # the group's subscription has reached Redis
    assert await redis.pubsub_numsub(channel) == [(channel.encode(), 0)]
    await sender.group_send("job-6", {"type": "job.changed", "status": "successful"})
    assert await asyncio.wait_for(waiter.receive(channel), 5) == {
        "type": "job.changed",
        "status": "successful",
    }
    with pytest.raises(TimeoutError):  # a receive cancelled loses nothing of what comes after
        await asyncio.wait_for(waiter.receive(channel), 0.05)
    dismissed = {"type": "job.changed", "status": "dismissed"}
    await sender.group_send("job-6", dismissed)
    assert await asyncio.wait_for(waiter.receive(channel), 5) == dismissed
    await sender.flush()
    await waiter.flush()


async def test_a_message_to_an_ended_listener_channel_of_this_process_goes_nowhere(redis, monkeypatch):
    layer = layer_new(prefix_new())
    channel = await layer.new_listener_channel()
    del layer.channels[channel]  # its watch ended
    published: list[str] = []

    async def publish(name: str, message: bytes) -> None:
        published.append(name)

    for shard in layer._get_layer()._shards:
        monkeypatch.setattr(shard, "publish", publish)
    of_another_process = channel.replace(layer.origin, "0" * len(layer.origin))
    await layer.send(channel, {"type": "job.changed", "status": "successful"})
    await layer.send(of_another_process, {"type": "marker"})
    assert published == [of_another_process]
    await layer.flush()


async def test_a_listener_of_this_process_is_woken_before_the_copy_goes_to_redis(redis, monkeypatch):
    layer, channel, shard = await group_listener("job-7", "new_listener_channel")
    order: list[str] = []
    publish = shard.publish

    async def published(*args) -> None:
        order.append("published")
        await publish(*args)

    async def listen() -> None:
        await layer.receive(channel)
        order.append("received")

    monkeypatch.setattr(shard, "publish", published)
    listening = asyncio.create_task(listen())
    await asyncio.sleep(0)  # listening
    await layer.group_send("job-7", {"type": "job.changed", "status": "successful"})
    await asyncio.wait_for(listening, 5)
    assert order == ["received", "published"]
    await layer.flush()
