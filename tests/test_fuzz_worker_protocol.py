"""Property-based fuzzing of the worker protocol: any frame is answered, none changes state.

A worker sends arbitrary text, arbitrary JSON and frames of every known type with arbitrary
fields. Each must be refused with an `error` frame (or, for a valid frame, answered as the
protocol says), the socket must stay open, and nothing in the database may change.
"""

from __future__ import annotations

import json

import pytest
from asgiref.sync import async_to_sync
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobs.models import Job, JobOutput
from registry.models import Process, WorkerSession
from registry.protocol import WORKER_MESSAGES
from tests.factories import communicator, hello, receive, send
from ums_site.db import db_sync_to_async

pytestmark = pytest.mark.django_db(transaction=True)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
field_values = json_values | st.uuids().map(str)
typed_frames = st.fixed_dictionaries(
    {"type": st.sampled_from(sorted(WORKER_MESSAGES))},
    optional={
        name: field_values
        for name in (
            "job",
            "progress",
            "message",
            "outputs",
            "error",
            "processes",
            "reason",
            "name",
            "capacity",
            "protocol",
            "resume",
        )
    },
)
# (The test communicator cannot send an empty text frame.)
texts = st.text(min_size=1, max_size=40)
frames = st.one_of(texts, json_values.map(json.dumps), typed_frames.map(json.dumps))
PROBE = {"type": "unregister", "processes": []}


def snapshot() -> dict:
    """Everything a frame could change, except the session's last-seen time."""
    return {
        "jobs": list(Job.objects.order_by("pk").values()),
        "outputs": list(JobOutput.objects.order_by("pk").values()),
        "processes": list(Process.objects.order_by("pk").values()),
        "providers": list(Process.providers.through.objects.order_by("pk").values()),
        "sessions": list(WorkerSession.objects.order_by("pk").values("pk", "capacity", "disconnected_at")),
    }


async def answers_to(ws, frame: str) -> list[dict]:
    """The frames the server sends in answer to `frame` (a probe marks where they end)."""
    await ws.send_to(text_data=frame)
    await send(ws, PROBE)
    answers = []
    while (answer := await receive(ws)) != {"type": "registered", "accepted": [], "rejected": []}:
        answers.append(answer)
    return answers


async def fuzz(sequence: list[str], token: str) -> None:
    ws = communicator(token)
    connected, _ = await ws.connect()
    assert connected
    try:
        await send(ws, hello(processes=[]))
        assert (await receive(ws))["type"] == "welcome"
        before = await db_sync_to_async(snapshot)()
        for frame in sequence:
            for answer in await answers_to(ws, frame):
                assert answer["type"] in {"error", "registered"}, answer
        assert await db_sync_to_async(snapshot)() == before
    finally:
        await ws.disconnect()


@pytest.fixture
def token() -> str:
    from registry.services import credential_create

    return credential_create(name="fuzzer")[1]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=st.lists(frames, min_size=1, max_size=8))
def test_no_frame_crashes_the_socket_or_changes_state(token, sequence):
    async_to_sync(fuzz)(sequence, token)
