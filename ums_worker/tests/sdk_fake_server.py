"""A fake server speaking protocol v1, so the worker's loop is tested without Django."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

from websockets.asyncio.server import ServerConnection, serve
from websockets.http11 import Request, Response

from ums_worker import Worker
from ums_worker.backoff import Backoff
from ums_worker.runner import Runner

TOKEN = "test-token-secret"


class Session:
    """One accepted worker connection, seen from the server."""

    def __init__(self, ws: ServerConnection, hello: dict[str, Any]) -> None:
        self.ws = ws
        self.hello = hello
        self.frames: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.closed = asyncio.Event()

    async def send(self, frame: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(frame))

    async def next(self, *, skip: tuple[str, ...] = ("heartbeat",), wait: float = 5) -> dict[str, Any]:
        while True:
            frame = await asyncio.wait_for(self.frames.get(), wait)
            if frame["type"] not in skip:
                return frame

    async def until(self, kind: str, wait: float = 5) -> dict[str, Any]:
        while True:
            frame = await self.next(skip=(), wait=wait)
            if frame["type"] == kind:
                return frame


class FakeServer:
    def __init__(self) -> None:
        self.sessions: asyncio.Queue[Session] = asyncio.Queue()
        self.refuse = 0  # refuse this many handshakes with HTTP 403 first
        self.welcome: dict[str, Any] = {"heartbeat": 0.2}
        self.url = ""

    def process_request(self, ws: ServerConnection, request: Request) -> Response | None:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return ws.respond(401, "bad token\n")
        if self.refuse:
            self.refuse -= 1
            return ws.respond(403, "refused\n")
        return None

    async def handler(self, ws: ServerConnection) -> None:
        hello = json.loads(await ws.recv())
        accepted = [p["id"] for p in hello["processes"]]
        await ws.send(json.dumps({"type": "welcome", "session": "s1", "accepted": accepted, "rejected": [],
                                  **self.welcome}))  # fmt: skip
        session = Session(ws, hello)
        await self.sessions.put(session)
        with contextlib.suppress(Exception):
            async for message in ws:
                await session.frames.put(json.loads(message))
        session.closed.set()

    async def session(self, wait: float = 5) -> Session:
        return await asyncio.wait_for(self.sessions.get(), wait)


@contextlib.asynccontextmanager
async def running(worker: Worker, server: FakeServer, token: str = TOKEN) -> AsyncIterator[Runner]:
    runner = Runner(worker, server=server.url, token=token, backoff=Backoff(initial=0.05, maximum=0.2))
    task = asyncio.create_task(runner.run())
    try:
        yield runner
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@contextlib.asynccontextmanager
async def fake_server_started() -> AsyncIterator[FakeServer]:
    server = FakeServer()
    async with serve(server.handler, "127.0.0.1", 0, process_request=server.process_request) as ws_server:
        port = ws_server.sockets[0].getsockname()[1]
        server.url = f"http://127.0.0.1:{port}"
        yield server
