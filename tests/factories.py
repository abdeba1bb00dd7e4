"""Test data: process descriptions and worker connections."""

from __future__ import annotations

import copy
import json
from typing import Any

from channels.testing import WebsocketCommunicator
from django.test import AsyncClient

from registry.services import credential_create

# Imported once, at collection: importing the ASGI module sets Django up again, which would
# reconfigure logging in the middle of a test.
from ums_site.asgi import application
from ums_site.db import db_sync_to_async

ECHO = {
    "id": "echo",
    "version": "1.0.0",
    "title": "Echo",
    "jobControlOptions": ["sync-execute", "async-execute"],
    "inputs": {"message": {"title": "Message", "schema": {"type": "string"}}},
    "outputs": {"echo": {"title": "Echo", "schema": {"type": "string"}}},
}


def description(**changes: Any) -> dict[str, Any]:
    """The echo description with some fields changed."""
    return {**copy.deepcopy(ECHO), **changes}


async def token_create(name: str = "test-worker", patterns: list[str] | None = None) -> str:
    _, token = await db_sync_to_async(credential_create)(name=name, process_patterns=patterns)
    return token


class Communicator(WebsocketCommunicator):
    """Channels' test client, with a handshake timeout for a busy shared machine.

    The handshake does database work; Channels' default of one second fails spuriously when
    other test processes load the machine.
    """

    async def connect(self, timeout: float = 10):  # noqa: ASYNC109 (the overridden signature)
        return await super().connect(timeout)


def communicator(token: str | None, *, headers: list[tuple[bytes, bytes]] | None = None) -> Communicator:

    all_headers = list(headers or [])
    if token is not None:
        all_headers.append((b"authorization", f"Bearer {token}".encode()))
    return Communicator(application, "/ws/workers/", headers=all_headers)


async def send(ws: WebsocketCommunicator, frame: dict[str, Any]) -> None:
    await ws.send_to(text_data=json.dumps(frame))


async def receive(ws: WebsocketCommunicator, seconds: float = 5) -> dict[str, Any]:
    return json.loads(await ws.receive_from(timeout=seconds))


def hello(processes: list[dict] | None = None, capacity: int = 1, **extra: Any) -> dict[str, Any]:
    return {
        "type": "hello",
        "protocol": 1,
        "name": "test",
        "capacity": capacity,
        "processes": [ECHO] if processes is None else processes,
        **extra,
    }


async def submitted(message: str = "hi") -> str:
    """The id of an asynchronous execution of the echo, submitted through the API."""
    response = await AsyncClient().post(
        "/processes/echo/execution",
        {"inputs": {"message": message}},
        content_type="application/json",
        headers={"Prefer": "respond-async"},
    )
    assert response.status_code == 201, response.content
    return response.json()["jobID"]


WORKER_FRAME_JOB = "00000000-0000-4000-8000-000000000007"
# One valid frame of every type a worker sends.
WORKER_FRAMES = {
    "hello": {
        "type": "hello",
        "protocol": 1,
        "name": "w",
        "capacity": 2,
        "processes": [ECHO],
        "resume": [WORKER_FRAME_JOB],
    },
    "register": {"type": "register", "processes": [ECHO]},
    "unregister": {"type": "unregister", "processes": ["echo"]},
    "heartbeat": {"type": "heartbeat"},
    "job.started": {"type": "job.started", "job": WORKER_FRAME_JOB},
    "job.progress": {"type": "job.progress", "job": WORKER_FRAME_JOB, "progress": 10, "message": "m"},
    "job.succeeded": {
        "type": "job.succeeded",
        "job": WORKER_FRAME_JOB,
        "outputs": {"echo": {"value": "x", "mediaType": "text/plain"}},
    },
    "job.failed": {"type": "job.failed", "job": WORKER_FRAME_JOB, "error": {"title": "t", "detail": "d"}},
    "job.rejected": {"type": "job.rejected", "job": WORKER_FRAME_JOB, "reason": "busy"},
}
