"""Database work from async code, on a few long-lived threads that keep their connections.

Channels' `database_sync_to_async` runs each call in a thread whose connection it closes
afterwards (`CONN_MAX_AGE = 0`, because under ASGI a persistent connection would belong to
a short-lived request thread and leak). Opening and closing was 40 % of the server's CPU per
job in the benchmark profile: on SQLite, `connect` registers Django's functions and runs the
PRAGMAs, and closing the last connection checkpoints the WAL. These threads live as long as
the process, so their connections are kept, and closed only when Django would close a
connection it cannot trust (an error that left it unusable, autocommit left off).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import SyncToAsync
from django.conf import settings
from django.db import connections

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def _db_executor() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=settings.UMS_DB_THREADS, thread_name_prefix="ums-db")
        return _executor


def _connections_check() -> None:
    for connection in connections.all(initialized_only=True):
        # A connection opened with CONN_MAX_AGE = 0 is due to close at once; here it is kept.
        connection.close_at = None
        connection.close_if_unusable_or_obsolete()


class DatabaseThread(SyncToAsync):
    """`SyncToAsync` on the database threads, with Django's connection hygiene around each call."""

    def __init__(self, func: Callable[..., Any]) -> None:
        super().__init__(func, thread_sensitive=False, executor=_db_executor())

    def thread_handler(self, loop, *args, **kwargs):
        _connections_check()
        try:
            return super().thread_handler(loop, *args, **kwargs)
        finally:
            _connections_check()


def db_sync_to_async[**P, T](func: Callable[P, T]) -> Callable[P, Any]:
    """Like Channels' `database_sync_to_async`, on the database threads (decorator or call)."""
    return DatabaseThread(func)


def db_threads_close() -> None:
    """Closes the connections the database threads hold (tests, before dropping a database)."""
    executor = _executor
    if executor is None:
        return
    count = settings.UMS_DB_THREADS
    # Each thread must take one task: the barrier holds every task until all threads have one.
    barrier = threading.Barrier(count)

    def close_mine() -> None:
        barrier.wait(timeout=30)
        connections.close_all()

    for future in [executor.submit(close_mine) for _ in range(count)]:
        future.result()
