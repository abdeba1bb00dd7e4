"""The context a handler gets: job identity, progress reports and cancellation."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any

logger = logging.getLogger("ums_worker.job")

MAX_MESSAGE_LENGTH = 10000  # the protocol's limit on progress messages


class JobCancelled(Exception):
    """Raised by `JobContext.raise_if_cancelled()`; the worker then reports nothing."""


class JobContext:
    """Passed to handlers as `ctx`. Safe to use from the handler's thread or from the event loop."""

    def __init__(
        self,
        *,
        job: str,
        process: str,
        attempt: int,
        outputs: dict[str, Any],
        emit: Callable[[dict[str, Any]], None],
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self.job = job
        self.process = process
        self.attempt = attempt
        self.outputs = outputs  # the outputs the client requested (may be empty: all)
        self.logger = logging.LoggerAdapter(logger, {"job": job})
        self._emit = emit
        self._loop = loop
        self._loop_thread = threading.get_ident()
        self._cancel = threading.Event()
        self._last_progress: tuple[int, str] | None = None

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    @property
    def progress_reported(self) -> bool:
        return self._last_progress is not None

    def cancel(self) -> None:
        self._cancel.set()

    def wait_cancelled(self, timeout: float | None = None) -> bool:
        """Sleep up to `timeout` seconds in a sync handler, waking early on cancel; True if cancelled."""
        return self._cancel.wait(timeout)

    def raise_if_cancelled(self) -> None:
        if self.cancelled:
            raise JobCancelled(self.job)

    def progress(self, percent: float, message: str = "") -> None:
        """Report progress (0-100) with an optional message; repeats and reports after cancel are dropped."""
        if self.cancelled:
            return
        value = (max(0, min(100, int(percent))), str(message)[:MAX_MESSAGE_LENGTH])
        if value == self._last_progress:
            return
        self._last_progress = value
        frame = {"type": "job.progress", "job": self.job, "progress": value[0], "message": value[1]}
        # From the loop thread emit directly, so the report is queued before the final frame of
        # the same job; from a handler thread hand it over to the loop.
        if threading.get_ident() == self._loop_thread:
            self._emit(frame)
        else:
            self._loop.call_soon_threadsafe(self._emit, frame)
