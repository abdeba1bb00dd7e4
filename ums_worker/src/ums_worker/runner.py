"""The connection loop: one WebSocket session after another, and the jobs that outlive them."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from .backoff import Backoff
from .context import JobContext
from .endpoints import server_base_url, worker_socket_url
from .execution import job_execute
from .upload import output_upload
from .version import __version__

if TYPE_CHECKING:
    from .worker import Worker

logger = logging.getLogger("ums_worker")

PROTOCOL_VERSION = 1
MAX_FRAME_SIZE = 16 * 1024 * 1024  # job.execute frames carry the inputs, GeoJSON included
WELCOME_TIMEOUT = 30.0
DEFAULT_HEARTBEAT = 30.0
FINAL_TYPES = frozenset({"job.succeeded", "job.failed"})


class HandshakeRefused(Exception):
    """The socket opened but the server did not welcome us."""


@dataclass
class RunningJob:
    ctx: JobContext
    task: asyncio.Task[None]


class Runner:
    """Keeps a worker connected to one server until cancelled."""

    def __init__(self, worker: Worker, *, server: str, token: str, backoff: Backoff | None = None) -> None:
        self.worker = worker
        self.base_url = server_base_url(server)
        self.socket_url = worker_socket_url(server)
        self.token = token
        self.backoff = backoff or Backoff()
        self.jobs: dict[str, RunningJob] = {}
        # Final frames not yet written to a socket; re-sent after a reconnect (their jobs are
        # named in `resume`), so a result computed during an outage is not lost.
        self.finals: dict[str, dict[str, Any]] = {}
        self.session: str | None = None
        self._outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._connected = False
        self._http: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        logger.info("worker %r serving %s", self.worker.name, ", ".join(self.worker.processes) or "nothing")
        async with httpx.AsyncClient(timeout=httpx.Timeout(300.0, connect=10.0)) as self._http:
            try:
                while True:
                    await self._session_once()
                    delay = self.backoff.next_delay()
                    logger.info("reconnecting to %s in %.1f s", self.socket_url, delay)
                    await asyncio.sleep(delay)
            finally:
                self._jobs_abandon()

    async def _session_once(self) -> None:
        """One connection attempt and, if welcomed, the session until it ends. Never raises on
        network trouble: every failure ends in the caller's backoff."""
        try:
            await self._session()
        except InvalidStatus as exc:
            logger.error("server refused the connection: HTTP %s", exc.response.status_code)
        except HandshakeRefused as exc:
            logger.error("server refused the session: %s", exc)
        except (OSError, InvalidHandshake, TimeoutError) as exc:
            logger.warning("cannot connect to %s: %s", self.socket_url, exc or type(exc).__name__)
        except ConnectionClosed as exc:
            logger.warning("connection lost: %s", exc)
        finally:
            self._disconnected()

    async def _session(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        logger.info("connecting to %s", self.socket_url)
        async with connect(
            self.socket_url,
            additional_headers=headers,
            max_size=MAX_FRAME_SIZE,
            open_timeout=15,
            user_agent_header=f"ums-worker/{__version__}",
        ) as ws:
            try:
                await self._session_run(ws)
            except asyncio.CancelledError:
                # Stopping: say so (1001 going away) rather than the 1011 of an unhandled exit.
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(ws.close(1001, "worker stopping"), 2)
                raise

    async def _session_run(self, ws: ClientConnection) -> None:
        await ws.send(json.dumps(self._hello()))
        heartbeat = await self._welcome(ws)
        self.backoff.reset()
        self._connected_start()
        await self._serve(ws, heartbeat)

    def _hello(self) -> dict[str, Any]:
        resume = [job for job in [*self.jobs, *self.finals] if job]
        return {
            "type": "hello",
            "protocol": PROTOCOL_VERSION,
            "name": self.worker.name,
            "capacity": self.worker.capacity,
            "processes": [process.description for process in self.worker.processes.values()],
            "resume": list(dict.fromkeys(resume)),
        }

    async def _welcome(self, ws: ClientConnection) -> float:
        """Wait for `welcome`; log what the server accepted and why it rejected the rest."""
        try:
            frame = _frame_load(await asyncio.wait_for(ws.recv(), WELCOME_TIMEOUT))
        except ValueError as exc:
            raise HandshakeRefused(f"unreadable answer to hello: {exc}") from None
        if frame.get("type") == "error":
            raise HandshakeRefused(f"{frame.get('code')}: {frame.get('detail')}")
        if frame.get("type") != "welcome":
            raise HandshakeRefused(f"expected a welcome frame, got {frame.get('type')!r}")
        self.session = str(frame.get("session"))
        accepted = frame.get("accepted") or []
        logger.info(
            "connected, session %s; accepted processes: %s", self.session, ", ".join(accepted) or "none"
        )
        for rejected in frame.get("rejected") or []:
            logger.warning("process %r rejected: %s", rejected.get("id"), rejected.get("reason"))
        heartbeat = frame.get("heartbeat")
        return float(heartbeat) if isinstance(heartbeat, int | float) and heartbeat > 0 else DEFAULT_HEARTBEAT

    async def _serve(self, ws: ClientConnection, heartbeat: float) -> None:
        tasks = [
            asyncio.create_task(self._read(ws)),
            asyncio.create_task(self._write(ws)),
            asyncio.create_task(self._heartbeat(heartbeat)),
        ]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
        logger.warning("connection closed by the server: code %s %s", ws.close_code, ws.close_reason or "")

    async def _read(self, ws: ClientConnection) -> None:
        async for message in ws:
            try:
                frame = _frame_load(message)
            except ValueError as exc:
                logger.warning("ignoring a frame from the server: %s", exc)
                continue
            self._dispatch(frame)

    async def _write(self, ws: ClientConnection) -> None:
        while True:
            frame = await self._outbox.get()
            await ws.send(json.dumps(frame, ensure_ascii=False))
            if frame["type"] in FINAL_TYPES and self.finals.get(frame["job"]) is frame:
                del self.finals[frame["job"]]

    async def _heartbeat(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            self.emit({"type": "heartbeat"})

    def _connected_start(self) -> None:
        _queue_clear(self._outbox)
        self._connected = True
        for frame in self.finals.values():
            self._outbox.put_nowait(frame)

    def _disconnected(self) -> None:
        # Progress of the lost session is stale; final frames stay in self.finals.
        self._connected = False
        _queue_clear(self._outbox)

    def emit(self, frame: dict[str, Any]) -> None:
        """Queue a frame for the server; while disconnected only final frames are kept."""
        if self._connected:
            self._outbox.put_nowait(frame)

    # -- frames from the server

    def _dispatch(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "job.execute":
            self._job_execute(frame)
        elif kind == "job.cancel":
            self._job_cancel(frame)
        elif kind == "error":
            logger.warning(
                "server error %s%s: %s",
                frame.get("code"),
                f" (job {frame['job']})" if frame.get("job") else "",
                frame.get("detail"),
            )
        elif kind == "registered":
            logger.info("registered: accepted %s, rejected %s", frame.get("accepted"), frame.get("rejected"))
        else:
            logger.warning("ignoring a frame of unknown type %r", kind)

    def _job_execute(self, frame: dict[str, Any]) -> None:
        job, process_id = frame.get("job"), frame.get("process")
        if not isinstance(job, str) or not job:
            logger.warning("ignoring job.execute without a job id")
            return
        if job in self.jobs:
            # The server re-sent a job we are still running (e.g. after `resume`): it is ours.
            logger.info("job %s is already running here", job)
            self.emit({"type": "job.started", "job": job})
            return
        if job in self.finals:
            # Finished here while the report was in flight: report it again rather than rerun it.
            logger.info("job %s already finished here; reporting again", job)
            self.emit(self.finals[job])
            return
        process = self.worker.processes.get(process_id) if isinstance(process_id, str) else None
        if process is None:
            self._job_reject(job, f"this worker does not serve process {process_id!r}")
            return
        if len(self.jobs) >= self.worker.capacity:
            self._job_reject(job, f"worker is at capacity ({self.worker.capacity} jobs)")
            return
        inputs = frame.get("inputs") if isinstance(frame.get("inputs"), dict) else {}
        outputs = frame.get("outputs") if isinstance(frame.get("outputs"), dict) else {}
        attempt = frame.get("attempt") if isinstance(frame.get("attempt"), int) else 1
        assert self._loop is not None
        ctx = JobContext(
            job=job, process=process.id, attempt=attempt, outputs=outputs, emit=self.emit, loop=self._loop
        )
        task = asyncio.create_task(self._job_run(process, inputs, ctx), name=f"job-{job}")
        self.jobs[job] = RunningJob(ctx=ctx, task=task)

    def _job_reject(self, job: str, reason: str) -> None:
        logger.warning("rejecting job %s: %s", job, reason)
        self.emit({"type": "job.rejected", "job": job, "reason": reason})

    async def _job_run(self, process: Any, inputs: dict[str, Any], ctx: JobContext) -> None:
        logger.info("job %s: %s started (attempt %s)", ctx.job, process.id, ctx.attempt)
        start_report = self._start_report_later(ctx)
        try:
            final = await job_execute(
                process,
                inputs,
                ctx,
                upload=lambda output_id, body, media_type: self._upload(ctx.job, output_id, body, media_type),
                upload_threshold=self.worker.upload_threshold,
                secrets=(self.token,),
            )
        finally:
            if start_report is not None:
                start_report.cancel()
            running = self.jobs.get(ctx.job)
            if running is not None and running.ctx is ctx:
                del self.jobs[ctx.job]
        if final is None or ctx.cancelled:
            logger.info("job %s: cancelled, not reporting", ctx.job)
            return
        logger.info("job %s: %s", ctx.job, final["type"].removeprefix("job."))
        self.finals[ctx.job] = final
        self.emit(final)

    def _start_report_later(self, ctx: JobContext) -> asyncio.TimerHandle | None:
        """Reports the job's start once it has run `started_delay`, unless it has reported
        progress by then (which tells the server it started)."""
        if self.worker.started_delay <= 0:
            self.emit({"type": "job.started", "job": ctx.job})
            return None

        def report() -> None:
            if not ctx.cancelled and not ctx.progress_reported:
                self.emit({"type": "job.started", "job": ctx.job})

        assert self._loop is not None
        return self._loop.call_later(self.worker.started_delay, report)

    def _job_cancel(self, frame: dict[str, Any]) -> None:
        job = frame.get("job")
        running = self.jobs.pop(job, None) if isinstance(job, str) else None
        if isinstance(job, str):
            self.finals.pop(job, None)
        if running is None:
            logger.info("job.cancel for %s, which is not running here", job)
            return
        logger.info("job %s: cancel requested", job)
        running.ctx.cancel()
        if (
            running.ctx.process in self.worker.processes
            and self.worker.processes[running.ctx.process].is_async
        ):
            running.task.cancel()

    async def _upload(self, job: str, output_id: str, body: bytes, media_type: str) -> str:
        assert self._http is not None
        logger.info("job %s: uploading output %r (%d bytes)", job, output_id, len(body))
        return await output_upload(
            self._http,
            base_url=self.base_url,
            token=self.token,
            job=job,
            output_id=output_id,
            body=body,
            media_type=media_type,
        )

    def _jobs_abandon(self) -> None:
        """On shutdown: signal every handler to stop; the server requeues their jobs."""
        for running in self.jobs.values():
            running.ctx.cancel()
            running.task.cancel()
        self.jobs.clear()


def _frame_load(message: str | bytes) -> dict[str, Any]:
    try:
        frame = json.loads(message)
    except ValueError as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(frame, dict):
        raise ValueError("a frame must be a JSON object")
    return frame


def _queue_clear(queue: asyncio.Queue[Any]) -> None:
    with contextlib.suppress(asyncio.QueueEmpty):
        while True:
            queue.get_nowait()
