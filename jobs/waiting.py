"""Awaiting a job's end in async code, without holding a thread (synchronous execution)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from channels.layers import BaseChannelLayer, get_channel_layer

from jobs.models import FINAL_STATUSES
from jobs.notifications import job_group
from ums_site.db import db_sync_to_async

# Signals may be dropped: look at the record at least this often.
POLL_SECONDS = 1.0


@dataclass
class JobWatch:
    layer: BaseChannelLayer
    channel: str

    async def until_final[T](self, read: Callable[[], T | None], wait_seconds: float) -> T | None:
        """`read()` (run on a database thread) once it is not None, or None after `wait_seconds`.

        `read` is first called after a signal that the job ended, or after POLL_SECONDS.
        """
        deadline = time.monotonic() + wait_seconds
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            await self._final_signal(min(remaining, POLL_SECONDS))
            found = await db_sync_to_async(read)()
            if found is not None:
                return found

    async def _final_signal(self, wait_seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait_seconds):
                while (await self.layer.receive(self.channel))["status"] not in FINAL_STATUSES:
                    pass


@contextlib.asynccontextmanager
async def job_watch(job_id: Any) -> AsyncIterator[JobWatch]:
    """Listens for the changes of a job; enter it before the job is sent to a worker, so that
    no signal can come before the listening starts."""
    layer = get_channel_layer()
    channel = await layer.new_channel()
    group = job_group(job_id)
    await layer.group_add(group, channel)
    try:
        yield JobWatch(layer, channel)
    finally:
        await layer.group_discard(group, channel)
