"""A signal of a job wakes the wait for it in one step of the event loop: the wait receives in
its own task, with a timeout, where a receive in a task of its own took three steps; a wait
that timed out loses no signal that comes after it."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from channels.layers import get_channel_layer

from jobs.waiting import job_watch

pytestmark = pytest.mark.django_db(transaction=True)

SUCCESS = {"type": "job.changed", "status": "successful"}


async def test_a_signal_wakes_the_wait_in_one_step():
    layer = get_channel_layer()
    async with job_watch(uuid.uuid4()) as watch:
        waiting = asyncio.create_task(watch.signal(time.monotonic() + 5))
        await asyncio.sleep(0)  # the wait has begun
        await layer.send(watch.channel, SUCCESS)  # to a channel of this process: no Redis
        await asyncio.sleep(0)
        assert waiting.done()
        assert waiting.result() == SUCCESS


async def test_a_wait_that_timed_out_loses_no_later_signal():
    layer = get_channel_layer()
    async with job_watch(uuid.uuid4()) as watch:
        assert await watch.signal(time.monotonic() + 0.02) is None
        await layer.send(watch.channel, SUCCESS)
        assert await watch.signal(time.monotonic() + 5) == SUCCESS
