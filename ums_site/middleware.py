"""Django's stock middleware, with its hooks run in the event loop instead of a thread.

Under ASGI, Django runs every `process_request` / `process_response` / `process_view` hook of
a `MiddlewareMixin` middleware through `sync_to_async`: one thread hop each, 14 for every
request with this project's list (counted by `benchmarks.profiled_server`: more hops than the
rest of a whole job). These hooks only read and set headers, cookies and attributes, so they
run inline here. The two that can touch the database, the session's save and a message
store that may load the session, still go to a thread, only when they have that work to do.
"""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import middleware as auth
from django.contrib.messages import middleware as messages
from django.contrib.messages.storage import default_storage
from django.contrib.sessions import middleware as sessions
from django.middleware import clickjacking, common, csrf, security
from django.utils.functional import SimpleLazyObject, empty


class InlineHooks:
    """For a `MiddlewareMixin` subclass whose hooks do no I/O unless `response_needs_thread`."""

    def response_needs_thread(self, request, response) -> bool:
        return False

    async def __acall__(self, request):
        response = self.process_request(request) if hasattr(self, "process_request") else None
        response = response or await self.get_response(request)
        if not hasattr(self, "process_response"):
            return response
        if self.response_needs_thread(request, response):
            return await sync_to_async(self.process_response, thread_sensitive=True)(request, response)
        return self.process_response(request, response)


class SecurityMiddleware(InlineHooks, security.SecurityMiddleware):
    pass


class SessionMiddleware(InlineHooks, sessions.SessionMiddleware):
    def response_needs_thread(self, request, response) -> bool:
        session = getattr(request, "session", None)
        return session is not None and (session.modified or settings.SESSION_SAVE_EVERY_REQUEST)


class CommonMiddleware(InlineHooks, common.CommonMiddleware):
    pass


class CsrfViewMiddleware(InlineHooks, csrf.CsrfViewMiddleware):
    async def process_view(self, request, callback, callback_args, callback_kwargs):
        # A coroutine, so that Django's handler calls it without a thread hop. The request body
        # it may read is in memory already (the ASGI handler reads it before the view).
        return super().process_view(request, callback, callback_args, callback_kwargs)


class AuthenticationMiddleware(InlineHooks, auth.AuthenticationMiddleware):
    pass  # request.user is lazy: the database is read where it is used, in the view.


class MessageMiddleware(InlineHooks, messages.MessageMiddleware):
    """The message store is built when a view first uses it (admin and HTML pages): building
    it makes a cookie signer, a tenth of the event loop's CPU for an API request."""

    def process_request(self, request) -> None:
        request._messages = SimpleLazyObject(lambda: default_storage(request))

    def response_needs_thread(self, request, response) -> bool:
        # Storing messages may load the session from the database.
        store = self._store_used(request)
        return store is not None and (store.used or store.added_new)

    def process_response(self, request, response):
        return response if self._store_used(request) is None else super().process_response(request, response)

    @staticmethod
    def _store_used(request):
        store = getattr(request, "_messages", None)
        return None if isinstance(store, SimpleLazyObject) and store._wrapped is empty else store


class XFrameOptionsMiddleware(InlineHooks, clickjacking.XFrameOptionsMiddleware):
    pass
