from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from asgiref.sync import SyncToAsync
from channels.testing import WebsocketCommunicator
from django.db import connections

from jobs import provider_cache
from tests.callback_receiver import subscriber  # noqa: F401 (fixture)
from tests.factories import communicator, hello, receive, send, token_create
from tests.live_processes import processes, pytest_runtest_makereport  # noqa: F401 (fixture, hook)
from tests.redis_layers import other_instance, redis  # noqa: F401 (fixtures)
from ums_site.db import db_threads_close

# The on-disk SQLite test database lives here (see settings).
(Path(__file__).resolve().parent.parent / "var").mkdir(exist_ok=True)

ConnectWorker = Callable[..., Awaitable[tuple[WebsocketCommunicator, dict]]]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item):
    """Work a test left on the database threads ends before its fixtures are torn down: a
    sweep the app started (jobs.sweeper) still held row locks when pytest-django flushed the
    test database, and PostgreSQL broke the deadlock by failing the flush."""
    db_threads_close()
    yield


@pytest.fixture(autouse=True)
def _no_provider_guesses(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with no guess of a new job's session (jobs.provider_cache): sessions
    a test remembered are gone with its database."""
    monkeypatch.setattr(provider_cache, "_providers", {})


@pytest.fixture
def on_postgresql() -> None:
    """Skips the test on SQLite: for PostgreSQL's round trips and row locks."""
    if connections["default"].vendor != "postgresql":
        pytest.skip("PostgreSQL's round trips and row locks; SQLite has one writer at a time")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup):
    """pytest-django's, which drops the test database after the threads that used it let go:
    the database threads, and asgiref's thread for sync code called from async tests, whose
    connection Django's test client keeps open (it holds back the closing at request end).
    On PostgreSQL, DROP DATABASE refused while that connection was left."""
    yield
    db_threads_close()
    SyncToAsync.single_thread_executor.submit(connections.close_all).result()


@pytest.fixture
async def connect_worker(transactional_db) -> AsyncIterator[ConnectWorker]:
    """Connects workers on the full ASGI app; every one is disconnected at teardown."""
    opened: list[WebsocketCommunicator] = []

    async def connect(token: str | None = None, **hello_fields) -> tuple[WebsocketCommunicator, dict]:
        ws = communicator(token or await token_create(f"worker-{len(opened)}"))
        connected, _ = await ws.connect()
        assert connected
        opened.append(ws)
        await send(ws, hello(**hello_fields))
        welcome = await receive(ws)
        assert welcome["type"] == "welcome", welcome
        return ws, welcome

    yield connect
    for ws in opened:
        # A test that failed may leave a socket half-closed; the others must still close.
        with contextlib.suppress(Exception):
            await ws.disconnect()
