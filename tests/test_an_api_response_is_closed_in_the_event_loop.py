"""A response is closed, and Django's `request_finished` sent, in the event loop when the
request never used its own thread (an async API view), and in that thread when it did."""

from __future__ import annotations

import asyncio
import json

import pytest
from channels.testing import HttpCommunicator
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from tests.factories import application

pytestmark = pytest.mark.django_db(transaction=True)

HEADERS = [(b"host", b"testserver"), (b"accept", b"application/json")]


@pytest.fixture
def finished_in_loop():
    """For each request that ended: whether its `request_finished` ran in an event loop."""
    # Django's test client connects this back after each of its requests (the ASGI handler
    # disconnects it at start-up): its request_started would then use the request's thread.
    request_started.disconnect(close_old_connections)
    seen: list[bool] = []

    def receiver(**kwargs) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            seen.append(False)
        else:
            seen.append(True)

    request_finished.connect(receiver)
    yield seen
    request_finished.disconnect(receiver)


async def request(method: str, path: str, body: dict | None = None, headers=()) -> dict:
    content = b"" if body is None else json.dumps(body).encode()
    length = [(b"content-type", b"application/json"), (b"content-length", str(len(content)).encode())]
    communicator = HttpCommunicator(
        application, method, path, body=content, headers=[*HEADERS, *length, *headers]
    )
    response = await communicator.get_response(timeout=10)
    await communicator.wait(10)  # until the request has ended
    return response


async def get(path: str) -> int:
    return (await request("GET", path))["status"]


async def test_an_api_response_is_closed_in_the_event_loop(connect_worker, finished_in_loop):
    await connect_worker()
    execute = {"inputs": {"message": "hi"}}
    submitted = await request(
        "POST", "/processes/echo/execution", execute, headers=[(b"prefer", b"respond-async")]
    )
    assert submitted["status"] == 201, submitted["body"]
    job_id = json.loads(submitted["body"])["jobID"]
    assert await get(f"/jobs/{job_id}") == 200
    assert await get("/jobs/00000000-0000-0000-0000-000000000000") == 404
    assert finished_in_loop == [True, True, True]


async def test_a_response_whose_request_used_its_thread_is_closed_there(finished_in_loop):
    # /processes is a synchronous view that reads the database in the request's thread.
    assert await get("/processes") == 200
    assert finished_in_loop == [False]
