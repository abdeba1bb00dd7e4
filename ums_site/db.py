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

import asyncio
import contextvars
import functools
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

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


class DatabaseThread:
    """Runs a function on the database threads, with Django's connection hygiene around it.

    Like asgiref's `SyncToAsync` with an executor, without what only thread-sensitive code
    needs: Django's connections are plain thread-locals, and nothing run here sets context
    variables for its caller, so the caller's context is copied in and not copied back (that
    copy back, a shield and the bookkeeping around them were a tenth of the event loop's CPU
    per job in the benchmark profile).
    """

    def __init__(self, func: Callable[..., Any]) -> None:
        self.func = func
        functools.update_wrapper(self, func)

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        context = contextvars.copy_context()
        call = functools.partial(context.run, self._checked, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(_db_executor(), call)

    def _checked(self, *args: Any, **kwargs: Any) -> Any:
        _connections_check()
        try:
            return self.func(*args, **kwargs)
        finally:
            _connections_check()


def db_sync_to_async[**P, T](func: Callable[P, T]) -> Callable[P, Awaitable[T]]:
    """Like Channels' `database_sync_to_async`, on the database threads (decorator or call)."""
    return DatabaseThread(func)


def db_threads_close() -> None:
    """Waits for the work on the database threads to end, then closes their connections
    (tests: before a test database is flushed or dropped)."""
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
