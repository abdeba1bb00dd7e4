"""Database work from async code runs on long-lived threads that keep their connections,
except one Django would not trust."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from django.db import connection, transaction
from django.db.backends.signals import connection_created

from ums_site.db import db_sync_to_async

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def opened() -> Iterator[list[int]]:
    """The threads that opened a database connection, one entry per connection opened.

    Counted, not compared by `id()`: a closed connection's id may be given to the next one.
    """
    threads: list[int] = []

    def record(**kwargs) -> None:
        threads.append(threading.get_ident())

    connection_created.connect(record, weak=False)
    yield threads
    connection_created.disconnect(record)


def where() -> int:
    """This thread, with a database connection open."""
    connection.ensure_connection()
    return threading.get_ident()


def leave_autocommit_off() -> int:
    transaction.set_autocommit(False)
    return where()


async def test_a_thread_uses_one_connection_for_many_calls(settings, opened):
    threads = {await db_sync_to_async(where)() for _ in range(20)}
    assert len(opened) <= len(threads) <= settings.UMS_DB_THREADS


async def test_a_connection_left_without_autocommit_is_not_kept(opened):
    thread = await db_sync_to_async(leave_autocommit_off)()
    before = opened.count(thread)
    for _ in range(200):  # until the same thread serves a call again
        if await db_sync_to_async(where)() == thread:
            assert opened.count(thread) == before + 1
            return
    pytest.fail("the thread that spoiled its connection served no other call")
