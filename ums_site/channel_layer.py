"""The Redis channel layer, with messages to a channel of this process handed over in-process.

channels-redis's Pub/Sub layer publishes every message through Redis, also to a consumer in
the sending process: a round trip to Redis for the PUBLISH, and one more for the message to
come back on the subscription. The job a client submits usually goes to a worker whose socket
is held by some instance, and when that is the instance that took the request, the message
goes straight into the consumer's queue instead. A message to another process, and every
group message (its listeners may be anywhere), still goes through Redis.
"""

from __future__ import annotations

from typing import Any

from channels_redis.pubsub import RedisPubSubChannelLayer


class LocalFirstPubSubChannelLayer(RedisPubSubChannelLayer):
    async def send(self, channel: str, message: dict[str, Any]) -> None:
        # The queue of a channel this process listens on (see RedisPubSubLoopLayer.receive);
        # it holds messages as they would have come from Redis, serialized: the receiver gets
        # a copy, as through Redis, not the sender's dict.
        layer = self._get_layer()
        queue = layer.channels.get(channel)
        if queue is None:
            await layer.send(channel, message)
        else:
            queue.put_nowait(self.serialize(message))
