"""WhiteNoise, made async-capable.

One sync-only middleware forces Django to run every request, async views included, inside a
worker thread, so a synchronous execution waiting for a model would hold a thread for the
whole wait. This subclass keeps the chain async: static files are served in a thread, every
other request passes straight through.
"""

from __future__ import annotations

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from whitenoise.middleware import WhiteNoiseMiddleware


class AsyncWhiteNoiseMiddleware(WhiteNoiseMiddleware):
    sync_capable = False
    async_capable = True

    def __init__(self, get_response) -> None:
        super().__init__(get_response)
        assert iscoroutinefunction(get_response)
        markcoroutinefunction(self)

    async def __call__(self, request):
        if self.autorefresh:
            static_file = await sync_to_async(self.find_file)(request.path_info)
        else:
            static_file = self.files.get(request.path_info)
        if static_file is not None:
            return await sync_to_async(self.serve)(static_file, request)
        return await self.get_response(request)
