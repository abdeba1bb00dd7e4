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
import atexit
import contextvars
import functools
import queue
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from typing import Any

from django.conf import settings
from django.db import connections

# What a database thread is given: the call, the future its outcome goes to, and the event
# loop of that future (None: a concurrent future, settled in the thread).
_Call = tuple[Callable[[], Any], asyncio.Future | Future, asyncio.AbstractEventLoop | None]


class _Threads:
    """`count` threads, started at once, taking calls in order from one queue; at the
    interpreter's exit, the calls under way end before the threads do.

    asyncio's `run_in_executor` on a ThreadPoolExecutor chained a concurrent future to an
    asyncio one for every call: a hop there and back took 100 µs in a loop of empty calls,
    45 µs here, where the thread settles the caller's future in the event loop itself.
    """

    def __init__(self, count: int) -> None:
        self._calls: queue.SimpleQueue[_Call | None] = queue.SimpleQueue()
        self.count = count
        self._threads = [
            threading.Thread(target=self._serve, name=f"ums-db_{index}", daemon=True)
            for index in range(count)
        ]
        for thread in self._threads:
            thread.start()
        atexit.register(self._stop)

    def put(self, call: _Call) -> None:
        self._calls.put(call)

    def _serve(self) -> None:
        while (call := self._calls.get()) is not None:
            run, future, loop = call
            # Read here, a flag set once: a stale read only runs a call its caller left.
            if future.cancelled():
                continue
            try:
                result, error = run(), None
            except BaseException as raised:  # the caller's to handle, as from the call itself
                result, error = None, raised
            if loop is None:
                _settle(future, result, error)
            else:
                _settle_in(loop, future, result, error)

    def _stop(self) -> None:
        for _ in self._threads:
            self._calls.put(None)
        for thread in self._threads:
            thread.join()


_threads: _Threads | None = None
_threads_lock = threading.Lock()


def _db_threads() -> _Threads:
    global _threads
    with _threads_lock:
        if _threads is None:
            _threads = _Threads(settings.UMS_DB_THREADS)
        return _threads


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
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        run = functools.partial(contextvars.copy_context().run, self._checked, *args, **kwargs)
        _db_threads().put((run, future, loop))
        return await future

    def _checked(self, *args: Any, **kwargs: Any) -> Any:
        _connections_check()
        try:
            return self.func(*args, **kwargs)
        finally:
            _connections_check()


def _settle_in(
    loop: asyncio.AbstractEventLoop, future: asyncio.Future, result: Any, error: BaseException | None
) -> None:
    """Hands a call's outcome to its future, in the future's event loop (from a database thread)."""
    try:
        loop.call_soon_threadsafe(_settle, future, result, error)
    except RuntimeError:  # the loop is closed: nothing awaits the outcome any more
        pass


def _settle(future: asyncio.Future | Future, result: Any, error: BaseException | None) -> None:
    if future.cancelled():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


def db_sync_to_async[**P, T](func: Callable[P, T]) -> Callable[P, Awaitable[T]]:
    """Like Channels' `database_sync_to_async`, on the database threads (decorator or call)."""
    return DatabaseThread(func)


def db_threads_close() -> None:
    """Waits for the work on the database threads to end, then closes their connections
    (tests: before a test database is flushed or dropped)."""
    threads = _threads
    if threads is None:
        return
    # Each thread must take one call: the barrier holds every call until all threads have one.
    barrier = threading.Barrier(threads.count)

    def close_mine() -> None:
        barrier.wait(timeout=30)
        connections.close_all()

    closed = [Future() for _ in range(threads.count)]
    for future in closed:
        threads.put((close_mine, future, None))
    for future in closed:
        future.result()
