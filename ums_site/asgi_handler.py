"""Django's ASGI handler, with each request's sync thread taken from a pool instead of started.

Django runs a request's synchronous code (the request signals' receivers, which close stale
database connections, the response's `close`, sync views and middleware) in a thread of the
request's own: asgiref starts a thread for it, and on exit a second thread that joins the
first. That was two threads started per request, a third of Django's own CPU per request in
the benchmark profile, status polls included. asgiref lets the caller supply the executor of
a `ThreadSensitiveContext`, so here a request borrows an idle single-thread executor and
gives it back when it ends. Each request still has its thread to itself while it runs, as
with Django's default; between requests the thread is idle, as a WSGI server's threads are,
and Django's `request_finished` receivers have closed its database connections by then.

That also makes the database chores at a request's start redundant, and they cost a thread
hop of their own (`request_started` has only synchronous receivers): the connections they
would close were closed at the end of the thread's last request (`CONN_MAX_AGE` is 0), and
the debug query log they reset is reset there instead.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import django
from asgiref.sync import ThreadSensitiveContext
from django.core.handlers.asgi import ASGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, reset_queries

# Threads kept idle for the next requests; a burst beyond them gets threads that end with it.
IDLE_REQUEST_THREADS = 32


class PooledThreadASGIHandler(ASGIHandler):
    def __init__(self) -> None:
        super().__init__()
        self._idle: list[ThreadPoolExecutor] = []

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        executor = self._idle.pop() if self._idle else self._executor_new()
        try:
            # Tasks the request starts must end with it (asgiref refuses their sync calls after).
            async with ThreadSensitiveContext(executor=executor):
                await self.handle(scope, receive, send)
        finally:
            self._release(executor)

    def _executor_new(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix="ums-request")

    def _release(self, executor: ThreadPoolExecutor) -> None:
        if len(self._idle) < IDLE_REQUEST_THREADS:
            self._idle.append(executor)
        else:
            executor.shutdown(wait=False)  # its thread ends once idle; nothing waits for it


def _database_chores_at_request_end() -> None:
    request_started.disconnect(close_old_connections)
    request_started.disconnect(reset_queries)
    request_finished.connect(reset_queries)


def get_asgi_application() -> PooledThreadASGIHandler:
    """Like `django.core.asgi.get_asgi_application`, with the pooled handler."""
    django.setup(set_prefix=False)
    _database_chores_at_request_end()
    return PooledThreadASGIHandler()
