"""Token authentication of the worker WebSocket, done before the handshake is accepted."""

from __future__ import annotations

import logging

from registry.models import WorkerCredential
from registry.services import credential_authenticate
from ums_site.db import db_sync_to_async

logger = logging.getLogger(__name__)


def bearer_token(headers: list[tuple[bytes, bytes]]) -> str | None:
    for name, value in headers:
        if name.lower() == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    return None


class WorkerTokenAuthMiddleware:
    """Resolves `Authorization: Bearer <token>` to an active credential, or refuses.

    A refused handshake is closed before `websocket.accept`, which Daphne answers with
    HTTP 403: a worker without a valid token never gets a socket.
    """

    def __init__(self, inner) -> None:
        self.inner = inner

    async def __call__(self, scope, receive, send):
        token = bearer_token(scope.get("headers", []))
        credential: WorkerCredential | None = None
        if token is not None:
            credential = await db_sync_to_async(credential_authenticate)(token)
        if credential is None:
            client = scope.get("client") or ("?", 0)
            logger.warning("worker handshake refused from %s: missing or invalid token", client[0])
            return await refuse_handshake(receive, send)
        return await self.inner(dict(scope, worker_credential=credential), receive, send)


async def refuse_handshake(receive, send) -> None:
    message = await receive()
    if message["type"] == "websocket.connect":
        await send({"type": "websocket.close", "code": 4401})
