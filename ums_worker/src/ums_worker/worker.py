"""The Worker: the processes a program serves, and how to run it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Callable
from typing import Any

from .event_loop import event_loop_factory
from .outputs import DEFAULT_UPLOAD_THRESHOLD
from .process import PROCESS_ATTRIBUTE, Handler, Process, process_description

logger = logging.getLogger("ums_worker")

SERVER_ENV = "UMS_SERVER_URL"
TOKEN_ENV = "UMS_WORKER_TOKEN"
DEFAULT_SERVER = "http://127.0.0.1:8000"
# Seconds a job runs before the worker reports its start (job.started). A job that ends, or
# reports progress, sooner is not reported as started: the server records it as started when
# its end comes. A start report is a write and a notification on the server; for a short job
# it only makes status `running` visible for a few milliseconds.
DEFAULT_STARTED_DELAY = 0.05


class Worker:
    """A set of processes served together over one connection.

    >>> worker = Worker(name="demo", capacity=4)
    >>> @worker.process({"id": "echo", "inputs": {...}, "outputs": {...}})
    ... def echo(inputs, ctx):
    ...     return {"echo": inputs["message"]}
    >>> worker.run(server="http://127.0.0.1:8000", token="...")
    """

    def __init__(
        self,
        name: str = "ums-worker",
        capacity: int = 1,
        *,
        upload_threshold: int = DEFAULT_UPLOAD_THRESHOLD,
        started_delay: float = DEFAULT_STARTED_DELAY,
    ) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        if not started_delay >= 0:  # also refuses NaN
            raise ValueError("started_delay must be a number of seconds, at least 0")
        self.name = name
        self.capacity = capacity
        self.upload_threshold = upload_threshold
        self.started_delay = started_delay
        self.processes: dict[str, Process] = {}

    def process(self, description: dict[str, Any] | None = None) -> Callable[[Handler], Handler]:
        """Decorator: serve the function as the process `description` describes."""

        def decorate(handler: Handler) -> Handler:
            process = Process(process_description(description, handler), handler)
            setattr(handler, PROCESS_ATTRIBUTE, process)
            self.add(process)
            return handler

        return decorate

    def add(self, process: Process) -> None:
        """Serve a process; a second process with the same id is an error, not a silent takeover."""
        if process.id in self.processes and self.processes[process.id] is not process:
            raise ValueError(f"process {process.id!r} is already served by this worker")
        self.processes[process.id] = process

    def include(self, other: Worker | Process | Handler) -> None:
        """Serve the processes of another Worker, a Process, or a function decorated with `process()`."""
        if isinstance(other, Worker):
            for process in other.processes.values():
                self.add(process)
        elif isinstance(other, Process):
            self.add(other)
        elif isinstance(getattr(other, PROCESS_ATTRIBUTE, None), Process):
            self.add(getattr(other, PROCESS_ATTRIBUTE))
        else:
            raise TypeError(f"{other!r} is neither a Worker, a Process nor a function decorated as a process")

    def add_pygeoapi(self, processor: type | str, process_id: str | None = None) -> Process:
        """Serve a pygeoapi BaseProcessor subclass (or its dotted name), optionally under another id."""
        from .pygeoapi_adapter import pygeoapi_process

        process = pygeoapi_process(processor, process_id=process_id)
        self.add(process)
        return process

    async def run_async(self, server: str | None = None, token: str | None = None) -> None:
        """Serve until cancelled, reconnecting after every disconnect."""
        from .runner import Runner

        server, token = _server_and_token(server, token)
        await Runner(self, server=server, token=token).run()

    def run(self, server: str | None = None, token: str | None = None) -> None:
        """Serve until SIGINT or SIGTERM; `server`/`token` default to $UMS_SERVER_URL/$UMS_WORKER_TOKEN.

        Runs on uvloop's event loop where it is installed (`ums_worker.event_loop`)."""
        server, token = _server_and_token(server, token)
        loop_factory = event_loop_factory()
        if not logging.getLogger().handlers:
            # A script calling run() should still say what it does; the CLI configures its own.
            logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(self._run_until_signal(server, token), loop_factory=loop_factory)
        logger.info("worker %r stopped", self.name)

    async def _run_until_signal(self, server: str, token: str) -> None:
        task = asyncio.create_task(self.run_async(server, token))
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            # Not available off the main thread or on Windows: Ctrl-C still raises KeyboardInterrupt.
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(signum, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _server_and_token(server: str | None, token: str | None) -> tuple[str, str]:
    server = server or os.environ.get(SERVER_ENV) or DEFAULT_SERVER
    token = token or os.environ.get(TOKEN_ENV)
    if not token:
        raise ValueError(f"a worker token is required (argument or ${TOKEN_ENV})")
    return server, token
