"""Database work from async code runs on long-lived threads that keep their connections,
except one Django would not trust."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from ums_site.db import db_sync_to_async

pytestmark = pytest.mark.django_db(transaction=True)


def where() -> tuple[int, int]:
    """This thread, and the database connection it uses now."""
    connection.ensure_connection()
    return threading.get_ident(), id(connection.connection)


def leave_autocommit_off() -> tuple[int, int]:
    found = where()
    transaction.set_autocommit(False)
    return found


async def test_a_thread_uses_one_connection_for_many_calls(settings):
    seen = {}
    for _ in range(20):
        thread, used = await db_sync_to_async(where)()
        assert seen.setdefault(thread, used) == used
    assert len(seen) <= settings.UMS_DB_THREADS


async def test_a_connection_left_without_autocommit_is_not_kept():
    thread, spoiled = await db_sync_to_async(leave_autocommit_off)()
    for _ in range(200):  # until the same thread serves a call again
        again, used = await db_sync_to_async(where)()
        if again == thread:
            assert used != spoiled
            return
    pytest.fail("the thread that spoiled its connection served no other call")
