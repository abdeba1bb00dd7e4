"""adrf's async APIView, with DRF's checks run in the event loop when they cannot do I/O."""

from __future__ import annotations

from adrf.views import APIView
from asgiref.sync import iscoroutinefunction, sync_to_async
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.http import HttpResponse, HttpResponseBase
from rest_framework import views
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response


class AsyncAPIView(APIView):
    """DRF's `initial` (content negotiation, authentication, permissions, throttles) is
    synchronous, so adrf runs it in the request's thread: one thread hop on every request,
    status polls included, a fifth of the event loop's CPU for hops in a burst of jobs. It can
    only do I/O to look credentials up (an Authorization header, a session cookie: a request
    without them is anonymous, and an anonymous request is refused without a query where access
    is restricted) or to count a throttled request in a shared cache. Without those, it runs
    in the event loop; should a check ever query the database there, Django refuses it.
    """

    # adrf's calls `async_to_sync` for async throttles even when there are none (a hop back into
    # the event loop, or an error there): this project's throttles are all synchronous.
    check_throttles = views.APIView.check_throttles

    async def async_dispatch(self, request, *args, **kwargs):
        # adrf's own, but for where `initial` runs.
        self.args = args
        self.kwargs = kwargs
        request = self.initialize_request(request, *args, **kwargs)
        self.request = request
        self.headers = self.default_response_headers
        try:
            if self._initial_needs_thread(request):
                await sync_to_async(self.initial)(request, *args, **kwargs)
            else:
                self.initial(request, *args, **kwargs)
            method = request.method.lower()
            handler = self.http_method_not_allowed
            if method in self.http_method_names:
                handler = getattr(self, method, self.http_method_not_allowed)
            if iscoroutinefunction(handler):
                response = await handler(request, *args, **kwargs)
            else:
                response = await sync_to_async(handler)(request, *args, **kwargs)
        except Exception as exc:
            response = self.handle_exception(exc)
        self.response = self.finalize_response(request, response, *args, **kwargs)
        return _rendered_in_loop(self.response)

    def _initial_needs_thread(self, request) -> bool:
        django_request = request._request
        credentials = "HTTP_AUTHORIZATION" in django_request.META
        if credentials or settings.SESSION_COOKIE_NAME in django_request.COOKIES:
            return True
        counts = any(getattr(throttle, "rate", None) is not None for throttle in self.get_throttles())
        return counts and not isinstance(caches["default"], LocMemCache)


def _rendered_in_loop(response: HttpResponseBase) -> HttpResponseBase:
    """A JSON response rendered here, in the event loop, as a plain `HttpResponse`.

    Django renders a response that has a `render` method in the request's thread: a thread hop
    per request, for what is, in JSON, `json.dumps` of data the view already serialized (a
    tenth of a burst of jobs' throughput in the benchmark). Templates may query the database,
    so HTML is still rendered there.
    """
    if not isinstance(response, Response) or not isinstance(response.accepted_renderer, JSONRenderer):
        return response
    response.render()
    plain = HttpResponse(response.content, status=response.status_code, headers=response.headers)
    plain.cookies = response.cookies
    return plain
