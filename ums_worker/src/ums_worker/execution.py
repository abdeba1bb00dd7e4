"""Running one job: call the handler, turn its result into the final frame."""

from __future__ import annotations

import asyncio
import contextlib
import logging
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


async def thread_run(func: Callable[..., Any], *args: Any, name: str) -> Any:
    """Run a blocking call in its own daemon thread.

    Not a thread pool: a cancelled blocking handler cannot be stopped and keeps its thread until
    it returns; in a bounded pool it would hold back the next jobs, and a non-daemon thread
    would keep the worker from exiting.
    """
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

    threading.Thread(target=target, name=name, daemon=True).start()
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
