"""Awaiting a job's end in async code, without holding a thread: a synchronous execution
waits for its job's signal, and a status request for the write of an end this process holds."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from channels.layers import BaseChannelLayer, get_channel_layer

from jobs.models import FINAL_STATUSES
from jobs.notifications import job_group
from ums_site.db import db_sync_to_async

if TYPE_CHECKING:
    from jobs.models import Job

# Signals may be dropped: look at the record at least this often.
POLL_SECONDS = 1.0
# A status request waits at most this long for the write of an end its instance holds; past
# it (a stuck database), it answers from the record as it stands.
END_WRITE_WAIT_SECONDS = 1.0

# The ends of jobs that workers have reported to this process and that it is still writing,
# by job id. Only the event loop's thread touches it.
_ends_writing: dict[str, asyncio.Event] = {}


@dataclass
class JobWatch:
    layer: BaseChannelLayer
    channel: str
    # One receive runs across the waits: cancelling it on every timeout would drop a signal
    # that came meanwhile (the Pub/Sub layer forgets a channel whose receive is cancelled).
    _receiving: asyncio.Future | None = None

    async def until_final[T](
        self,
        read: Callable[[], T | None],
        wait_seconds: float,
        signalled: Callable[[dict[str, Any]], T | None] = lambda message: None,
    ) -> T | None:
        """`read()` (run on a database thread) once it is not None, or None after `wait_seconds`.

        `read` is first called after a signal that the job ended, or after POLL_SECONDS;
        `signalled(message)` first, with the signal, and its answer if not None spares the read.
        """
        deadline = time.monotonic() + wait_seconds
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            final = await self._final_signal(time.monotonic() + min(remaining, POLL_SECONDS))
            found = signalled(final) if final is not None else None
            if found is None:
                found = await db_sync_to_async(read)()
            if found is not None:
                return found

    async def _final_signal(self, until: float) -> dict[str, Any] | None:
        """The signal that the job ended, or None at `until`."""
        while (remaining := until - time.monotonic()) > 0:
            if self._receiving is None:
                self._receiving = asyncio.ensure_future(self.layer.receive(self.channel))
            done, _ = await asyncio.wait({self._receiving}, timeout=remaining)
            if not done:
                return None
            message, self._receiving = self._receiving.result(), None
            if message["status"] in FINAL_STATUSES:
                return message
        return None

    async def close(self) -> None:
        """Ends the channel. Channels has no call for that: a consumer's channel ends when its
        receive is cancelled, and the Pub/Sub layer then unsubscribes it."""
        receiving = self._receiving or asyncio.ensure_future(self.layer.receive(self.channel))
        self._receiving = None
        await asyncio.sleep(0)  # a receive cancelled before it ran would clean nothing up
        receiving.cancel()
        # The watch is over: what its last receive ended with no longer matters.
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await receiving


@contextlib.asynccontextmanager
async def job_watch(job_id: Any) -> AsyncIterator[JobWatch]:
    """Listens for the changes of a job; enter it before the job is sent to a worker, so that
    no signal can come before the listening starts."""
    layer = get_channel_layer()
    # Only the job's group signals it: on Redis, a channel without a subscription of its own.
    channel = await getattr(layer, "new_group_channel", layer.new_channel)()
    group = job_group(job_id)
    await layer.group_add(group, channel)
    watch = JobWatch(layer, channel)
    try:
        yield watch
    finally:
        await layer.group_discard(group, channel)
        await watch.close()


@contextlib.contextmanager
def end_writing(job_id: str) -> Iterator[Callable[[], None]]:
    """Marks the end of a job, reported by its worker to this process, as being written until
    the block ends or the function it gives is called (in the event loop), once committed."""
    key = _job_key(job_id)
    written = asyncio.Event()
    if key is not None:
        _ends_writing.setdefault(key, written)
    try:
        yield written.set
    finally:
        written.set()
        if key is not None and _ends_writing.get(key) is written:
            del _ends_writing[key]


async def end_written(job_id: str) -> None:
    """Returns once no end of the job that this process holds is still being written.

    A client polling a job would otherwise be told "running" while its end is being written
    here, a few milliseconds from the commit, and learn of it only at its next poll.
    """
    written = _ends_writing.get(_job_key(job_id) or "")
    if written is not None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(written.wait(), END_WRITE_WAIT_SECONDS)


async def job_read_settled(job_id: str, read: Callable[[], Job | None]) -> Job | None:
    """`read()` of the job (on a database thread) once no end of it that this process holds
    is being written, and again if its end came in while the first read ran.

    A poll and its job's end often reach the instance within a millisecond of each other: in
    the benchmark, in half of the polls that found a job unfinished, the worker's report of
    its end had come in during the read. Read again, the poll answers the end instead of
    sending the client back for another poll.
    """
    await end_written(job_id)
    job = await db_sync_to_async(read)()
    if job is not None and not job.is_final and _job_key(job_id) in _ends_writing:
        await end_written(job_id)
        job = await db_sync_to_async(read)()
    return job


def _job_key(job_id: str) -> str | None:
    """One spelling per job id: URLs and frames may write a UUID in any of its forms."""
    try:
        return str(uuid.UUID(job_id))
    except ValueError:
        return None
