"""Malformed frames get an `error` frame, change nothing, and the socket stays open."""

from __future__ import annotations

import uuid

import pytest

from tests.factories import communicator, hello, receive, send, token_create

pytestmark = pytest.mark.django_db(transaction=True)


async def error_for(ws, text: str) -> dict:
    await ws.send_to(text_data=text)
    answer = await receive(ws)
    assert answer["type"] == "error"
    return answer


async def test_the_first_frame_must_be_hello(transactional_db):
    ws = communicator(await token_create())
    await ws.connect()
    try:
        await send(ws, {"type": "heartbeat"})
        assert (await receive(ws))["code"] == "hello-required"
        await send(ws, hello())
        assert (await receive(ws))["type"] == "welcome"
    finally:
        await ws.disconnect()


@pytest.mark.parametrize(
    ("text", "code", "detail"),
    [
        ("{not json", "invalid-json", "not valid JSON"),
        ("[1, 2]", "invalid-frame", "must be a JSON object"),
        ('{"type": "teleport"}', "unknown-type", "unknown message type 'teleport'"),
        ('{"no": "type"}', "unknown-type", "unknown message type None"),
        ('{"type": "job.progress", "job": "x"}', "invalid-frame", "job.progress"),
        ('{"type": "heartbeat", "extra": 1}', "invalid-frame", "Additional properties"),
        (
            '{"type": "hello", "protocol": 1, "name": "again", "capacity": 1, "processes": []}',
            "already-hello",
            "",
        ),
    ],
)
async def test_malformed_frames_are_answered_with_an_error(connect_worker, text, code, detail):
    ws, _ = await connect_worker()
    answer = await error_for(ws, text)
    assert answer["code"] == code
    assert detail in answer["detail"]
    # The socket is still usable.
    await send(ws, {"type": "unregister", "processes": []})
    assert (await receive(ws))["type"] == "registered"


async def test_a_wrong_field_type_names_the_field(connect_worker):
    ws, _ = await connect_worker()
    job = str(uuid.uuid4())
    answer = await error_for(ws, f'{{"type": "job.progress", "job": "{job}", "progress": 101}}')
    assert "progress" in answer["detail"] and answer["job"] == job


async def test_binary_frames_are_refused(connect_worker):
    ws, _ = await connect_worker()
    await ws.send_to(bytes_data=b"\x00\x01")
    assert (await receive(ws))["code"] == "invalid-frame"


async def test_frames_over_the_size_limit_are_refused(connect_worker, settings):
    settings.UMS_MAX_FRAME_BYTES = 2048
    ws, _ = await connect_worker()
    await error_for(ws, '{"type": "heartbeat", "pad": "' + "x" * 4096 + '"}')


async def test_reports_on_jobs_not_assigned_to_the_session_are_refused(connect_worker):
    ws, _ = await connect_worker()
    job = str(uuid.uuid4())
    await send(ws, {"type": "job.succeeded", "job": job, "outputs": {"echo": {"value": "x"}}})
    answer = await receive(ws)
    assert answer == {
        "type": "error",
        "code": "not-assigned",
        "detail": "this job is not assigned to your session",
        "job": job,
    }
