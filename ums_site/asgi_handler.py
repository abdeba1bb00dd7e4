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

Django closes every response in the request's thread, for the `request_finished` receivers
(they close the thread's database connections and caches). An API request does its database
work on the database threads (ums_site/db.py) and never uses its own: its response is closed
in the event loop instead, where the receivers find nothing of the thread's to close. That
hop was the last one of such a request: without it, in two A/B runs of three rounds, jobs
took less in five rounds of six, synchronous ones 0.1 to 0.5 ms and asynchronous ones 0.2 to
0.9 ms (benchmarks/profile_notes.md).
"""

from __future__ import annotations

import asyncio
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing

import django
from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, reset_queries
from django.http import HttpResponseBase
from django.urls import set_script_prefix

# Threads kept idle for the next requests; a burst beyond them gets threads that end with it.
IDLE_REQUEST_THREADS = 32


class _RequestProcessed(Exception):
    """Ends the request's task group once the response is sent (as Django's own handler)."""


class RequestThread(ThreadPoolExecutor):
    """A request's own thread, which knows whether the request has used it."""

    def __init__(self) -> None:
        super().__init__(max_workers=1, thread_name_prefix="ums-request")
        self.used = False

    def submit(self, fn, /, *args, **kwargs) -> Future:
        self.used = True
        return super().submit(fn, *args, **kwargs)


class PooledThreadASGIHandler(ASGIHandler):
    def __init__(self) -> None:
        super().__init__()
        self._idle: list[RequestThread] = []

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        thread = self._idle.pop() if self._idle else RequestThread()
        thread.used = False
        try:
            # Tasks the request starts must end with it (asgiref refuses their sync calls after).
            async with ThreadSensitiveContext(executor=thread):
                await self._handle(scope, receive, send, thread)
        finally:
            self._release(thread)

    async def _handle(self, scope, receive, send, thread: RequestThread) -> None:
        """Django's `handle`, closing the response in the event loop if the request never
        used its thread (see the module's doc)."""
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        with closing(body_file):
            set_script_prefix(get_script_prefix(scope))
            await request_started.asend(sender=self.__class__, scope=scope)
            request, error_response = self.create_request(scope, body_file)
            if request is None:
                await self.send_response(error_response, send)
                await _closed(error_response, thread)
                return
            response = await self._responded(request, receive, send)
            if response is None:
                await request_finished.asend(sender=self.__class__)
            else:
                await _closed(response, thread)

    async def _responded(self, request, receive, send) -> HttpResponseBase | None:
        """The response once sent, or None if the client left first."""
        response = None
        try:
            try:
                async with asyncio.TaskGroup() as group:
                    group.create_task(self.listen_for_disconnect(receive))
                    response = await self.run_get_response(request)
                    await self.send_response(response, send)
                    raise _RequestProcessed
            except* (_RequestProcessed, RequestAborted):
                pass
        except BaseExceptionGroup as exception_group:
            if len(exception_group.exceptions) == 1:
                raise exception_group.exceptions[0] from None
            raise
        return response

    def _release(self, thread: RequestThread) -> None:
        if len(self._idle) < IDLE_REQUEST_THREADS:
            self._idle.append(thread)
        else:
            thread.shutdown(wait=False)  # it ends once idle; nothing waits for it


async def _closed(response: HttpResponseBase, thread: RequestThread) -> None:
    """Closes the response in the request's thread if the request used it, else here."""
    if thread.used:
        await sync_to_async(response.close)()
    else:
        response.close()


def _database_chores_at_request_end() -> None:
    request_started.disconnect(close_old_connections)
    request_started.disconnect(reset_queries)
    request_finished.connect(reset_queries)


def get_asgi_application() -> PooledThreadASGIHandler:
    """Like `django.core.asgi.get_asgi_application`, with the pooled handler."""
    django.setup(set_prefix=False)
    _database_chores_at_request_end()
    return PooledThreadASGIHandler()
