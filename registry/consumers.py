"""The worker WebSocket: protocol v1 (docs/asyncapi.yaml). Thin: services do the work."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from jobs import services as job_services
from jobs.notifications import SIGNALLED_RESULTS_MAX_CHARS, Outbox, outbox_deliver
from jobs.scheduler import jobs_dispatch, session_end, slot_freed_dispatch
from jobs.services import JobEnd
from jobs.waiting import end_awaited, end_writing, job_key
from registry import services
from registry.models import WorkerSession
from registry.protocol import Frame, ProtocolError, frame_parse
from ums_site.db import db_sync_to_async

logger = logging.getLogger(__name__)

# Close codes (4000-4999 are the application's).
CLOSE_SESSION_ENDED = 4408

JOB_REPORTS: dict[str, Callable[..., None]] = {
    "job.started": job_services.job_started,
    "job.progress": job_services.job_progress,
    "job.succeeded": job_services.job_succeeded,
    "job.failed": job_services.job_failed,
    "job.rejected": job_services.job_rejected,
}

# Reports after which the session has room for another job; the others need no dispatch.
FREES_A_SLOT = frozenset({"job.succeeded", "job.failed", "job.rejected"})

# Job reports of one socket handled at once; past it, the next frame waits for one to end.
REPORTS_AT_ONCE_MAX = 32
# The close code of a socket whose report failed on the server's side (WebSocket's own).
CLOSE_INTERNAL_ERROR = 1011


@db_sync_to_async
def _then_dispatch[T](change: Callable[..., T]) -> tuple[T, Outbox]:
    """Makes a change, then dispatches the jobs it made possible, in one thread hop."""
    outbox = Outbox()
    result = change(outbox=outbox)
    jobs_dispatch(outbox=outbox)
    return result, outbox


async def _write_end(session: WorkerSession, job_id: str, report: Callable[..., JobEnd | None]) -> Outbox:
    """Writes a report that ends a run, signals it, then dispatches to the slot it frees unless
    the report handed it over. Returns the dispatch's outbox.

    Status requests of the job wait for the write. The dispatch's look at the queue comes once
    the tasks the end's signals woke have run: a synchronous execution's answer goes first.
    A look in the same thread hop as the write ran alongside that answer, on the other core
    and for the GIL: in the benchmark (A/B in both orders), synchronous jobs took 0.1 ms less
    with the look after it, for a thread hop more.
    """
    with end_writing(job_id) as written:
        end, outbox = await _changed(report)
        written(end.job if end is not None else None)
        await outbox_deliver(outbox)
    await asyncio.sleep(0)  # a signal handed over in this process wakes its task only now
    if end is not None and end.slot_handed_over:  # a rejection (None) leaves its slot free
        return Outbox()
    return await _dispatched(session)


@db_sync_to_async
def _changed[T](change: Callable[..., T]) -> tuple[T, Outbox]:
    outbox = Outbox()
    return change(outbox=outbox), outbox


@db_sync_to_async
def _dispatched(session: WorkerSession) -> Outbox:
    outbox = Outbox()
    slot_freed_dispatch(session=session, outbox=outbox)
    return outbox


class WorkerConsumer(AsyncWebsocketConsumer):
    session: WorkerSession | None = None

    async def connect(self) -> None:
        self.credential = self.scope["worker_credential"]
        # The task handling each job's latest report, by job (`_report_soon`).
        self.reporting: dict[str, asyncio.Task] = {}
        await self.accept()

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels closes stale database connections before every message, in a thread hop of
        # its own (3 of a job's hops in the benchmark profile). Every database access here goes
        # through db_sync_to_async, which checks its connection in the hop it makes anyway.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def disconnect(self, code: int) -> None:
        # A report under way is written before the session ends: a job it ends stays ended,
        # not requeued with the session's other jobs.
        await self._reports_handled()
        if self.session is None:
            return
        _, outbox = await _then_dispatch(
            partial(session_end, session_id=self.session.pk, reason=f"socket closed ({code})")
        )
        await outbox_deliver(outbox)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            frame = self._parse(text_data, bytes_data)
            await self._handle(frame)
        except ProtocolError as error:
            await self.send_frame(error.frame())

    def _parse(self, text_data: str | None, bytes_data: bytes | None) -> Frame:
        if text_data is None:
            raise ProtocolError("invalid-frame", "frames must be JSON text, not binary")
        if len(text_data.encode()) > settings.UMS_MAX_FRAME_BYTES:
            raise ProtocolError(
                "frame-too-large",
                f"frames are limited to {settings.UMS_MAX_FRAME_BYTES} bytes; upload large outputs over HTTP",
            )
        frame = frame_parse(text_data)
        if self.session is None and frame.type != "hello":
            raise ProtocolError("hello-required", "the first frame must be hello")
        if self.session is not None and frame.type == "hello":
            raise ProtocolError("already-hello", "hello was already received on this socket")
        return frame

    async def _handle(self, frame: Frame) -> None:
        if frame.type not in JOB_REPORTS:
            # The answer to any other frame tells the worker its earlier reports are recorded.
            await self._reports_handled()
        data = frame.data
        if frame.type == "hello":
            await self._hello(data)
        elif frame.type == "register":
            await self._registered(
                partial(services.processes_register, session=self.session, descriptions=data["processes"])
            )
        elif frame.type == "unregister":
            await self._registered(
                partial(services.processes_unregister, session=self.session, process_ids=data["processes"])
            )
        elif frame.type == "heartbeat":
            await self._heartbeat()
        else:
            await self._report_soon(frame)

    async def _hello(self, data: dict[str, Any]) -> None:
        opened, outbox = await _then_dispatch(partial(self._open_session, data))
        self.session = opened.session
        await self.send_frame(
            {
                "type": "welcome",
                "session": str(opened.session.pk),
                "accepted": opened.registration.accepted,
                "rejected": opened.registration.rejected,
                "heartbeat": settings.UMS_HEARTBEAT_INTERVAL,
            }
        )
        for job_id in opened.not_resumed:
            await self.send_frame({"type": "job.cancel", "job": job_id})
        await outbox_deliver(outbox)

    def _open_session(self, data: dict[str, Any], *, outbox: Outbox) -> services.SessionOpened:
        return services.session_open(
            credential=self.credential,
            channel_name=self.channel_name,
            name=data["name"],
            capacity=data["capacity"],
            processes=data["processes"],
            resume=data.get("resume", []),
            outbox=outbox,
        )

    async def _registered(self, change: Callable[[], services.Registration]) -> None:
        # Newly provided processes may match waiting jobs: dispatch after the change.
        result, outbox = await _then_dispatch(lambda *, outbox: change())
        await self.send_frame(
            {"type": "registered", "accepted": result.accepted, "rejected": result.rejected}
        )
        await outbox_deliver(outbox)

    async def _heartbeat(self) -> None:
        if not await db_sync_to_async(services.session_touch)(session_id=self.session.pk):
            await self.close(code=CLOSE_SESSION_ENDED)

    async def _report_soon(self, frame: Frame) -> None:
        """Handles a job's report in a task of its own, once the job's earlier reports are
        handled: the reports of different jobs are written at once, each on a database thread.

        One at a time, the ends of a worker's jobs queued behind one another: with a backlog
        on PostgreSQL, an end and the handover of its slot took 7 ms, 7 round trips, and a
        worker with 4 slots ended a job every 9 ms at best, its slots idle meanwhile.
        """
        if len(self.reporting) >= REPORTS_AT_ONCE_MAX:
            await asyncio.wait(list(self.reporting.values()), return_when=asyncio.FIRST_COMPLETED)
        job = job_key(frame.data["job"]) or frame.data["job"]
        task = asyncio.create_task(self._report_after(self.reporting.get(job), frame))
        self.reporting[job] = task
        task.add_done_callback(partial(self._reported, job))

    async def _reports_handled(self) -> None:
        while self.reporting:
            await asyncio.wait(list(self.reporting.values()))

    def _reported(self, job: str, task: asyncio.Task) -> None:
        if self.reporting.get(job) is task:
            del self.reporting[job]

    async def _report_after(self, earlier: asyncio.Task | None, frame: Frame) -> None:
        if earlier is not None:
            await asyncio.wait([earlier])
        try:
            await self._report(frame)
        except ProtocolError as error:
            await self.send_frame(error.frame())
        except Exception:  # as a handler's error would: the socket closes, the worker reconnects
            logger.exception("could not handle %s of job %s", frame.type, frame.data["job"])
            await self.close(code=CLOSE_INTERNAL_ERROR)

    async def _report(self, frame: Frame) -> None:
        data = frame.data
        fields = {key: value for key, value in data.items() if key not in {"type", "job"}}
        if frame.type == "job.succeeded":
            fields["signal_results"] = frame.size <= SIGNALLED_RESULTS_MAX_CHARS
        report = partial(JOB_REPORTS[frame.type], session=self.session, job_id=data["job"], **fields)
        if frame.type in FREES_A_SLOT:
            outbox = await _write_end(self.session, data["job"], report)
        else:
            outbox = Outbox()
            await db_sync_to_async(report)(outbox=outbox)
        await outbox_deliver(outbox)

    async def send_frame(self, frame: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(frame))

    # Channel-layer events from the scheduler (possibly on another server instance).

    async def job_execute(self, event: dict[str, Any]) -> None:
        if event.get("awaited"):
            end_awaited(event["frame"]["job"])
        await self.send_frame(event["frame"])

    async def job_cancel(self, event: dict[str, Any]) -> None:
        await self.send_frame({"type": "job.cancel", "job": event["job"]})

    async def session_terminate(self, event: dict[str, Any]) -> None:
        logger.info("closing session %s: %s", self.session and self.session.pk, event.get("reason"))
        await self.close(code=CLOSE_SESSION_ENDED)
