"""Awaiting a job's end in async code, without holding a thread: a synchronous execution
waits for its job's signal, and a status request for the write of an end this process holds
or, with several instances, one that another instance announced."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from channels.layers import BaseChannelLayer, get_channel_layer

from jobs.models import FINAL_STATUSES
from jobs.notifications import in_background, job_from_signal, job_group, job_look_message
from ums_site.db import db_sync_to_async

if TYPE_CHECKING:
    from jobs.models import Job

logger = logging.getLogger(__name__)

# Signals may be dropped: look at the record at least this often.
POLL_SECONDS = 1.0
# A status request waits at most this long for the write of an end its instance holds; past
# it (a stuck database), it answers from the record as it stands.
END_WRITE_WAIT_SECONDS = 1.0


@dataclass
class _EndWrite:
    """The write of a job's end that a worker reported to this process."""

    over: asyncio.Event = field(default_factory=asyncio.Event)
    # The job as the write left it, once committed, if the write ended it.
    job: Job | None = None

    def committed(self, job: Job | None) -> None:
        """Called in the event loop once the write is committed (`job`: as the write ended
        it; None if it did not end it)."""
        self.job = job
        self.over.set()


# The ends of jobs that workers have reported to this process and that it is still writing,
# by job id. Only the event loop's thread touches it.
_ends_writing: dict[str, _EndWrite] = {}

# Jobs sent to a worker socket of this process whose client awaits the end in its response
# (`end_awaited`), oldest first, as keys. A job forgotten past the bound is marked as any.
_awaited: dict[str, None] = {}
AWAITED_MAX = 4096


@dataclass
class JobWatch:
    """The signals of one job, on a channel of their own: on Redis, a listener channel
    (`new_listener_channel`); in memory, a channel of the in-memory layer. A receive of
    either may be cancelled without losing a message, so each wait is a receive with a
    timeout, in the waiting task itself."""

    layer: BaseChannelLayer
    channel: str

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
        while (message := await self.signal(until)) is not None:
            if message.get("status") in FINAL_STATUSES:
                return message
        return None

    async def signal(self, until: float) -> dict[str, Any] | None:
        """The next signal of a change of the job, or None at `until` (`time.monotonic()`)."""
        remaining = until - time.monotonic()
        if remaining <= 0:
            return None
        try:
            return await asyncio.wait_for(self.layer.receive(self.channel), remaining)
        except TimeoutError:
            return None

    def close(self) -> None:
        """Ends the channel: its queue, with any signal left in it, goes (Channels has no call
        for that; both layers keep a channel's queue in `channels`)."""
        self.layer.channels.pop(self.channel, None)


@contextlib.asynccontextmanager
async def reply_watch() -> AsyncIterator[JobWatch]:
    """A watch of a job yet to be created, on the channel its record is to name
    (`Job.reply_channel`): whichever instance ends the job sends the end there, as well as to
    the job's group. Enter it before the job is created.

    On Redis, the channel needs no subscription of its own (a listener channel), where joining
    the job's group cost a SUBSCRIBE before the job could leave and an UNSUBSCRIBE after, when
    the worker's socket was held by another instance: in the benchmark, such a job took 1.4 ms
    more than one through the instance holding the socket, of which the SUBSCRIBE was 0.2 to
    0.3 ms.
    """
    layer = get_channel_layer()
    watch = JobWatch(layer, await _new_channel(layer))
    try:
        yield watch
    finally:
        watch.close()


@contextlib.asynccontextmanager
async def job_watch(job_id: Any) -> AsyncIterator[JobWatch]:
    """Listens for the changes of a job, through its group."""
    layer = get_channel_layer()
    channel = await _new_channel(layer)
    group = job_group(job_id)
    await layer.group_add(group, channel)
    watch = JobWatch(layer, channel)
    try:
        yield watch
    finally:
        # Once the wait is over nothing waits for its end: on Redis, leaving the group is a
        # round trip (UNSUBSCRIBE), which the answer to a status request waited for.
        in_background(_watch_end(layer, group, watch))


async def _new_channel(layer: BaseChannelLayer) -> str:
    return await getattr(layer, "new_listener_channel", layer.new_channel)()


async def _watch_end(layer: BaseChannelLayer, group: str, watch: JobWatch) -> None:
    await layer.group_discard(group, watch.channel)
    watch.close()


def end_awaited(job_id: str) -> None:
    """Notes that the client of a job this process sends to its worker awaits the end in its
    response (a synchronous execution): `end_writing` will not mark that end on Redis.

    The mark serves status requests polling the job on other instances, and costs a Redis
    command on the way of every job's end (in the benchmark, a synchronous job took 0.25 to
    1.1 ms less without it). A poll of such a job that comes during the write may answer
    `running`, as it would without Redis; its next poll finds the end.
    """
    key = job_key(job_id)
    if key is None:
        return
    _awaited[key] = None
    if len(_awaited) > AWAITED_MAX:
        del _awaited[next(iter(_awaited))]


