"""A local HTTP server that receives callbacks (the `subscriber` fixture)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class Subscriber:
    """A local HTTP server recording the callbacks it receives, answering `statuses` in turn."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict]] = []
        self.statuses: list[int] = []
        subscriber = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                subscriber.received.append((self.path, body))
                status = subscriber.statuses.pop(0) if subscriber.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def uris(self) -> dict[str, str]:
        return {key: f"{self.url}/{key}" for key in ("successUri", "inProgressUri", "failedUri")}

    def at(self, path: str) -> list[dict]:
        return [body for received_path, body in self.received if received_path == path]

    async def wait_for(self, path: str, count: int = 1) -> list[dict]:
        async def arrived() -> list[dict]:
            return self.at(path) if len(self.at(path)) >= count else []

        return await eventually(arrived)


@pytest.fixture
def subscriber() -> Iterator[Subscriber]:
    server = Subscriber()
    yield server
    server.server.shutdown()
    server.server.server_close()


async def eventually[T](check: Callable[[], Awaitable[T]], seconds: float = 10) -> T:
    """The first true result of `check`, polled (the machine may be slow: generous limit)."""
    for _ in range(int(seconds / 0.02)):
        if result := await check():
            return result
        await asyncio.sleep(0.02)
    raise AssertionError(f"nothing came within {seconds} s")
