"""Bodies past the largest any endpoint takes get 413 problem details before Django spools
them to disk: by Content-Length, or as soon as a streamed body passes the ceiling."""

from __future__ import annotations

import json

import pytest
from channels.testing import ApplicationCommunicator

from jobs.models import Job
from tests.factories import application

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def small_limits(settings) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048
    settings.UMS_MAX_UPLOAD_BYTES = 4096


def scope(headers: list[tuple[bytes, bytes]]) -> dict:
    return {
        "type": "http", "http_version": "1.1", "method": "POST", "path": "/processes/echo/execution",
        "raw_path": b"/processes/echo/execution", "query_string": b"", "root_path": "",
        "headers": [(b"host", b"testserver"), (b"content-type", b"application/json"), *headers],
        "client": ("127.0.0.1", 1234), "server": ("testserver", 80), "scheme": "http",
    }  # fmt: skip


async def answer(app: ApplicationCommunicator) -> tuple[int, dict]:
    start = await app.receive_output(5)
    body = await app.receive_output(5)
    return start["status"], json.loads(body["body"])


async def test_it_refuses_a_declared_length_past_the_ceiling():
    app = ApplicationCommunicator(application, scope([(b"content-length", b"4097")]))
    status, problem = await answer(app)
    assert status == 413
    assert problem["detail"] == "The request body is larger than the limit of 4096 bytes."
    await app.wait(1)


async def test_it_stops_reading_a_streamed_body_past_the_ceiling():
    app = ApplicationCommunicator(application, scope([]))
    for _ in range(5):
        await app.send_input({"type": "http.request", "body": b"x" * 1024, "more_body": True})
    status, problem = await answer(app)
    assert (status, problem["status"]) == (413, 413)
    assert not await Job.objects.aexists()
    await app.wait(1)
