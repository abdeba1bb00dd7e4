"""An execute request is checked against its process as the last request read it, and its job
written only if the process is unchanged: a changed description, a process nothing provides
any more, or one deleted, is read anew."""

from __future__ import annotations

import pytest
from django.test import AsyncClient

from jobs import services
from jobs.models import Job
from ogc import views
from registry import selectors
from registry.models import Process
from tests.factories import description, receive, send
from ums_site.db import db_sync_to_async

pytestmark = pytest.mark.django_db(transaction=True)

NUMBER_INPUT = {"message": {"title": "Message", "schema": {"type": "integer"}}}


async def execute(message: object):
    return await AsyncClient().post(
        "/processes/echo/execution",
        {"inputs": {"message": message}},
        content_type="application/json",
        headers={"Prefer": "respond-async"},
    )


async def test_a_changed_description_checks_the_next_request(connect_worker):
    ws, _ = await connect_worker(capacity=4)
    assert (await execute("words")).status_code == 201
    await send(ws, {"type": "register", "processes": [description(inputs=NUMBER_INPUT)]})
    assert (await receive(ws))["type"] == "job.execute"
    assert (await receive(ws))["type"] == "registered"

    refused = await execute("words")
    assert refused.status_code == 400, refused.content
    assert "message" in refused.json()["detail"]
    assert (await execute(3)).status_code == 201  # refused by the description it replaced
    assert await db_sync_to_async(Job.objects.count)() == 2


async def test_a_process_nothing_provides_any_more_is_not_found(connect_worker):
    ws, _ = await connect_worker()
    assert (await execute("first")).status_code == 201
    await ws.disconnect()

    response = await execute("second")
    assert response.status_code == 404, response.content
    assert await db_sync_to_async(Job.objects.count)() == 1


async def test_a_deleted_process_is_not_found(connect_worker):
    await connect_worker(capacity=4)
    assert (await execute("first")).status_code == 201
    await db_sync_to_async(Job.objects.all().delete)()
    await db_sync_to_async(Process.objects.all().delete)()

    response = await execute("second")
    assert response.status_code == 404, response.content
    assert not await db_sync_to_async(Job.objects.exists)()


async def test_an_unchanged_process_is_not_read_again(connect_worker, monkeypatch):
    await connect_worker(capacity=4)
    assert (await execute("first")).status_code == 201
    reads, read = [], selectors.process_get

    def process_get(process_id: str):
        reads.append(process_id)
        return read(process_id)

    monkeypatch.setattr(views.registry_selectors, "process_get", process_get)
    monkeypatch.setattr(services, "process_get", process_get)
    assert (await execute("second")).status_code == 201
    assert reads == []
    assert await db_sync_to_async(Job.objects.filter(session__isnull=False).count)() == 2
