"""The worker socket refuses the handshake without a valid, active token."""

from __future__ import annotations

import pytest

from registry.models import WorkerCredential
from tests.factories import Communicator, communicator, token_create
from ums_site.db import db_sync_to_async

pytestmark = pytest.mark.django_db(transaction=True)


async def refused(ws) -> bool:
    connected, code = await ws.connect()
    await ws.disconnect()
    return not connected


async def test_it_refuses_a_handshake_without_token():
    assert await refused(communicator(None))


async def test_it_refuses_a_wrong_token():
    await token_create()
    assert await refused(communicator("ums_not-a-real-token"))


async def test_it_refuses_a_non_bearer_authorization():
    token = await token_create()
    ws = communicator(None, headers=[(b"authorization", f"Basic {token}".encode())])
    assert await refused(ws)


async def test_it_refuses_a_revoked_token():
    token = await token_create("revoked")
    await db_sync_to_async(WorkerCredential.objects.filter(name="revoked").update)(is_active=False)
    assert await refused(communicator(token))


async def test_it_accepts_a_valid_token_and_records_its_use():
    token = await token_create("good")
    ws = communicator(token)
    connected, _ = await ws.connect()
    await ws.disconnect()
    assert connected
    credential = await db_sync_to_async(WorkerCredential.objects.get)(name="good")
    assert credential.last_used_at is not None


async def test_it_refuses_origins_not_allowed(settings):
    # The origin check wraps the socket at import time; build one with a restricted list.
    from channels.security.websocket import OriginValidator

    from registry.auth import WorkerTokenAuthMiddleware
    from registry.consumers import WorkerConsumer

    app = OriginValidator(WorkerTokenAuthMiddleware(WorkerConsumer.as_asgi()), ["https://ok.example"])
    token = await token_create()
    headers = [(b"authorization", f"Bearer {token}".encode()), (b"origin", b"https://evil.example")]
    assert await refused(Communicator(app, "/ws/workers/", headers=headers))
