"""The Redis channel layer, with messages to listeners in this process handed over in-process.

channels-redis's Pub/Sub layer publishes every message through Redis, also to a consumer in
the sending process: a round trip to Redis for the PUBLISH, and one more for the message to
come back on the subscription. Here a message to a channel of this process goes straight
into its queue instead (the job a client submits, when the worker's socket is held by the
instance that took the request; the end of a synchronous execution's job, when its worker
reported it there). A group message goes straight to the group's listeners in this process
and then, once the tasks it woke here have run, through Redis to the other processes, marked
so that this process drops the copy Redis brings back.

A listener channel (a job's watch) has no subscription of its own on Redis: its name falls
under a pattern each process subscribes once on every shard, for as long as it runs, so a
message sent to it by name from any process arrives without a round trip to subscribe it
first. The pattern also keeps the shards' receivers reading: channels-redis's receiver reads
a shard only while it has subscriptions, and checks back every 0.1 s while it has none. An
instance that holds no worker socket has none between synchronous executions, so the end of
the next one's job, sent from the instance whose worker ran it, waited for that check: 50 ms
on average (the benchmark's synchronous jobs took 66 ms through the other instance, against
15 ms through the worker's own).

Marks are short-lived flags every process sees, keys on the shards' Redis: an instance
writing a job's end marks it, for the status requests of the other instances
(jobs/waiting.py).
"""

from __future__ import annotations

import asyncio
import functools
import re
import uuid
from typing import Any

from channels_redis.pubsub import RedisPubSubChannelLayer

# The key that marks a group message's way through Redis with the process that sent it.
ORIGIN_KEY = "__ums_origin__"
# In the name of a listener channel, after the layer's prefix (`new_listener_channel`).
LISTENER = "listener."


class LocalFirstPubSubChannelLayer(RedisPubSubChannelLayer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.origin = uuid.uuid4().hex

    @functools.cached_property
    def _listeners(self) -> str:
        """The beginning of the names of this process's listener channels."""
        return f"{self._get_layer().prefix}{LISTENER}{self.origin}."

    @functools.cached_property
    def _listener_pattern(self) -> str:
        """The pattern of those names on Redis (channel names hold no glob characters, a
        prefix might)."""
        return re.sub(r"([*?\[\]\\])", r"\\\1", self._listeners) + "*"

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        # The queue of a channel this process listens on (see RedisPubSubLoopLayer.receive);
        # it holds messages as they would have come from Redis, serialized: the receiver gets
        # a copy, as through Redis, not the sender's dict.
        layer = self._get_layer()
        queue = layer.channels.get(channel)
        if queue is not None:
            queue.put_nowait(self.serialize(message))
        elif not channel.startswith(self._listeners):  # else one of this process's, ended
            await layer.send(channel, message)

    async def new_channel(self, prefix: str = "specific.") -> str:
        layer = self._get_layer()
        await self._keep_listening(layer)
        return await layer.new_channel(prefix)

    async def group_add(self, group: str, channel: str) -> None:
        layer = self._get_layer()
        await self._keep_listening(layer)
        await layer.group_add(group, channel)

    async def new_listener_channel(self) -> str:
        """A channel of this process without a subscription of its own on Redis, which would
        cost two round trips per channel (SUBSCRIBE, and UNSUBSCRIBE when its receive ends):
        its name falls under the pattern the process subscribes once (see the module's doc).
        Messages sent to it by name from any process arrive, and so do those of the groups it
        joins. Its receive may be cancelled without loss (see `receive`); it ends when its
        queue is dropped from `channels`."""
        layer = self._get_layer()
        await self._keep_listening(layer)
        channel = f"{self._listeners}{uuid.uuid4().hex}"
        layer.channels[channel] = asyncio.Queue()
        return channel

    async def _keep_listening(self, layer: Any) -> None:
        """Subscribes the pattern of this process's listener channels on every shard, once
        (see the module's doc).

        The first subscription of a shard starts its receiver, which may check before the
        subscription is answered and then sleep its 0.1 s: this comes first, so that a process
        loses that time once, at its first subscription, and not at every first one after
        a quiet spell."""
        pattern = self._listener_pattern
        for shard in layer._shards:
            async with shard._lock:  # as the shard's own subscribe, which takes no pattern
                if pattern not in shard._subscribed_to:  # emptied by a flush, as the connection
                    shard._ensure_redis()
                    shard._ensure_receiver()
                    await shard._pubsub.psubscribe(pattern)
                    shard._subscribed_to.add(pattern)

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        layer = self._get_layer()
        group_channel = layer._get_group_channel_name(group)
        listeners = [
            layer.channels[name] for name in layer.groups.get(group_channel, ()) if name in layer.channels
        ]
        if not listeners:
            await layer.group_send(group, message)
            return
        serialized = self.serialize(message)
        for queue in listeners:
            queue.put_nowait(serialized)
        # The listeners here first: the copy for the other processes took 0.1 ms of CPU to
        # leave, before a synchronous execution woken by its job's end could answer.
        await asyncio.sleep(0)
        marked = self.serialize({**message, ORIGIN_KEY: self.origin})
        await layer._get_shard(group_channel).publish(group_channel, marked)

    async def mark_set(self, name: str, seconds: float) -> None:
        """Sets the mark `name` for `seconds` at most."""
        redis, key = await self._mark(name)
        await redis.set(key, b"1", px=max(1, round(seconds * 1000)))

    async def mark_clear(self, name: str) -> None:
        redis, key = await self._mark(name)
        await redis.delete(key)

    async def is_marked(self, name: str) -> bool:
        redis, key = await self._mark(name)
        return bool(await redis.exists(key))

    async def _mark(self, name: str) -> tuple[Any, str]:
        """The Redis client of the shard that holds the mark `name`, and its key there."""
        layer = self._get_layer()
        shard = layer._get_shard(name)
        if shard._redis is None:
            async with shard._lock:  # as the shard's own calls create its client
                shard._ensure_redis()
        return shard._redis, f"{layer.prefix}mark.{name}"

    async def receive(self, channel: str) -> dict[str, Any]:
        layer = self._get_layer()
        while True:
            message = await self._next(layer, channel)
            if message.pop(ORIGIN_KEY, None) != self.origin:  # not a copy of one handed over here
                return message

    async def _next(self, layer: Any, channel: str) -> dict[str, Any]:
        """The channel's next message. That of a listener channel is taken from its queue as it
        stands: cancelled, the wait loses nothing, where channels-redis's receive forgets the
        channel (its subscription ends). So a wait with a timeout needs no task of its own,
        and a message wakes it in one step of the event loop, not three."""
        queue = layer.channels.get(channel) if channel.startswith(self._listeners) else None
        if queue is None:
            return await layer.receive(channel)
        return self.deserialize(await queue.get())
