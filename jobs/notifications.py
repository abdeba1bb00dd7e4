"""Channel-layer signals, sent only after the database write they announce has committed.

Services are synchronous and run inside one database transaction; they collect the messages
their change implies in an `Outbox`, which the async caller delivers afterwards. A message the
layer drops (channels-redis drops past capacity or expiry) only delays work: the sweep and
the waiters' polling fall back to the database, which is the record.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from channels.layers import get_channel_layer

from jobs.callbacks import callback_enqueue, callbacks_kick

if TYPE_CHECKING:
    from jobs.models import JobOutput

logger = logging.getLogger(__name__)

# Deliveries under way in tasks of their own (the event loop keeps only weak references).
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
        if results is not None:
            message["results"] = [[output.output_id, output.media_type, output.value] for output in results]
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
    for group, message in outbox.to_groups:
        try:
            await layer.group_send(group, message)
        except Exception:
            logger.warning("could not signal %s to %s", message["type"], group, exc_info=True)


def outbox_deliver_soon(outbox: Outbox) -> None:
    """Delivers in a task of its own, for a caller that must not wait for it."""
    if outbox:
        in_background(outbox_deliver(outbox))


def in_background(signalling: Coroutine[Any, Any, None]) -> asyncio.Task:
    """Runs a signal's delivery in a task of its own, kept until it is done."""
    task = asyncio.ensure_future(signalling)
    _deliveries.add(task)
    task.add_done_callback(_deliveries.discard)
    return task