@contextlib.contextmanager
def end_writing(job_id: str) -> Iterator[Callable[[Job | None], None]]:
    """Marks the end of a job, reported by its worker to this process, as being written until
    the block ends or the function it gives is called (in the event loop), once committed,
    with the job as written if the write ended it (status requests waiting answer it).

    The other instances see the mark too (on the Redis channel layer), unless the job's client
    awaits the end in its response (`end_awaited`). An end that is not written after all (a
    report refused) is unmarked, and their status requests waiting for it are told to read the
    record again.
    """
    key = job_key(job_id)
    write = _EndWrite()
    if key is None:
        yield write.committed
        return
    _ends_writing.setdefault(key, write)
    layer = get_channel_layer()
    marking = None
    awaited = key in _awaited
    _awaited.pop(key, None)
    if _marks(layer) and not awaited:
        marking = in_background(_signal(layer.mark_set(_ending(key), END_WRITE_WAIT_SECONDS)))
    try:
        yield write.committed
    finally:
        if marking is not None and not write.over.is_set():
            in_background(_end_dropped(layer, key, marking))
        write.over.set()
        if _ends_writing.get(key) is write:
            del _ends_writing[key]


async def end_written(job_id: str) -> Job | None:
    """Returns once no end of the job that this process holds is still being written: the
    job as that write left it, if it ended the job, else None.

    A client polling a job would otherwise be told "running" while its end is being written
    here, a few milliseconds from the commit, and learn of it only at its next poll.
    """
    write = _ends_writing.get(job_key(job_id) or "")
    if write is None:
        return None
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(write.over.wait(), END_WRITE_WAIT_SECONDS)
    return write.job


async def job_read_settled(
    job_id: str, read: Callable[[], Job | None], visible: Callable[[Job], bool]
) -> Job | None:
    """`read()` of the job (on a database thread) once no end of it that this process holds
    is being written, and again if its end came in while the first read ran; an end written
    meanwhile is answered as written, if `visible`, without reading it back.

    A poll and its job's end often reach the instance within a millisecond of each other: in
    the benchmark, in half of the polls that found a job unfinished, the worker's report of
    its end had come in during the read. Read again, the poll answers the end instead of
    sending the client back for another poll.
    """
    if (written := await end_written(job_id)) is not None:
        return written if visible(written) else None
    job = await db_sync_to_async(read)()
    key = job_key(job_id)
    if job is None or job.is_final or key is None:
        return job
    if key in _ends_writing:
        written = await end_written(job_id)  # of the job just read: visible
        return written if written is not None else await db_sync_to_async(read)()
    layer = get_channel_layer()
    if _marks(layer) and await _is_marked(layer, key):
        return await _read_after_end_elsewhere(layer, key, read, visible)
    return job


async def _read_after_end_elsewhere(
    layer: BaseChannelLayer, key: str, read: Callable[[], Job | None], visible: Callable[[Job], bool]
) -> Job | None:
    """`read()` once the write of the job's end that another instance marked is over
    (committed, refused, or a report that put the job back in the queue), or after
    END_WRITE_WAIT_SECONDS; an end is answered from its signal, if `visible`.

    With several instances behind a load balancer, half of the status requests reach an
    instance other than the one holding the job's worker socket: in the benchmark, only 11 %
    of the first status requests found the job ended there, against 89 % through the worker's.
    """
    async with job_watch(key) as watch:
        # Listening from here on: a write that ends after this look signals it.
        job, marked = await asyncio.gather(db_sync_to_async(read)(), _is_marked(layer, key))
        if job is None or job.is_final or not marked:
            return job
        signal = await watch.signal(time.monotonic() + END_WRITE_WAIT_SECONDS)
        ended = job_from_signal(signal) if signal is not None else None
        if ended is not None:
            return ended if visible(ended) else None
        return await db_sync_to_async(read)()


def _marks(layer: BaseChannelLayer) -> bool:
    """Whether the layer is shared by instances and keeps marks (the Redis one)."""
    return hasattr(layer, "mark_set")


def _ending(key: str) -> str:
    """The mark of a job's end being written."""
    return f"ending.{key}"


async def _is_marked(layer: Any, key: str) -> bool:
    try:
        return await layer.is_marked(_ending(key))
    except Exception:  # Redis down: the status request answers from the record
        logger.warning("could not look for the mark of job %s's end", key, exc_info=True)
        return False


async def _end_dropped(layer: Any, key: str, marking: asyncio.Task) -> None:
    """Unmarks an end that was not written, then prompts the waiting status requests."""
    await marking  # a mark set after its clearing would outlive the write
    await _signal(layer.mark_clear(_ending(key)))
    await _signal(layer.group_send(job_group(key), job_look_message(key)))


async def _signal(signalling: Awaitable[None]) -> None:
    """Marks and signals are hints: one that fails (Redis down) is logged, and the record
    stays the truth."""
    try:
        await signalling
    except Exception:
        logger.warning("could not signal a job's end to the other instances", exc_info=True)


def job_key(job_id: str) -> str | None:
    """One spelling per job id: URLs and frames may write a UUID in any of its forms."""
    try:
        return str(uuid.UUID(job_id))
    except ValueError:
        return None
