"""DRF's checks (negotiation, authentication, permissions, throttles) of the async views run
in the event loop when they cannot do I/O, and in the request's thread when they may."""

from __future__ import annotations

import threading

import pytest
from channels.testing import HttpCommunicator
from rest_framework import views

from tests.factories import application

pytestmark = pytest.mark.django_db(transaction=True)

STATUS = "/jobs/00000000-0000-4000-8000-000000000000"


@pytest.fixture
def check_threads(monkeypatch) -> list[str]:
    """The names of the threads DRF's `initial` ran in."""
    threads: list[str] = []
    initial = views.APIView.initial

    def recorded(view, request, *args, **kwargs):
        threads.append(threading.current_thread().name)
        return initial(view, request, *args, **kwargs)

    monkeypatch.setattr(views.APIView, "initial", recorded)
    return threads


async def status_of(path: str, *headers: tuple[bytes, bytes], method: str = "GET") -> int:
    all_headers = [(b"host", b"testserver"), (b"accept", b"application/json"), *headers]
    body = b"{}" if method == "POST" else b""
    communicator = HttpCommunicator(application, method, path, body=body, headers=all_headers)
    response = await communicator.get_response(timeout=10)
    await communicator.wait(10)
    return response["status"]


async def execute_unknown() -> int:
    return await status_of(
        "/processes/nothing/execution", (b"content-type", b"application/json"), method="POST"
    )


async def test_an_anonymous_request_is_checked_in_the_event_loop(check_threads):
    assert await status_of(STATUS) == 404
    assert check_threads == [threading.current_thread().name]


async def test_a_request_with_a_token_is_checked_in_its_thread(check_threads):
    assert await status_of(STATUS, (b"authorization", b"Token not-a-real-token")) == 401
    assert check_threads and check_threads[0] != threading.current_thread().name


async def test_a_request_with_a_session_cookie_is_checked_in_its_thread(check_threads):
    assert await status_of(STATUS, (b"cookie", b"sessionid=not-a-real-session")) == 404
    assert check_threads and check_threads[0] != threading.current_thread().name


async def test_a_throttled_execution_is_checked_where_its_cache_is(check_threads, settings):
    # A local-memory cache does no I/O: its count is kept in the event loop too.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.UMS_EXECUTE_RATE = "100/minute"
    assert await execute_unknown() == 404
    assert check_threads == [threading.current_thread().name]
    # Any other cache may be across a network.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    check_threads.clear()
    assert await execute_unknown() == 404
    assert check_threads and check_threads[0] != threading.current_thread().name
