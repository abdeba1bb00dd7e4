"""Awaiting a job's end in async code, without holding a thread (synchronous execution)."""

from __future__ import annotations

import asyncio
import time

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from jobs.models import Job
from jobs.notifications import job_group
from jobs.selectors import job_get

# Signals may be dropped: look at the record at least this often.
POLL_SECONDS = 1.0


async def job_wait_final(job_id, wait_seconds: float) -> Job | None:
    """The job once it is final, or None if it is not final within `wait_seconds`."""
    layer = get_channel_layer()
    channel = await layer.new_channel()
    group = job_group(job_id)
    await layer.group_add(group, channel)
    deadline = time.monotonic() + wait_seconds
    try:
        while True:
            job = await database_sync_to_async(job_get)(job_id)
            if job is None or job.is_final:
                return job
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            await _next_change(layer, channel, min(remaining, POLL_SECONDS))
    finally:
        await layer.group_discard(group, channel)


async def _next_change(layer, channel: str, wait_seconds: float) -> None:
    try:
        async with asyncio.timeout(wait_seconds):
            while (await layer.receive(channel))["status"] not in {"successful", "failed", "dismissed"}:
                pass
    except TimeoutError:
        pass
