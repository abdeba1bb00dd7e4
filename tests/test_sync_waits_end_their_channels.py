"""A synchronous execution's wait on its job ends its channel: none is left behind (the
Pub/Sub layer keeps a subscription for every channel until its receive is cancelled), and no
signal is missed for the looks at the record it takes on timeouts."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

import pytest
from channels.layers import get_channel_layer

from jobs.notifications import background_settled, job_group
from jobs.waiting import job_watch

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_watch_leaves_no_channel_behind():
    layer = get_channel_layer()
    before = set(layer.channels)
    async with job_watch(uuid.uuid4()) as watch:
        assert await watch.until_final(lambda: None, 0.05) is None
    await background_settled()  # the watch ends after the answer it waited for
    assert set(layer.channels) == before


async def until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(10):
        # The looks run on a database thread, which cannot set an asyncio event: polled.
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.01)


async def test_a_signal_after_looks_on_timeout_wakes_the_wait(monkeypatch):
    monkeypatch.setattr("jobs.waiting.POLL_SECONDS", 0.02)
    job_id = uuid.uuid4()
    looks: list[bool] = []
    signalled = asyncio.Event()

    def read() -> str | None:
        looks.append(signalled.is_set())
        return "final" if signalled.is_set() else None

    layer = get_channel_layer()
    async with job_watch(job_id) as watch:
        waiting = asyncio.create_task(watch.until_final(read, 60))
        await until(lambda: len(looks) >= 3)  # looks after timeouts, the receive standing across them
        monkeypatch.setattr("jobs.waiting.POLL_SECONDS", 60)
        seen = len(looks)
        await until(lambda: len(looks) > seen)  # from now on the wait is a minute long
        signalled.set()
        await layer.group_send(job_group(job_id), {"type": "job.changed", "status": "successful"})
        assert await asyncio.wait_for(waiting, 5) == "final"


async def test_the_answer_does_not_wait_for_the_watch_to_end(monkeypatch):
    """Leaving the job's group is a round trip to Redis: it runs after the wait is over."""
    layer = get_channel_layer()
    release = asyncio.Event()
    discard = layer.group_discard

    async def held_discard(group: str, channel: str) -> None:
        await release.wait()
        await discard(group, channel)

    monkeypatch.setattr(layer, "group_discard", held_discard)
    async with asyncio.timeout(5):
        async with job_watch(uuid.uuid4()) as watch:
            assert await watch.until_final(lambda: None, 0.05) is None
    release.set()
    await background_settled()
