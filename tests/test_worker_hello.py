"""hello/welcome, process registration and what is listed."""

from __future__ import annotations

import pytest

from registry.models import Process, WorkerSession
from registry.selectors import process_list
from tests.factories import ECHO, description, receive, send, token_create
from ums_site.db import db_sync_to_async

pytestmark = pytest.mark.django_db(transaction=True)


def listed_ids() -> list[str]:
    return list(process_list().values_list("pk", flat=True))


async def test_hello_is_welcomed_with_the_accepted_processes(connect_worker, settings):
    ws, welcome = await connect_worker(capacity=3)
    assert welcome["accepted"] == ["echo"]
    assert welcome["rejected"] == []
    assert welcome["heartbeat"] == settings.UMS_HEARTBEAT_INTERVAL
    session = await db_sync_to_async(WorkerSession.objects.get)(pk=welcome["session"])
    assert session.capacity == 3 and session.is_live
    assert await db_sync_to_async(listed_ids)() == ["echo"]


async def test_an_invalid_description_is_rejected_with_its_reason_and_the_others_kept(connect_worker):
    bad_schema = description(id="bad-schema", inputs={"x": {"schema": {"type": "strin"}}})
    no_version = {k: v for k, v in ECHO.items() if k != "version"} | {"id": "no-version"}
    no_outputs = description(id="no-outputs", outputs={})
    ws, welcome = await connect_worker(processes=[ECHO, bad_schema, no_version, no_outputs, "nonsense"])
    assert welcome["accepted"] == ["echo"]
    reasons = {item["id"]: item["reason"] for item in welcome["rejected"]}
    assert "inputs.x.schema.type" in reasons["bad-schema"]
    assert "'version' is a required property" in reasons["no-version"]
    assert "at least one output" in reasons["no-outputs"]
    assert "must be a JSON object" in reasons[""]
    assert await db_sync_to_async(listed_ids)() == ["echo"]


async def test_a_token_may_only_register_the_ids_its_patterns_allow(connect_worker):
    token = await token_create("noise-only", patterns=["noise-*"])
    ws, welcome = await connect_worker(token, processes=[ECHO, description(id="noise-map")])
    assert welcome["accepted"] == ["noise-map"]
    assert welcome["rejected"] == [
        {"id": "echo", "reason": "this worker token may not register this process id"}
    ]


async def test_providers_of_one_id_must_agree_on_its_version(connect_worker):
    await connect_worker()
    _, welcome = await connect_worker(processes=[description(version="2.0.0")])
    assert welcome["accepted"] == []
    assert "conflicts with version 1.0.0" in welcome["rejected"][0]["reason"]


async def test_register_and_unregister_at_run_time(connect_worker):
    ws, _ = await connect_worker(processes=[])
    await send(ws, {"type": "register", "processes": [description(id="flood")]})
    assert await receive(ws) == {"type": "registered", "accepted": ["flood"], "rejected": []}
    await send(ws, {"type": "unregister", "processes": ["flood", "never-had"]})
    answer = await receive(ws)
    assert answer["accepted"] == ["flood"]
    assert answer["rejected"][0]["id"] == "never-had"
    assert await db_sync_to_async(listed_ids)() == []


async def test_a_process_is_unlisted_when_its_last_session_ends(connect_worker):
    ws, welcome = await connect_worker()
    await ws.disconnect()
    assert await db_sync_to_async(listed_ids)() == []
    session = await db_sync_to_async(WorkerSession.objects.get)(pk=welcome["session"])
    assert not session.is_live
    # The description stays on record for the jobs that used it.
    assert await db_sync_to_async(Process.objects.filter(pk="echo").exists)()


async def test_heartbeat_records_last_seen(connect_worker):
    ws, welcome = await connect_worker()
    before = (await db_sync_to_async(WorkerSession.objects.get)(pk=welcome["session"])).last_seen_at
    await send(ws, {"type": "heartbeat"})
    await send(ws, {"type": "unregister", "processes": []})  # a round trip: the heartbeat is done
    await receive(ws)
    after = (await db_sync_to_async(WorkerSession.objects.get)(pk=welcome["session"])).last_seen_at
    assert after > before
