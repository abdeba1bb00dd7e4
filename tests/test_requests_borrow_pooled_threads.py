"""A request's synchronous work runs on a thread borrowed from a pool: none is started per
request, each request has its thread to itself, and a burst leaves only a few idle."""

from __future__ import annotations

import asyncio
import threading

import pytest
from channels.testing import HttpCommunicator

from tests.factories import application
from ums_site import asgi, asgi_handler

pytestmark = pytest.mark.django_db(transaction=True)

HEADERS = [(b"host", b"testserver"), (b"accept", b"application/json")]


async def status_of(path: str) -> int:
    # /processes is a synchronous view that reads the database: it needs the request's thread.
    communicator = HttpCommunicator(application, "GET", path, headers=HEADERS)
    response = await communicator.get_response(timeout=10)
    await communicator.wait(10)  # until the request has ended and given its thread back
    return response["status"]


async def test_a_request_starts_no_thread(monkeypatch):
    assert await status_of("/processes") == 200  # the pool's first thread
    started = []
    start = threading.Thread.start

    def counted_start(thread: threading.Thread) -> None:
        started.append(thread.name)
        start(thread)

    monkeypatch.setattr(threading.Thread, "start", counted_start)
    for _ in range(3):
        assert await status_of("/processes") == 200
    assert started == []


async def test_concurrent_requests_each_get_a_thread_and_a_burst_leaves_few_idle(monkeypatch):
    monkeypatch.setattr(asgi_handler, "IDLE_REQUEST_THREADS", 2)
    statuses = await asyncio.gather(*(status_of("/processes") for _ in range(6)))
    assert statuses == [200] * 6
    idle = asgi.django_asgi_app._idle
    assert 1 <= len(idle) <= 2
    assert len({id(executor) for executor in idle}) == len(idle)
