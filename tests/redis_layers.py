"""Channel layers of the Redis deployment, each as one server process would have it, and a
plain Redis client to look at what they did there."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from channels.layers import get_channel_layer
from django.conf import settings
from redis import asyncio as aioredis

from ums_site.channel_layer import LocalFirstPubSubChannelLayer
from ums_site.settings import channel_layers_from_url


def prefix_new() -> str:
    """A channel prefix of the test's own: nothing else on the Redis database is touched."""
    return f"test-{uuid.uuid4().hex}."


def layer_new(prefix: str) -> LocalFirstPubSubChannelLayer:
    config = channel_layers_from_url(settings.REDIS_URL)["default"]["CONFIG"]
    return LocalFirstPubSubChannelLayer(**{**config, "prefix": prefix})


@pytest.fixture
async def other_instance() -> AsyncIterator[LocalFirstPubSubChannelLayer]:
    """The channel layer of another server instance of the same deployment."""
    layer = layer_new(get_channel_layer().prefix)
    yield layer
    await layer.flush()


@pytest.fixture
async def redis() -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(settings.REDIS_URL)
    yield client
    await client.aclose()
