"""Channel-layer signals, sent only after the database write they announce has committed.

Services are synchronous and run inside one database transaction; they collect the messages
their change implies in an `Outbox`, which the async caller delivers afterwards. A message the
layer drops (channels-redis drops past capacity or expiry) only delays work: the sweep and
the waiters' polling fall back to the database, which is the record.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from channels.layers import get_channel_layer

from jobs.callbacks import callback_enqueue, callbacks_kick
from jobs.models import STATUS_TIMES, Job

if TYPE_CHECKING:
    from jobs.models import JobOutput

logger = logging.getLogger(__name__)

# Signalling under way in tasks of their own (the event loop keeps only weak references).
_deliveries: set[asyncio.Task] = set()


# A job's results come with the signal of its success when the frame that reported them was
# this small (characters): a synchronous execution answers from the signal instead of reading
# them back. Larger results, and uploaded files, are read from the record.
SIGNALLED_RESULTS_MAX_CHARS = 64 * 1024


def job_group(job_id: object) -> str:
    """The group of everything that watches one job (sync executions, live pages)."""
    return f"job-{job_id}"


def job_look_message(job_id: object) -> dict[str, Any]:
    """A `job.changed` without a status: the job may not have changed as announced, its
    listeners look at the record (an end announced to the other instances, then refused)."""
    return {"type": "job.changed", "job": str(job_id)}


# The fields of a job's status document besides id, status and progress, which the signal
# of its end carries: a status request waiting for that end on another instance answers from
# it, without reading the job back.
_STATE_FIELDS = ("process_id", "message", "owner_id")


def _final_state(job: Job) -> dict[str, Any]:
    state = {name: getattr(job, name) for name in _STATE_FIELDS}
    times = {name: value.isoformat() if (value := getattr(job, name)) else None for name in STATUS_TIMES}
    return state | times


def job_from_signal(message: dict[str, Any]) -> Job | None:
    """The ended job as its signal describes it (not saved), if it does."""
    state = message.get("state")
    if state is None:
        return None
    fields = {name: state[name] for name in _STATE_FIELDS}
    times = {name: datetime.fromisoformat(text) if (text := state[name]) else None for name in STATUS_TIMES}
    status = {"status": message["status"], "progress": message["progress"]}
    return Job(id=uuid.UUID(message["job"]), **status, **fields, **times)


@dataclass
class Outbox:
    to_channels: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    to_groups: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    callbacks: bool = False

    def to_session(self, channel_name: str, event_type: str, **fields: Any) -> None:
        """An event for the consumer holding a worker's socket (`job.execute`, …)."""
        self.to_channels.append((channel_name, {"type": event_type, **fields}))

    def job_changed(self, job, *, results: list[JobOutput] | None = None) -> None:
        """`results`: a successful job's outputs (values, not files), sent along."""
        # Callbacks are the durable part of the outbox: recorded in the change's transaction.
        self.callbacks |= callback_enqueue(job)
        message = {"type": "job.changed", "job": str(job.id), "status": job.status, "progress": job.progress}
        if job.is_final:
            message["state"] = _final_state(job)
        if results is not None:
            message["results"] = [[output.output_id, output.media_type, output.value] for output in results]
        if job.is_final and job.reply_channel:  # sent first: the client waits for it
            self.to_channels.append((job.reply_channel, message))
        self.to_groups.append((job_group(job.id), message))

    def __bool__(self) -> bool:
        return bool(self.to_channels or self.to_groups or self.callbacks)


async def outbox_deliver(outbox: Outbox) -> None:
    if not outbox:
        return
    if outbox.callbacks:
        callbacks_kick()
    layer = get_channel_layer()
    for channel, message in outbox.to_channels:
        try:
            await layer.send(channel, message)
        except Exception:  # ChannelFull, Redis down: the sweep recovers from the record
            logger.warning("could not signal %s to %s", message["type"], channel, exc_info=True)
    if outbox.to_channels and outbox.to_groups:
        # A task a message to this process woke (a synchronous execution's answer) runs
        # before the group messages leave through Redis.
        await asyncio.sleep(0)
    for group, message in outbox.to_groups:
        try:
            await layer.group_send(group, message)
        except Exception:
            logger.warning("could not signal %s to %s", message["type"], group, exc_info=True)


async def background_settled() -> None:
    """Returns once the deliveries under way are done (tests, before they look at the layer)."""
    while _deliveries:
        await asyncio.gather(*_deliveries, return_exceptions=True)


def in_background(signalling: Coroutine[Any, Any, None]) -> asyncio.Task:
    """Runs signalling (a delivery, a mark, the end of a watch) in a task of its own, kept
    until it is done."""
    task = asyncio.ensure_future(signalling)
    _deliveries.add(task)
    task.add_done_callback(_deliveries.discard)
    return task
