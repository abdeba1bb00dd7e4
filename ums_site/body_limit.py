"""A ceiling on HTTP request bodies, enforced before Django reads them.

Django's ASGI handler spools the whole body of every request to a temporary file before any
view (or authentication) runs, so without this an anonymous client could fill the disk with
one request. Bodies larger than the largest any endpoint takes (execute requests:
UMS_MAX_REQUEST_BYTES; output uploads: UMS_MAX_UPLOAD_BYTES) get 413 problem details at once,
by their Content-Length or, when streamed without one, as soon as they pass the ceiling.
Under Daphne, `daphne_requests` applies the same ceiling earlier, while Twisted receives the
body, which it would otherwise store whole before the application sees the request.
"""

from __future__ import annotations

import json
from http import HTTPStatus

from django.conf import settings

from ogc.problems import HTTP_TYPES, problem_body


def body_ceiling() -> int:
    return max(settings.DATA_UPLOAD_MAX_MEMORY_SIZE, settings.UMS_MAX_UPLOAD_BYTES)


class BodyTooLarge(Exception):
    pass


class RequestBodyLimit:
    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        ceiling = body_ceiling()
        if _declared_length(scope) > ceiling:
            return await _refuse(scope, send, ceiling)
        received = 0
        started = False

        async def bounded_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > ceiling:
                    raise BodyTooLarge
            return message

        async def tracked_send(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            return await self.app(scope, bounded_receive, tracked_send)
        except BodyTooLarge:
            if not started:
                await _refuse(scope, send, ceiling)


def _declared_length(scope) -> int:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return 0
    return 0


def too_large_body(ceiling: int, path: str = "") -> bytes:
    """The 413 problem details of a body past `ceiling`."""
    detail = f"The request body is larger than the limit of {ceiling} bytes."
    status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    return json.dumps(problem_body(status, HTTP_TYPES + "413", status.phrase, detail, path)).encode()


async def _refuse(scope, send, ceiling: int) -> None:
    body = too_large_body(ceiling, scope["path"])
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
