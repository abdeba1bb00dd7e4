"""JSON answers of the async views are rendered in the event loop, not in the request's
thread; HTML pages, whose templates may query the database, still are rendered there."""

from __future__ import annotations

import json
import threading

import pytest
from asgiref.sync import sync_to_async
from channels.testing import HttpCommunicator
from rest_framework.response import Response

from jobs.models import Job
from tests.factories import application
from tests.scheduler_records import echo_process

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def render_threads(monkeypatch) -> list[str]:
    """The names of the threads DRF responses were rendered in."""
    threads: list[str] = []
    render = Response.render

    def recorded(response):
        threads.append(threading.current_thread().name)
        return render(response)

    monkeypatch.setattr(Response, "render", recorded)
    return threads


@pytest.fixture
async def status_path() -> str:
    job = await sync_to_async(lambda: Job.objects.create(process=echo_process()))()
    return f"/jobs/{job.pk}"


async def get(path: str, accept: bytes) -> dict:
    headers = [(b"host", b"testserver"), (b"accept", accept)]
    communicator = HttpCommunicator(application, "GET", path, headers=headers)
    response = await communicator.get_response(timeout=10)
    await communicator.wait(10)
    return response


async def test_a_json_status_is_rendered_in_the_event_loop(render_threads, status_path):
    response = await get(status_path, b"application/json")
    assert response["status"] == 200
    assert dict(response["headers"])[b"Content-Type"] == b"application/json"
    assert json.loads(response["body"])["status"] == "accepted"
    assert render_threads == [threading.current_thread().name]


async def test_an_html_status_page_is_rendered_in_the_requests_thread(render_threads, status_path):
    response = await get(status_path, b"text/html")
    assert response["status"] == 200
    assert dict(response["headers"])[b"Content-Type"].startswith(b"text/html")
    assert render_threads and render_threads[0] != threading.current_thread().name
