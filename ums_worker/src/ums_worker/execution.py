"""Running one job: call the handler, turn its result into the final frame."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections.abc import Awaitable, Callable
from typing import Any

from .context import JobCancelled, JobContext
from .outputs import (
    output_body,
    output_media_type,
    output_needs_upload,
    outputs_from_result,
)
from .process import Process, inputs_with_defaults
from .upload import UploadError

logger = logging.getLogger("ums_worker.job")

MAX_DETAIL_LENGTH = 4000
# Seconds a handler thread waits for the next job before it ends.
IDLE_THREAD_SECONDS = 60.0

# (output id, body, media type) -> href of the uploaded output
Uploader = Callable[[str, bytes, str], Awaitable[str]]


async def job_execute(
    process: Process,
    inputs: dict[str, Any],
    ctx: JobContext,
    *,
    upload: Uploader,
    upload_threshold: int,
    secrets: tuple[str, ...] = (),
) -> dict[str, Any] | None:
    """The job.succeeded or job.failed frame for this job, or None once it was cancelled."""
    try:
        result = await handler_call(process, inputs_with_defaults(process.description, inputs), ctx)
        if ctx.cancelled:
            return None
        outputs = await outputs_encode(result, process.description, upload, upload_threshold)
    except JobCancelled:
        return None
    except asyncio.CancelledError:
        if ctx.cancelled:
            return None
        raise
    except Exception as exc:
        if ctx.cancelled:
            return None
        if isinstance(exc, UploadError):
            logger.error("job %s (%s): %s", ctx.job, process.id, exc)
        else:
            logger.exception("job %s (%s) failed", ctx.job, process.id)
        return job_failed_frame(ctx.job, process.id, exc, secrets)
    if ctx.cancelled:
        return None
    return {"type": "job.succeeded", "job": ctx.job, "outputs": outputs}


async def handler_call(process: Process, inputs: dict[str, Any], ctx: JobContext) -> Any:
    """Async handlers run in the event loop; sync ones in a thread, so the loop keeps heartbeating."""
    args = (inputs, ctx) if process.takes_context else (inputs,)
    if process.is_async:
        return await process.handler(*args)
    return await thread_run(process.handler, *args, name=f"job-{ctx.job}")


class HandlerThreads:
    """Daemon threads for blocking handlers, each kept for the next job while it is idle.

    Not a bounded pool: a cancelled blocking handler cannot be stopped and keeps its thread
    until it returns; in a bounded pool it would hold back the next jobs, and a non-daemon
    thread would keep the worker from exiting. So a job takes an idle thread or starts one,
    and a thread idle for `idle_seconds` ends. Starting a thread per job was a fifth of the
    worker's CPU for a short job.
    """

    def __init__(self, idle_seconds: float = IDLE_THREAD_SECONDS) -> None:
        self.idle_seconds = idle_seconds
        self._idle: list[queue.SimpleQueue[tuple[Callable[[], None], str]]] = []
        self._lock = threading.Lock()

    def run(self, call: Callable[[], None], *, name: str) -> None:
        """Runs `call` (which must not raise) on a thread named `name` meanwhile."""
        with self._lock:
            inbox = self._idle.pop() if self._idle else None
        if inbox is None:
            inbox = queue.SimpleQueue()
            threading.Thread(target=self._serve, args=(inbox,), name=name, daemon=True).start()
        inbox.put((call, name))

    @property
    def idle(self) -> int:
        return len(self._idle)

    def _serve(self, inbox: queue.SimpleQueue[tuple[Callable[[], None], str]]) -> None:
        while True:
            try:
                call, name = inbox.get(timeout=self.idle_seconds)
            except queue.Empty:
                with self._lock:
                    if inbox in self._idle:
                        self._idle.remove(inbox)
                        return
                continue  # taken just as it timed out: the job is on its way
            threading.current_thread().name = name
            call()
            with self._lock:
                self._idle.append(inbox)


_handler_threads = HandlerThreads()


async def thread_run(func: Callable[..., Any], *args: Any, name: str) -> Any:
    """Run a blocking call on a handler thread (`HandlerThreads`) and await its result."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()

    def settle(outcome: Callable[[], None]) -> None:
        # RuntimeError: the loop is gone, the worker is shutting down.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(outcome)

    def target() -> None:
        try:
            result = func(*args)
        except BaseException as exc:
            settle(lambda error=exc: future.done() or future.set_exception(error))
        else:
            settle(lambda value=result: future.done() or future.set_result(value))

    _handler_threads.run(target, name=name)
    return await future


async def outputs_encode(
    result: Any, description: dict[str, Any], upload: Uploader, threshold: int
) -> dict[str, dict[str, Any]]:
    """The `outputs` of job.succeeded: inline values, or hrefs of uploaded large outputs."""
    encoded: dict[str, dict[str, Any]] = {}
    for output_id, output in outputs_from_result(result, description).items():
        media_type = output_media_type(output_id, output, description)
        if output_needs_upload(output, threshold):
            href = await upload(output_id, output_body(output, media_type), media_type)
            encoded[output_id] = {"href": href, "mediaType": media_type}
        else:
            encoded[output_id] = {"value": output.value, "mediaType": media_type}
    return encoded


def job_failed_frame(job: str, process_id: str, exc: Exception, secrets: tuple[str, ...]) -> dict[str, Any]:
    """Type and message of the exception, never the traceback (it names files and locals)."""
    title = "Output upload failed" if isinstance(exc, UploadError) else f"Process {process_id!r} failed"
    message = str(exc)
    detail = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    for secret in secrets:
        if secret:
            detail = detail.replace(secret, "***")
    if len(detail) > MAX_DETAIL_LENGTH:
        detail = detail[: MAX_DETAIL_LENGTH - 3] + "..."
    return {"type": "job.failed", "job": job, "error": {"title": title[:1000], "detail": detail}}
